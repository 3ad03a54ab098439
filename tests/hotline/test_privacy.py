import pytest

from hotline.privacy import mask_phone


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13800138000", "138****8000"),
        ("138 0013 8000", "138****8000"),
        ("01063521234", "010****1234"),
        ("63521234", "****1234"),
        ("", ""),
        ("123", "***"),
    ],
)
def test_it_masks_phone_numbers(raw, masked):
    assert mask_phone(raw) == masked
