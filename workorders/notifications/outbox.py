"""In-app notifications, and their outbound channels.

Call `notify_units` from inside the transaction that caused them: the rows (one per active member
of each unit) are written with a single INSERT … SELECT and commit with it. Outbound delivery
(e-mail, signed webhook) never happens in a request and costs the request nothing: every few
seconds the beat task `queue_outbound` claims the rows not yet looked at (a small partial index on
queued_at IS NULL), writes one outbox row (`Delivery`) per target each has, and dispatches due
rows to the delivery queue (see delivery.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from hotline.live.signals import publish
from hotline.models import User
from workorders.models import Notification, WebhookEndpoint, WorkOrder
from workorders.notifications import delivery
from workorders.notifications.models import Delivery

QUEUE_BATCH = 1000


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
    """One notification for every active member of each unit (optionally only some roles), written
    in one statement. Returns how many."""
    unit_ids = sorted({getattr(u, "pk", u) for u in units if u is not None})
    if not unit_ids:
        return 0
    role_list = list(roles) if roles is not None else None
    if role_list == []:
        return 0
    n, u = Notification._meta.db_table, User._meta.db_table
    sql = (
        f"INSERT INTO {n} (user_id, kind, title, body, url, order_id, created_at)"
        f" SELECT id, %s, %s, %s, %s, %s, %s FROM {u}"
        # A unit's notifications go to its center; members of its sections (二次派单) hear about the
        # orders assigned to them from lifecycle/assignments.py.
        f" WHERE is_active = %s AND section_id IS NULL AND unit_id IN ({', '.join(['%s'] * len(unit_ids))})"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # stored exactly as the ORM would
    params = [kind, str(title)[:200], str(body), url, order.pk if order is not None else None, now, True]
    params += unit_ids
    if role_list is not None:
        sql += f" AND role IN ({', '.join(['%s'] * len(role_list))})"
        params += role_list
    publish(units=unit_ids)  # their unread badges, after the commit
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def notify_users(
    user_ids: Iterable[int], *, kind: str, title: str, body: str = "", order: WorkOrder | None = None, url: str = ""
) -> int:
    """One notification for each of these people (inside a unit: a section's members, its center)."""
    ids = sorted(set(user_ids))
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=uid,
                kind=kind,
                title=str(title)[:200],
                body=body,
                url=url,
                order_id=order.pk if order is not None else None,
            )
            for uid in ids
        ]
    )
    return len(ids)


def recipients_by_unit(unit_ids: Iterable[int], roles: Iterable[str] | None = None) -> dict[int, list[int]]:
    """Who a unit's notifications go to, for callers that write rows with a title each (the sweep,
    surge alerts): the same rule as notify_units — its active members, optionally of some roles."""
    members = User.objects.filter(unit_id__in=list(unit_ids), is_active=True, section__isnull=True)
    if roles is not None:
        members = members.filter(role__in=list(roles))
    out: dict[int, list[int]] = {}
    for user_id, unit_id in members.values_list("id", "unit_id").order_by("id"):
        out.setdefault(unit_id, []).append(user_id)
    return out


def queue_outbound(limit: int = QUEUE_BATCH) -> int:
    """Claim up to `limit` notifications not yet looked at (oldest first; concurrent runs skip each
    other's rows) and write their outbox rows, one per target: the member's e-mail (when e-mail is
    on), each active webhook for everyone or for the member's unit, the global webhook. Returns how
    many were claimed; the beat task repeats while batches come back full, then dispatches."""
    with transaction.atomic():
        rows = list(
            Notification.objects.filter(queued_at__isnull=True)
            .order_by("id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "user__unit_id", "user__email")[:limit]
        )
        if not rows:
            return 0
        now = timezone.now()
        Notification.objects.filter(pk__in=[row[0] for row in rows], queued_at__isnull=True).update(queued_at=now)
        endpoints = list(WebhookEndpoint.objects.filter(is_active=True).only("pk", "unit_id"))
        Delivery.objects.bulk_create(delivery.rows_for(rows, endpoints, now), batch_size=500, ignore_conflicts=True)
    return len(rows)


def dispatch() -> int:
    """Start delivery batches for due outbox rows (see delivery.dispatch)."""
    return delivery.dispatch(publish=_publish)


def _publish(target: str, token: str) -> None:
    # Imported here: the tasks module imports the transitions, which write notifications here.
    from workorders.tasks import deliver_outbound

    deliver_outbound.delay(target, token)
