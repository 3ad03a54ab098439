"""保密工单: the hotline marks (or unmarks) an order's caller as confidential at the caller's request.

The flag lives on the call (hotline.models.Call.confidential); who then sees the caller is decided
by hotline.access.sees_caller alone. The lead unit is told that it contacts the caller through the
center from now on.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.models import Call, User
from workorders.lifecycle import actions
from workorders.lifecycle.machinery import Ev, as_now, clean_text, lock, record
from workorders.models import WorkOrder


def order_set_confidential(
    order: WorkOrder, *, actor: User, confidential: bool, reason: str, now: datetime | None = None
) -> WorkOrder:
    now = as_now(now)
    reason = clean_text(reason, label=_("说明"))
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "confidential")
        Call.objects.filter(pk=order.call_id).update(confidential=confidential)
        record(
            order,
            kind=Ev.CONFIDENTIAL_SET if confidential else Ev.CONFIDENTIAL_CLEARED,
            actor=actor,
            at=now,
            note=reason,
        )
        if confidential:
            actions.tell(
                "confidential",
                order,
                to="lead_unit",
                title=_("工单 %(n)s 已设为保密工单，请通过 12345 热线中心联系市民") % {"n": order.number},
            )
    order.call.refresh_from_db(fields=["confidential"])
    return order
