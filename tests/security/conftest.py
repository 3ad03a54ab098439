from tests.intake.conftest import _fresh_reference_caches, intake_reference  # noqa: F401
from tests.workorders.conftest import category, make_order, signed_order  # noqa: F401
