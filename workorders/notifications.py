"""In-app notifications. Call `notify_units` from inside the transaction that caused them: the rows
commit with it, and outbound delivery (added by the handling capability) is queued on commit."""

from __future__ import annotations

from collections.abc import Iterable

from hotline.models import User
from workorders.models import Notification, WorkOrder


def notify_units(
    *,
    units: Iterable,
    kind: str,
    title: str,
    body: str = "",
    order: WorkOrder | None = None,
    url: str = "",
    roles: Iterable[str] | None = None,
) -> int:
    """One notification for every active member of each unit (optionally only some roles)."""
    members = User.objects.filter(unit__in=list(units), is_active=True)
    if roles is not None:
        members = members.filter(role__in=list(roles))
    rows = [
        Notification(user_id=uid, kind=kind, title=title[:200], body=body, order=order, url=url)
        for uid in members.values_list("id", flat=True)
    ]
    Notification.objects.bulk_create(rows, batch_size=500)
    return len(rows)
