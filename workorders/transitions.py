"""The life of a work order: one function per transition.

Each transition takes the order (or what creates it) and `actor=`, locks the row, checks the
current state and the actor's right, saves with `update_fields`, writes exactly one immutable
OrderEvent, and queues side effects with `transaction.on_commit`. Pages, the API and tasks all call
these functions; nothing else changes `state`, deadlines or outcome fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from districts.models import Division, Unit
from hotline.errors import AccessDenied, DomainError
from hotline.models import Call, Category, User
from workorders.deadlines import deadlines_for
from workorders.models import OrderEvent, OrderParticipant, OrderState, UrgencyTier, WorkOrder
from workorders.numbers import next_order_number


class Ev:
    """Event kinds (OrderEvent.kind)."""

    CREATED = "created"
    DUPLICATE_LINKED = "duplicate_linked"


def lock(order: WorkOrder | int) -> WorkOrder:
    """Re-read the order under a row lock. Call inside transaction.atomic()."""
    pk = order.pk if isinstance(order, WorkOrder) else order
    return WorkOrder.objects.select_for_update().get(pk=pk)


def require_state(order: WorkOrder, *states: str) -> None:
    if order.state not in states:
        raise DomainError(
            _("工单 %(number)s 当前状态为“%(state)s”，不能执行此操作。")
            % {"number": order.number, "state": order.get_state_display()},
            code="invalid_state",
        )


def record(
    order: WorkOrder,
    *,
    kind: str,
    actor: User | None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        at=at or timezone.now(),
        kind=kind,
        actor=actor,
        actor_unit=getattr(actor, "unit", None),
        from_state=from_state,
        to_state=to_state,
        round=order.round,
        note=note,
        data=data or {},
    )


def supervisor_unit(district: Division | None) -> Unit | None:
    if district is None:
        return None
    return Unit.objects.filter(division=district, kind=Unit.Kind.DISTRICT).first()


def order_create(
    *,
    call: Call,
    category: Category,
    tier: UrgencyTier,
    lead_unit: Unit,
    actor: User,
    title: str,
    street: Division | None = None,
    community: Division | None = None,
    co_units: Iterable[Unit] = (),
    now: datetime | None = None,
) -> WorkOrder:
    """Create an order from a call and dispatch it to its lead unit, in one transaction. The order
    is in the unit's inbox the moment this commits; the district gets a supervision copy."""
    from hotline import access

    if not access.has_role(actor, "agent", "city"):
        raise AccessDenied()
    if not lead_unit.is_active or lead_unit.kind not in (Unit.Kind.STREET, Unit.Kind.DEPARTMENT, Unit.Kind.DISTRICT):
        raise DomainError(_("“%(unit)s”不能承办工单。") % {"unit": lead_unit.name}, code="invalid_unit")
    now = now or timezone.now()
    district = (street.district if street else None) or lead_unit.district
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.outcome != Call.Outcome.PENDING or WorkOrder.objects.filter(call=call).exists():
            raise DomainError(_("该来电已处理，不能重复派单。"), code="call_done")
        response_deadline, resolution_deadline = deadlines_for(tier, now)
        order = WorkOrder.objects.create(
            number=next_order_number(now),
            call=call,
            category=category,
            request_type=call.request_type,
            tier=tier,
            title=title[:120],
            address=call.address,
            community=community,
            street=street,
            district=district,
            lead_unit=lead_unit,
            state=OrderState.DISPATCHED,
            created_by=actor,
            dispatched_at=now,
            response_deadline=response_deadline,
            resolution_deadline=resolution_deadline,
        )
        participants = [
            OrderParticipant(order=order, unit=u, role=OrderParticipant.Role.CO_HANDLER)
            for u in {u.pk: u for u in co_units if u.pk != lead_unit.pk}.values()
        ]
        supervisor = supervisor_unit(district)
        if supervisor is not None and supervisor.pk != lead_unit.pk:
            participants.append(OrderParticipant(order=order, unit=supervisor, role=OrderParticipant.Role.SUPERVISOR))
        OrderParticipant.objects.bulk_create(participants)
        call.outcome = Call.Outcome.ORDER
        call.save(update_fields=["outcome"])
        record(
            order,
            kind=Ev.CREATED,
            actor=actor,
            to_state=OrderState.DISPATCHED,
            at=now,
            data={
                "lead_unit": lead_unit.pk,
                "co_units": [p.unit_id for p in participants if p.role == OrderParticipant.Role.CO_HANDLER],
            },
        )
    return order


def order_link_duplicate(order: WorkOrder, *, call: Call, actor: User) -> WorkOrder:
    """A repeat call about the same problem (重复诉求): counted on the existing order instead of
    becoming a new one."""
    from django.db.models import F

    from hotline import access

    if not access.has_role(actor, "agent", "city"):
        raise AccessDenied()
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.outcome != Call.Outcome.PENDING:
            raise DomainError(_("该来电已处理，不能重复关联。"), code="call_done")
        order = lock(order)
        require_state(
            order,
            OrderState.DISPATCHED,
            OrderState.SIGNED,
            OrderState.RETURN_REQUESTED,
            OrderState.PARKED,
            OrderState.CLOSED,
        )
        WorkOrder.objects.filter(pk=order.pk).update(duplicate_count=F("duplicate_count") + 1)
        call.outcome = Call.Outcome.DUPLICATE
        call.save(update_fields=["outcome"])
        record(order, kind=Ev.DUPLICATE_LINKED, actor=actor, note=call.description[:500], data={"call": call.pk})
        order.refresh_from_db(fields=["duplicate_count"])
    return order
