from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from districts.models import Division, Unit
from hotline import access, sqlinsert
from hotline.errors import AccessDenied, DomainError
from hotline.intake.duplicates import categories_related
from hotline.models import Call, Category, User
from workorders.lifecycle import actions
from workorders.lifecycle.machinery import (
    ROUTABLE_KINDS,
    Ev,
    as_now,
    lock,
    notify,
    record,
    set_deadlines,
    supervisor_unit,
)
from workorders.lifecycle.numbers import next_order_number
from workorders.models import (
    Callback,
    OrderParticipant,
    OrderState,
    UrgencyTier,
    WorkOrder,
)


# --- creation (used by intake) ------------------------------------------------------------------
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
    new_call: bool = False,
) -> WorkOrder:
    """Create an order from a call and dispatch it to its lead unit, in one transaction. The order
    is in the unit's inbox the moment this commits; the district gets a supervision copy.
    `new_call=True`: the caller inserted the call, outcome already "order", in the transaction that
    is still open — no other transaction can see it, so there is nothing to claim."""

    if not access.may(actor, access.Cap.TAKE_CALLS):
        raise AccessDenied()
    if not lead_unit.is_active or lead_unit.kind not in ROUTABLE_KINDS:
        raise DomainError(_("“%(unit)s”不能承办工单。") % {"unit": lead_unit.name}, code="invalid_unit")
    now = as_now(now)
    district = (street.district if street else None) or lead_unit.district
    # No savepoint inside the caller's transaction (intake): one round trip less each way. The
    # "already dispatched" refusal is raised after the block, so a caller that catches it can go on;
    # any error inside the block fails the caller's whole transaction, as it should.
    if new_call and (not transaction.get_connection().in_atomic_block or call.outcome != Call.Outcome.ORDER):
        raise RuntimeError("new_call=True needs the call inserted as 'order' in the open transaction")
    with transaction.atomic(savepoint=False):
        # Claim the call with one conditional UPDATE: a second dispatch of the same call finds it
        # no longer pending (and WorkOrder.call is unique besides).
        if new_call:
            claimed = 1
        else:
            claimed = Call.objects.filter(pk=call.pk, outcome=Call.Outcome.PENDING).update(outcome=Call.Outcome.ORDER)
        if claimed == 1:
            order = _insert_order(
                call=call,
                category=category,
                tier=tier,
                lead_unit=lead_unit,
                actor=actor,
                title=title,
                street=street,
                community=community,
                district=district,
                co_units=co_units,
                now=now,
            )
    if claimed != 1:
        raise DomainError(_("该来电已处理，不能重复派单。"), code="call_done")
    return order


def _insert_order(
    *,
    call: Call,
    category: Category,
    tier: UrgencyTier,
    lead_unit: Unit,
    actor: User,
    title: str,
    street: Division | None,
    community: Division | None,
    district: Division | None,
    co_units: Iterable[Unit],
    now: datetime,
) -> WorkOrder:
    """The rows of a new, dispatched order (inside order_create's transaction, call already claimed)."""
    call.outcome = Call.Outcome.ORDER
    order = WorkOrder(
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
    )
    set_deadlines(order, now)
    sqlinsert.insert(order)
    participants = [
        OrderParticipant(order=order, unit=u, role=OrderParticipant.Role.CO_HANDLER)
        for u in {u.pk: u for u in co_units if u.pk != lead_unit.pk}.values()
    ]
    supervisor = supervisor_unit(district)
    if supervisor is not None and supervisor.pk != lead_unit.pk:
        participants.append(OrderParticipant(order=order, unit=supervisor, role=OrderParticipant.Role.SUPERVISOR))
    sqlinsert.insert(*participants)
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
    co = [p.unit for p in participants if p.role == OrderParticipant.Role.CO_HANDLER]
    notify(
        [lead_unit, *co],
        kind="new_order",
        title=_("新工单 %(n)s：%(t)s") % {"n": order.number, "t": order.title},
        order=order,
    )
    return order


def order_link_duplicate(order: WorkOrder, *, call: Call, actor: User, reason: str = "") -> WorkOrder:
    """A repeat call about the same problem (重复诉求): counted on the existing order instead of
    becoming a new one. Never onto the call's own order, nor onto an order already closed and called
    back (the caller's new report needs a new order). Linking across districts, or to an order of an
    unrelated category, needs the agent's stated `reason` — checked here, so the page, the API and
    Open311 all get the same refusal."""

    if not access.may(actor, access.Cap.TAKE_CALLS):
        raise AccessDenied()
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        if order.call_id == call.pk:
            raise DomainError(_("不能把来电关联到它自己的工单。"), code="link_self")
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.outcome != Call.Outcome.PENDING:
            raise DomainError(_("该来电已处理，不能重复关联。"), code="call_done")
        order = lock(order)
        actions.check(order, actor, "link_duplicate")
        if order.state == OrderState.CLOSED and order_called_back(order):
            raise DomainError(
                _("工单 %(number)s 已办结并完成回访，不能再关联；请派发新工单。") % {"number": order.number},
                code="called_back",
            )
        if not reason:
            if call.district_id and order.district_id and call.district_id != order.district_id:
                raise DomainError(
                    _("工单 %(number)s 属于其他区（%(district)s），跨区关联须填写关联理由。")
                    % {"number": order.number, "district": order.district.name if order.district else ""},
                    code="link_reason_required",
                )
            if call.category is not None and not categories_related(call.category.code, order.category.code):
                raise DomainError(
                    _("工单 %(number)s 的分类（%(category)s）与本次诉求无关，关联须填写关联理由。")
                    % {"number": order.number, "category": order.category.name},
                    code="link_reason_required",
                )
        WorkOrder.objects.filter(pk=order.pk).update(duplicate_count=F("duplicate_count") + 1)
        call.outcome = Call.Outcome.DUPLICATE
        call.linked_order = order
        call.link_reason = reason
        call.save(update_fields=["outcome", "linked_order", "link_reason"])
        data: dict[str, object] = {"call": call.pk}
        if reason:
            data["reason"] = reason
        record(order, kind=Ev.DUPLICATE_LINKED, actor=actor, note=call.description[:500], data=data)
        order.refresh_from_db(fields=["duplicate_count"])
    return order


def order_called_back(order: WorkOrder) -> bool:
    """The order's current round has its callback done (valid or unreachable)."""
    return Callback.objects.filter(order_id=order.pk, round=order.round, status__in=actions.DONE_CALLBACK).exists()
