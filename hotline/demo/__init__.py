"""Demo data, all in one place: accounts and calls, intake reference data, orders at every stage of
handling, callbacks and exclusions, and months of assessment history.

Each part is idempotent and runs in this order; `setup_demo` refuses to touch a database that is not
a development one (DEBUG off) unless the caller says explicitly that it is not production.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.demo import accounts, assessment, callbacks, handling, intake
from hotline.errors import DomainError

PARTS = (accounts, intake, handling, callbacks, assessment)


class NotADemoDatabase(DomainError):
    pass


def setup_demo(*, now=None, not_production: bool = False) -> dict[str, int]:
    if not settings.DEBUG and not not_production:
        raise NotADemoDatabase(
            _(
                "DEBUG 未开启：这可能是生产数据库，拒绝写入演示数据。"
                "确认不是生产环境时请加 --i-know-this-is-not-production。"
            ),
            code="not_a_demo_database",
        )
    now = now or timezone.now()
    created: dict[str, int] = {}
    for part in PARTS:
        created.update(part.setup(now=now))
    return created
