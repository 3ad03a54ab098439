"""Numbers from the client — ids, pages, counts and codes — are ASCII digits 0-9, nothing else.

`str.isdigit()` is true for "²", "①" and "١٢٣"; `int()` then fails on the first two (a 500) and
reads the third as 123, an id nobody typed. Django's and DRF's integer form fields, and the ORM,
turn "١٢٣" and fullwidth "１２３" into 123 as well. So every number taken from a request goes
through this module: anything but ASCII digits within range is no number at all, refused with one
translated message (`NotANumber`: the API answers 400, pages and Open311 answer 400 through the
edge middleware). Free text that happens to be digits stays text: only the fields parsed here are
numbers.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from hotline.errors import DomainError

# 18 digits at most: the id columns are 64-bit (< 2**63, 19 digits), and no id, page, count or
# code we keep comes near it (order numbers have 14 digits).
MAX_DIGITS = 18
ID_MAX = 10**MAX_DIGITS - 1


class NotANumber(DomainError):
    """A number parameter that is not ASCII digits within range."""

    def __init__(self, field: str, *, huge: bool = False):
        if huge:
            message = _("数字过大：编号和数量最多 18 位。")
        else:
            message = _("%(field)s 应为整数，只能使用半角数字 0-9。") % {"field": field}
        super().__init__(message, code="huge_integer" if huge else "not_a_number")
        self.field = field


def ascii_digits(value) -> bool:
    """Text made of ASCII digits only (no sign, no white space, not empty)."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def ascii_int(value, *, low: int = 0, high: int = ID_MAX) -> int | None:
    """`value` as an int when it is ASCII digits (surrounding white space allowed) or a whole JSON
    number, within [low, high]; otherwise None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and ascii_digits(value.strip()) and len(value.strip()) <= MAX_DIGITS:
        number = int(value.strip())
    else:
        return None
    return number if low <= number <= high else None


def parse_id(value) -> int | None:
    """A primary key (a positive ASCII integer within the id column's range), or None."""
    return ascii_int(value, low=1)


def _refusal(value, field: str) -> NotANumber:
    text = str(value).strip().lstrip("+-")
    return NotANumber(field, huge=ascii_digits(text) and len(text) > MAX_DIGITS)


def id_param(value, *, field: str) -> int | None:
    """An optional id parameter: None when absent or blank; NotANumber when present but no id."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if (number := parse_id(value)) is None:
        raise _refusal(value, field)
    return number


def int_param(value, *, field: str, low: int = 0, high: int = ID_MAX) -> int | None:
    """An optional whole-number parameter (a page, a count): None when absent or blank;
    NotANumber when present but not ASCII digits within [low, high]."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if (number := ascii_int(value, low=low, high=high)) is None:
        raise _refusal(value, field)
    return number


def page_param(value) -> int:
    """A list's page number: 1 when absent; NotANumber unless ASCII digits (Django's Paginator
    would read "١٢٣" as page 123)."""
    return int_param(value, field="page", low=1) or 1


def code_param(value, *, field: str, length: int) -> str | None:
    """An optional numeric code (a division code of `length` digits): None when absent or blank."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if not ascii_digits(text) or len(text) != length:
        raise _refusal(text, field)
    return text


# --- form fields -------------------------------------------------------------------------------
# Both raise NotANumber rather than a form error: no page offers such a value (ids travel in hidden
# fields and links), so it was made by hand, and the API and the pages answer it alike (a 400).
class IdField(forms.IntegerField):
    """A form's id: ASCII digits within the id range (Django's IntegerField reads "١٢٣" as 123)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return int_param(value, field=str(self.label or ""))


class IdChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField chosen by primary key in ASCII digits: "١٢٣" is no choice, not row 123."""

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, self.queryset.model):
            id_param(value, field=str(self.label or ""))
        return super().to_python(value)
