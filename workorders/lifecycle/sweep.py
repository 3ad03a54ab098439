"""The deadline sweep (beat, every minute): warn, mark overdue, escalate.

Each phase takes the due orders in batches through a partial index that holds only orders still to
act on, locks them (skipping rows another worker holds), marks them with a conditional UPDATE and
writes one event and the notifications per order in the same transaction. Running it twice, or in
two workers at once, does nothing twice: a marked order no longer matches. Deadlines live in the
database, so after a broker or worker outage the next sweep catches up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from districts.models import Unit
from hotline import access
from hotline.live.signals import publish
from hotline.models import Role
from workorders.lifecycle import assignments
from workorders.lifecycle.machinery import Ev
from workorders.models import CLOCK_STATES, Notification, OrderEvent, WorkOrder
from workorders.notifications.outbox import recipients_by_unit

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

BATCH = 1000


@dataclass(frozen=True)
class Phase:
    name: str
    mark: str  # the column set to now
    due: str  # the time column compared with now
    condition: Q
    event: str
    title: StrPromise  # lazy string with %(n)s and %(t)s
    notify: str  # "lead" or "district"
    skip_notify_if: str = ""  # don't notify warnings for orders already overdue
    # columns also set (if still empty) in the same UPDATE: an order found overdue needs no
    # separate warning any more
    also: tuple[str, ...] = ()


PHASES = [
    Phase(
        "response_overdue",
        "response_overdue_at",
        "response_deadline",
        Q(state__in=CLOCK_STATES, responded_at__isnull=True, response_overdue_at__isnull=True),
        Ev.RESPONSE_OVERDUE,
        _("响应超时：%(n)s %(t)s"),
        "lead",
        also=("response_warned_at",),
    ),
    Phase(
        "resolution_overdue",
        "resolution_overdue_at",
        "resolution_deadline",
        Q(state__in=CLOCK_STATES, resolution_overdue_at__isnull=True),
        Ev.RESOLUTION_OVERDUE,
        _("办结超期：%(n)s %(t)s"),
        "lead",
        also=("resolution_warned_at",),
    ),
    Phase(
        "response_warning",
        "response_warned_at",
        "response_warn_at",
        Q(state__in=CLOCK_STATES, responded_at__isnull=True, response_warned_at__isnull=True),
        Ev.RESPONSE_WARNED,
        _("响应即将超时：%(n)s %(t)s"),
        "lead",
        "response_overdue_at",
    ),
    Phase(
        "resolution_warning",
        "resolution_warned_at",
        "resolution_warn_at",
        Q(state__in=CLOCK_STATES, resolution_warned_at__isnull=True),
        Ev.RESOLUTION_WARNED,
        _("办结即将超期：%(n)s %(t)s"),
        "lead",
        "resolution_overdue_at",
    ),
    Phase(
        "escalation",
        "escalated_at",
        "resolution_overdue_at",
        Q(state__in=CLOCK_STATES, resolution_overdue_at__isnull=False, escalated_at__isnull=True),
        Ev.ESCALATED,
        _("超期督办：%(n)s %(t)s"),
        "district",
    ),
]


def run(*, now: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    now = now or timezone.now()
    done = {phase.name: _run_phase(phase, now, batch) for phase in PHASES}
    done.update(assignments.sweep(now, batch))  # the internal due times of assignments inside units
    return done


def _due_before(phase: Phase, now: datetime) -> datetime:
    if phase.name == "escalation":
        # the district hears when an order is still overdue this long after it was marked: the unit
        # hears first and has a moment to close or ask for an extension
        return now - timedelta(minutes=settings.ESCALATE_AFTER_MINUTES)
    return now


def _run_phase(phase: Phase, now: datetime, batch: int) -> int:
    total = 0
    due = Q(**{f"{phase.due}__lte": _due_before(phase, now)})
    fields = ["id", "lead_unit_id", "district_id", "number", "title", "round"]
    if phase.skip_notify_if:
        fields.append(phase.skip_notify_if)
    while True:
        with transaction.atomic():
            rows = list(
                WorkOrder.objects.filter(phase.condition, due)
                .order_by(phase.due)
                .select_for_update(skip_locked=True)
                .values(*fields)[:batch]
            )
            if not rows:
                break
            ids = [r["id"] for r in rows]
            # Conditional: only rows still unmarked; locked above, so the count is ours.
            values = {
                phase.mark: now,
                **{col: Coalesce(F(col), Value(now, output_field=DateTimeField())) for col in phase.also},
            }
            updated = WorkOrder.objects.filter(phase.condition, due, pk__in=ids).update(**values)
            if updated != len(rows):
                # Should not happen under the row locks; be safe and only record what we marked.
                marked = set(WorkOrder.objects.filter(pk__in=ids, **{phase.mark: now}).values_list("id", flat=True))
                rows = [r for r in rows if r["id"] in marked]
            OrderEvent.objects.bulk_create(
                [OrderEvent(order_id=r["id"], at=now, kind=phase.event, round=r["round"]) for r in rows],
                batch_size=1000,
            )
            publish(units={r["lead_unit_id"] for r in rows}, districts={r["district_id"] for r in rows}, city=True)
            to_notify = [r for r in rows if not (phase.skip_notify_if and r[phase.skip_notify_if])]
            _notify(phase, to_notify)
            total += len(rows)
        if len(ids) < batch:
            break
    return total


def _notify(phase: Phase, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if phase.notify == "district":
        district_units = dict(
            Unit.objects.filter(kind=Unit.Kind.DISTRICT, division_id__in={r["district_id"] for r in rows}).values_list(
                "division_id", "id"
            )
        )
        target = {r["id"]: district_units.get(r["district_id"]) for r in rows}
        roles = sorted(access.GATES[access.Cap.SUPERVISE] - {Role.CITY})  # the district office's managers
    else:
        target = {r["id"]: r["lead_unit_id"] for r in rows}
        roles = sorted(access.GATES[access.Cap.HANDLE])  # the lead unit's handlers
    members = recipients_by_unit({u for u in target.values() if u}, roles)
    if not members:
        return
    notes = []
    for r in rows:
        unit_id = target[r["id"]]
        if unit_id is None:
            continue  # a district without an office: nobody to tell
        for uid in members.get(unit_id, []):
            notes.append(
                Notification(
                    user_id=uid,
                    kind=phase.name,
                    title=str(phase.title % {"n": r["number"], "t": r["title"]})[:200],
                    order_id=r["id"],
                    url=reverse("order-detail", args=[r["id"]]),
                )
            )
    # Outbound delivery (e-mail, webhooks) is queued by notifications.queue_outbound.
    Notification.objects.bulk_create(notes, batch_size=1000)
