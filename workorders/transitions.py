"""The life of a work order: one function per transition.

Each transition takes the order (or what creates it) and `actor=`, locks the row, checks the
current state and the actor's right, saves with `update_fields`, writes exactly one immutable
OrderEvent, and queues side effects with `transaction.on_commit`. Pages, the API and tasks all call
these functions; nothing else changes `state`, deadlines or outcome fields.

Extension points for later rounds (callback → re-dispatch): `_start_round(order, lead_unit, now)`
puts an order back into a unit's inbox with fresh deadlines; `_set_deadlines` recomputes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from districts.models import Division, Unit
from hotline import sqlinsert
from hotline.errors import AccessDenied, DomainError
from hotline.models import Call, Category, Role, User
from workorders import attachments
from workorders.deadlines import deadlines_for, warn_point
from workorders.models import (
    OrderAttachment,
    OrderEvent,
    OrderParticipant,
    OrderRequest,
    OrderState,
    Result,
    UrgencyTier,
    Whistle,
    WorkOrder,
)
from workorders.notifications import notify_units
from workorders.numbers import next_order_number


class Ev:
    """Event kinds (OrderEvent.kind)."""

    CREATED = "created"
    DUPLICATE_LINKED = "duplicate_linked"
    SIGNED = "signed"
    RESPONDED = "responded"
    CONTACT = "contact"
    NOTE = "note"
    CO_ADDED = "co_added"
    WHISTLED = "whistled"
    WHISTLE_REPORTED = "whistle_reported"
    RETURN_REQUESTED = "return_requested"
    RETURN_ACCEPTED = "return_accepted"
    RETURN_REJECTED = "return_rejected"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REJECTED = "extension_rejected"
    PARKED = "parked"
    PARKING_CLEARED = "parking_cleared"
    CLOSED = "closed"
    # written by the deadline sweep (no actor)
    RESPONSE_WARNED = "response_warned"
    RESOLUTION_WARNED = "resolution_warned"
    RESPONSE_OVERDUE = "response_overdue"
    RESOLUTION_OVERDUE = "resolution_overdue"
    ESCALATED = "escalated"
    # the callback stage (workorders/callbacks.py)
    CALLBACK_ATTEMPT = "callback_attempt"
    CALLBACK_UNREACHABLE = "callback_unreachable"
    CALLBACK_VALID = "callback_valid"
    REDISPATCHED = "redispatched"
    SELF_EVALUATION_LINK = "self_evaluation_link"
    SENT_BACK = "sent_back"
    EXCLUSION_REQUESTED = "exclusion_requested"
    EXCLUSION_DISTRICT_APPROVED = "exclusion_district_approved"
    EXCLUSION_DISTRICT_REJECTED = "exclusion_district_rejected"
    EXCLUSION_APPROVED = "exclusion_approved"
    EXCLUSION_REJECTED = "exclusion_rejected"
    EXCLUSION_REVOKED = "exclusion_revoked"


EVENT_LABELS = {
    Ev.CREATED: gettext_lazy("派单"),
    Ev.DUPLICATE_LINKED: gettext_lazy("关联重复诉求"),
    Ev.SIGNED: gettext_lazy("签收"),
    Ev.RESPONDED: gettext_lazy("响应（首次联系市民）"),
    Ev.CONTACT: gettext_lazy("联系市民"),
    Ev.NOTE: gettext_lazy("办理记录"),
    Ev.CO_ADDED: gettext_lazy("增加协办单位"),
    Ev.WHISTLED: gettext_lazy("吹哨"),
    Ev.WHISTLE_REPORTED: gettext_lazy("部门报到"),
    Ev.RETURN_REQUESTED: gettext_lazy("申请退单"),
    Ev.RETURN_ACCEPTED: gettext_lazy("同意退单并改派"),
    Ev.RETURN_REJECTED: gettext_lazy("驳回退单"),
    Ev.EXTENSION_REQUESTED: gettext_lazy("申请延期"),
    Ev.EXTENSION_APPROVED: gettext_lazy("同意延期"),
    Ev.EXTENSION_REJECTED: gettext_lazy("驳回延期"),
    Ev.PARKED: gettext_lazy("挂账"),
    Ev.PARKING_CLEARED: gettext_lazy("销账"),
    Ev.CLOSED: gettext_lazy("办结"),
    Ev.RESPONSE_WARNED: gettext_lazy("响应即将超时预警"),
    Ev.RESOLUTION_WARNED: gettext_lazy("办结即将超时预警"),
    Ev.RESPONSE_OVERDUE: gettext_lazy("响应超时"),
    Ev.RESOLUTION_OVERDUE: gettext_lazy("办结超期"),
    Ev.ESCALATED: gettext_lazy("超期升级督办"),
    Ev.CALLBACK_ATTEMPT: gettext_lazy("回访尝试"),
    Ev.CALLBACK_UNREACHABLE: gettext_lazy("回访无法联系"),
    Ev.CALLBACK_VALID: gettext_lazy("有效回访，工单完成"),
    Ev.REDISPATCHED: gettext_lazy("回访不满意/未解决，再派件"),
    Ev.SELF_EVALUATION_LINK: gettext_lazy("生成市民自评链接"),
    Ev.SENT_BACK: gettext_lazy("办结不合格，退回承办单位"),
    Ev.EXCLUSION_REQUESTED: gettext_lazy("申请剔除"),
    Ev.EXCLUSION_DISTRICT_APPROVED: gettext_lazy("区级同意剔除，报市级审核"),
    Ev.EXCLUSION_DISTRICT_REJECTED: gettext_lazy("区级驳回剔除申请"),
    Ev.EXCLUSION_APPROVED: gettext_lazy("市级批准剔除"),
    Ev.EXCLUSION_REJECTED: gettext_lazy("市级驳回剔除申请"),
    Ev.EXCLUSION_REVOKED: gettext_lazy("市级撤销剔除"),
}

HANDLER_ROLES = (Role.STREET, Role.DEPARTMENT, Role.DISTRICT)
HANDLING_STATES = (OrderState.SIGNED, OrderState.PARKED)
ROUTABLE_KINDS = (Unit.Kind.STREET, Unit.Kind.DEPARTMENT, Unit.Kind.DISTRICT)


class ContactMethod:
    PHONE = "phone"
    VISIT = "visit"
    SMS = "sms"
    CHOICES = [(PHONE, gettext_lazy("电话")), (VISIT, gettext_lazy("上门")), (SMS, gettext_lazy("短信"))]


# --- building blocks --------------------------------------------------------------------------
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
    event = OrderEvent(
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
    sqlinsert.insert(event)
    return event


def supervisor_unit(district: Division | None) -> Unit | None:
    """The district office that gets the supervision copy. Read from the per-process unit cache
    (reloaded on any unit change): every order creation and ruling asks for it."""
    if district is None:
        return None
    from hotline import refcache

    unit = refcache.unit_of_division(district.pk)
    if unit is not None and unit.kind == Unit.Kind.DISTRICT:
        return unit
    return Unit.objects.filter(division=district, kind=Unit.Kind.DISTRICT).first()


def _require_lead(order: WorkOrder, actor: User) -> None:
    from hotline import access

    if not access.has_role(actor, *HANDLER_ROLES) or actor.unit_id != order.lead_unit_id:
        raise AccessDenied(_("只有主办单位的承办人可以执行此操作。"))


def _require_handler(order: WorkOrder, actor: User) -> None:
    """The lead unit, a co-handler or a whistled department: those who add handling records."""
    from hotline import access

    if not access.has_role(actor, *HANDLER_ROLES) or actor.unit_id is None:
        raise AccessDenied()
    if actor.unit_id == order.lead_unit_id:
        return
    if not OrderParticipant.objects.filter(
        order=order,
        unit_id=actor.unit_id,
        role__in=[OrderParticipant.Role.CO_HANDLER, OrderParticipant.Role.WHISTLED],
    ).exists():
        raise AccessDenied(_("只有主办、协办或报到单位可以添加办理记录。"))


def _require_ruler(order: WorkOrder, actor: User) -> None:
    """Returns and extensions are ruled by the order's district, or by the city center."""
    from hotline import access

    if not access.may_rule_requests(actor, order):
        raise AccessDenied(_("只有工单所在区的管理员或市级管理员可以审批。"))


def _clean_text(value: str, *, label: str, required: bool = True, limit: int = 2000) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("请填写%(field)s。") % {"field": label}, code="required")
    if len(value) > limit:
        raise DomainError(_("%(field)s不能超过 %(n)s 字。") % {"field": label, "n": limit}, code="too_long")
    return value


def _set_deadlines(order: WorkOrder, start: datetime) -> list[str]:
    """Fresh deadlines and warning points from the order's tier, counted from `start`; the sweep's
    marks are cleared so it acts again on the new clock."""
    tier = order.tier
    order.response_deadline, order.resolution_deadline = deadlines_for(tier, start)
    order.response_warn_at = warn_point(start, order.response_deadline, tier.warn_ratio)
    order.resolution_warn_at = warn_point(start, order.resolution_deadline, tier.warn_ratio)
    order.response_warned_at = order.resolution_warned_at = None
    order.response_overdue_at = order.resolution_overdue_at = None
    order.escalated_at = None
    return [
        "response_deadline",
        "resolution_deadline",
        "response_warn_at",
        "resolution_warn_at",
        "response_warned_at",
        "resolution_warned_at",
        "response_overdue_at",
        "resolution_overdue_at",
        "escalated_at",
    ]


def _ensure_supervisor(order: WorkOrder) -> None:
    supervisor = supervisor_unit(order.district)
    if supervisor is not None and supervisor.pk != order.lead_unit_id:
        OrderParticipant.objects.get_or_create(order=order, unit=supervisor, role=OrderParticipant.Role.SUPERVISOR)


def _start_round(
    order: WorkOrder,
    lead_unit: Unit | None = None,
    now: datetime | None = None,
    *,
    unit: Unit | None = None,
    new_round: bool | None = None,
) -> list[str]:
    """Put the (locked) order into a unit's inbox as a fresh dispatch with new deadlines.

    Re-routing after a return keeps the round (`_start_round(order, unit, now)`); a re-dispatch
    after a callback starts the next round (`new_round=True`, which is also the default when called
    as `_start_round(order, unit=..., now=...)` by the callback stage) and clears the previous
    round's result. Returns the fields changed; the caller saves them and records the event."""
    lead_unit = lead_unit or unit
    now = _as_now(now)
    if new_round is None:
        new_round = unit is not None
    order.lead_unit = lead_unit
    if lead_unit.kind == Unit.Kind.STREET and lead_unit.division_id:
        order.street_id = lead_unit.division_id
        order.district_id = lead_unit.district_id or order.district_id
    elif lead_unit.district_id:
        order.district_id = lead_unit.district_id
    order.state = OrderState.DISPATCHED
    order.dispatched_at = now
    order.signed_at = order.responded_at = order.closed_at = None
    order.responded_in_time = None
    order.parked_at = order.parked_until = None
    fields = [
        "lead_unit",
        "street",
        "district",
        "state",
        "dispatched_at",
        "signed_at",
        "responded_at",
        "closed_at",
        "responded_in_time",
        "parked_at",
        "parked_until",
    ]
    if new_round:
        order.round += 1
        order.completed_at = None
        order.result, order.result_note, order.action_taken = "", "", ""
        fields += ["round", "completed_at", "result", "result_note", "action_taken"]
    fields += _set_deadlines(order, now)
    _ensure_supervisor(order)
    return fields


def _order_url(order: WorkOrder) -> str:
    from django.urls import reverse

    return reverse("order-detail", args=[order.pk])


def _notify(units, *, kind: str, title: str, order: WorkOrder, body: str = "", roles=None) -> None:
    notify_units(units=units, kind=kind, title=title, body=body, order=order, url=_order_url(order), roles=roles)


def _rulers_of(order: WorkOrder) -> list[Unit]:
    supervisor = supervisor_unit(order.district)
    if supervisor is not None:
        return [supervisor]
    return list(Unit.objects.filter(kind=Unit.Kind.CENTER))


def _as_now(now: datetime | None) -> datetime:
    return now or timezone.now()


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
    from hotline import access

    if not access.has_role(actor, "agent", "city"):
        raise AccessDenied()
    if not lead_unit.is_active or lead_unit.kind not in ROUTABLE_KINDS:
        raise DomainError(_("“%(unit)s”不能承办工单。") % {"unit": lead_unit.name}, code="invalid_unit")
    now = _as_now(now)
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


def _insert_order(*, call, category, tier, lead_unit, actor, title, street, community, district, co_units, now):
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
    _set_deadlines(order, now)
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
    _notify(
        [lead_unit, *co],
        kind="new_order",
        title=_("新工单 %(n)s：%(t)s") % {"n": order.number, "t": order.title},
        order=order,
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


# --- handling ---------------------------------------------------------------------------------
def order_sign(order: WorkOrder, *, actor: User, now: datetime | None = None) -> WorkOrder:
    """签收: the lead unit takes the order."""
    now = _as_now(now)
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, OrderState.DISPATCHED)
        order.state, order.signed_at = OrderState.SIGNED, now
        order.save(update_fields=["state", "signed_at"])
        record(order, kind=Ev.SIGNED, actor=actor, from_state=OrderState.DISPATCHED, to_state=OrderState.SIGNED, at=now)
    return order


def order_respond(
    order: WorkOrder,
    *,
    actor: User,
    contacted_at: datetime,
    method: str,
    summary: str,
    now: datetime | None = None,
) -> WorkOrder:
    """响应: the unit has been in touch with the caller. The first contact stops the response clock;
    later contacts are recorded too."""
    now = _as_now(now)
    if method not in dict(ContactMethod.CHOICES):
        raise DomainError(_("请选择联系方式（电话、上门或短信）。"), code="method")
    summary = _clean_text(summary, label=_("沟通内容"))
    if contacted_at is None:
        raise DomainError(_("请填写联系时间。"), code="required")
    if contacted_at > now + timedelta(minutes=1):
        raise DomainError(_("联系时间不能晚于当前时间。"), code="future")
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, *HANDLING_STATES)
        if contacted_at < order.dispatched_at:
            raise DomainError(_("联系时间不能早于派单时间。"), code="before_dispatch")
        data = {"method": method, "contacted_at": contacted_at.isoformat()}
        if order.responded_at is None:
            order.responded_at = contacted_at
            order.responded_in_time = contacted_at <= order.response_deadline
            order.save(update_fields=["responded_at", "responded_in_time"])
            data["in_time"] = order.responded_in_time
            record(order, kind=Ev.RESPONDED, actor=actor, note=summary, data=data, at=now)
        else:
            record(order, kind=Ev.CONTACT, actor=actor, note=summary, data=data, at=now)
    return order


def order_add_note(
    order: WorkOrder, *, actor: User, note: str, files: Iterable = (), now: datetime | None = None
) -> OrderEvent:
    """办理记录: what was done, with photos or documents. Lead, co-handlers and whistled
    departments may add them."""
    now = _as_now(now)
    note = _clean_text(note, label=_("办理记录"))
    checked = attachments.check_uploads(files)
    stored = []
    try:
        with transaction.atomic():
            order = lock(order)
            _require_handler(order, actor)
            require_state(order, OrderState.DISPATCHED, *HANDLING_STATES, OrderState.RETURN_REQUESTED)
            event = record(order, kind=Ev.NOTE, actor=actor, note=note, at=now, data={"files": len(checked)})
            for upload, content_type in checked:
                att = OrderAttachment(
                    order=order,
                    event=event,
                    name=(upload.name or "file")[-200:],
                    size=upload.size,
                    content_type=content_type,
                    uploaded_by=actor,
                    unit=actor.unit,
                )
                att.file.save(upload.name, upload, save=False)
                stored.append(att.file.name)
                att.save()
    except BaseException:
        # The rows rolled back; do not leave their files behind.
        from django.core.files.storage import default_storage

        for name in stored:
            default_storage.delete(name)
        raise
    return event


def order_add_co_units(
    order: WorkOrder, *, actor: User, units: Iterable[Unit], now: datetime | None = None
) -> WorkOrder:
    """协办: the lead unit brings other units in; they see the order and add records."""
    now = _as_now(now)
    units = {u.pk: u for u in units}
    if not units:
        raise DomainError(_("请选择协办单位。"), code="required")
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, *HANDLING_STATES)
        for u in units.values():
            if u.pk == order.lead_unit_id or not u.is_active or u.kind not in (Unit.Kind.STREET, Unit.Kind.DEPARTMENT):
                raise DomainError(_("“%(unit)s”不能作为协办单位。") % {"unit": u.name}, code="invalid_unit")
        existing = set(
            OrderParticipant.objects.filter(
                order=order, role=OrderParticipant.Role.CO_HANDLER, unit_id__in=units
            ).values_list("unit_id", flat=True)
        )
        new = [u for pk, u in units.items() if pk not in existing]
        if not new:
            raise DomainError(_("所选单位已是协办单位。"), code="duplicate")
        OrderParticipant.objects.bulk_create(
            [OrderParticipant(order=order, unit=u, role=OrderParticipant.Role.CO_HANDLER) for u in new]
        )
        record(
            order,
            kind=Ev.CO_ADDED,
            actor=actor,
            at=now,
            note="、".join(u.name for u in new),
            data={"units": [u.pk for u in new]},
        )
        _notify(
            new,
            kind="co_handling",
            title=_("协办工单 %(n)s：%(t)s") % {"n": order.number, "t": order.title},
            order=order,
        )
    return order


def order_whistle(
    order: WorkOrder,
    *,
    actor: User,
    to_unit: Unit,
    level: str,
    reason: str,
    report_by: datetime,
    now: datetime | None = None,
) -> Whistle:
    """吹哨: the lead unit calls a department in, with a level, a reason and a time to report."""
    now = _as_now(now)
    if level not in Whistle.Level.values:
        raise DomainError(_("请选择吹哨级别。"), code="level")
    reason = _clean_text(reason, label=_("吹哨事由"))
    if to_unit is None or to_unit.kind != Unit.Kind.DEPARTMENT or not to_unit.is_active:
        raise DomainError(_("只能向职能部门吹哨。"), code="invalid_unit")
    if report_by is None or report_by <= now:
        raise DomainError(_("报到时限必须晚于当前时间。"), code="report_by")
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, *HANDLING_STATES)
        if Whistle.objects.filter(order=order, to_unit=to_unit, state=Whistle.State.OPEN).exists():
            raise DomainError(_("已向“%(unit)s”吹哨，尚未报到。") % {"unit": to_unit.name}, code="duplicate")
        whistle = Whistle.objects.create(
            order=order,
            from_unit_id=order.lead_unit_id,
            to_unit=to_unit,
            level=level,
            reason=reason,
            report_by=report_by,
            created_by=actor,
            created_at=now,
        )
        OrderParticipant.objects.get_or_create(order=order, unit=to_unit, role=OrderParticipant.Role.WHISTLED)
        record(
            order,
            kind=Ev.WHISTLED,
            actor=actor,
            at=now,
            note=reason,
            data={
                "whistle": whistle.pk,
                "to_unit": to_unit.pk,
                "to_unit_name": to_unit.name,
                "level": level,
                "report_by": report_by.isoformat(),
            },
        )
        _notify(
            [to_unit],
            kind="whistle",
            title=_("吹哨（%(level)s）%(n)s：%(t)s")
            % {"level": whistle.get_level_display(), "n": order.number, "t": order.title},
            body=reason,
            order=order,
        )
    return whistle


def whistle_report(whistle: Whistle, *, actor: User, note: str, now: datetime | None = None) -> Whistle:
    """报到: the whistled department reports and says what it did."""
    from hotline import access

    now = _as_now(now)
    note = _clean_text(note, label=_("报到及处置情况"))
    with transaction.atomic():
        # Locks in a fixed order: the order first, then the whistle.
        order = lock(whistle.order_id)
        whistle = Whistle.objects.select_for_update().get(pk=whistle.pk)
        if not access.has_role(actor, Role.DEPARTMENT, Role.STREET) or actor.unit_id != whistle.to_unit_id:
            raise AccessDenied(_("只有被吹哨的部门可以报到。"))
        if whistle.state != Whistle.State.OPEN:
            raise DomainError(_("该吹哨已报到，不能重复报到。"), code="invalid_state")
        require_state(order, *HANDLING_STATES, OrderState.RETURN_REQUESTED)
        whistle.state, whistle.reported_by, whistle.reported_at, whistle.report_note = (
            Whistle.State.REPORTED,
            actor,
            now,
            note,
        )
        whistle.save(update_fields=["state", "reported_by", "reported_at", "report_note"])
        record(
            order,
            kind=Ev.WHISTLE_REPORTED,
            actor=actor,
            at=now,
            note=note,
            data={"whistle": whistle.pk, "in_time": now <= whistle.report_by},
        )
        _notify(
            [order.lead_unit],
            kind="whistle_reported",
            title=_("%(unit)s 已报到：%(n)s") % {"unit": actor.unit.name, "n": order.number},
            body=note,
            order=order,
        )
    return whistle


# --- return (退单) -------------------------------------------------------------------------------
def order_request_return(
    order: WorkOrder, *, actor: User, reason_code: str, reason: str, now: datetime | None = None
) -> OrderRequest:
    now = _as_now(now)
    if reason_code not in OrderRequest.ReturnReason.values:
        raise DomainError(_("请选择退单原因。"), code="reason_code")
    reason = _clean_text(reason, label=_("退单理由"))
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, OrderState.DISPATCHED, OrderState.SIGNED)
        _no_pending_request(order)
        req = OrderRequest.objects.create(
            order=order,
            kind=OrderRequest.Kind.RETURN,
            unit_id=order.lead_unit_id,
            requested_by=actor,
            requested_at=now,
            reason_code=reason_code,
            reason=reason,
            previous_state=order.state,
        )
        from_state = order.state
        order.state = OrderState.RETURN_REQUESTED
        order.save(update_fields=["state"])
        record(
            order,
            kind=Ev.RETURN_REQUESTED,
            actor=actor,
            from_state=from_state,
            to_state=order.state,
            at=now,
            note=reason,
            data={"request": req.pk, "reason_code": reason_code},
        )
        _notify(
            _rulers_of(order),
            kind="approval_needed",
            title=_("退单待审：%(n)s（%(unit)s）") % {"n": order.number, "unit": order.lead_unit.name},
            body=reason,
            order=order,
            roles=[Role.DISTRICT, Role.CITY],
        )
    return req


def order_rule_return(
    order: WorkOrder,
    *,
    actor: User,
    accept: bool,
    ruling: str,
    reroute_unit: Unit | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    """The district (or city) rules on a return: accept → re-route to another unit with a fresh
    clock; reject → back to the unit with the ruling."""
    now = _as_now(now)
    ruling = _clean_text(ruling, label=_("审批意见"))
    with transaction.atomic():
        order = lock(order)
        _require_ruler(order, actor)
        require_state(order, OrderState.RETURN_REQUESTED)
        req = OrderRequest.objects.select_for_update().get(
            order=order, kind=OrderRequest.Kind.RETURN, state=OrderRequest.State.PENDING
        )
        old_unit = order.lead_unit
        if accept:
            if reroute_unit is None:
                raise DomainError(_("同意退单时请选择改派单位。"), code="reroute_unit")
            if reroute_unit.pk == order.lead_unit_id:
                raise DomainError(_("改派单位不能是原承办单位。"), code="reroute_unit")
            if not reroute_unit.is_active or reroute_unit.kind not in ROUTABLE_KINDS:
                raise DomainError(_("“%(unit)s”不能承办工单。") % {"unit": reroute_unit.name}, code="invalid_unit")
            fields = _start_round(order, reroute_unit, now)
            order.save(update_fields=fields)
            req.state, req.reroute_unit = OrderRequest.State.APPROVED, reroute_unit
            kind = Ev.RETURN_ACCEPTED
            data = {
                "request": req.pk,
                "from_unit": old_unit.pk,
                "to_unit": reroute_unit.pk,
                "to_unit_name": reroute_unit.name,
            }
        else:
            order.state = req.previous_state or OrderState.SIGNED
            order.save(update_fields=["state"])
            req.state = OrderRequest.State.REJECTED
            kind = Ev.RETURN_REJECTED
            data = {"request": req.pk}
        req.decided_by, req.decided_at, req.ruling = actor, now, ruling
        req.save(update_fields=["state", "reroute_unit", "decided_by", "decided_at", "ruling"])
        record(
            order,
            kind=kind,
            actor=actor,
            from_state=OrderState.RETURN_REQUESTED,
            to_state=order.state,
            at=now,
            note=ruling,
            data=data,
        )
        verdict = _("同意") if accept else _("驳回")
        _notify(
            [old_unit],
            kind="ruling",
            title=_("退单申请已%(v)s：%(n)s") % {"v": verdict, "n": order.number},
            body=ruling,
            order=order,
        )
        if accept:
            _notify(
                [reroute_unit],
                kind="new_order",
                title=_("改派工单 %(n)s：%(t)s") % {"n": order.number, "t": order.title},
                order=order,
            )
    return order


def _no_pending_request(order: WorkOrder) -> None:
    pending = OrderRequest.objects.filter(order=order, state=OrderRequest.State.PENDING).first()
    if pending is not None:
        raise DomainError(
            _("该工单已有待审批的%(kind)s申请。") % {"kind": pending.get_kind_display()}, code="pending_request"
        )


# --- extension (延期) ---------------------------------------------------------------------------
def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def order_request_extension(
    order: WorkOrder, *, actor: User, new_deadline: datetime, reason: str, now: datetime | None = None
) -> OrderRequest:
    now = _as_now(now)
    reason = _clean_text(reason, label=_("延期理由"))
    if new_deadline is None:
        raise DomainError(_("请填写申请延期至的日期。"), code="required")
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, OrderState.SIGNED)
        if new_deadline <= max(order.resolution_deadline, now):
            raise DomainError(
                _("延期后的时限必须晚于当前办结时限（%(d)s）。")
                % {"d": timezone.localtime(order.resolution_deadline).strftime("%Y-%m-%d %H:%M")},
                code="new_deadline",
            )
        _no_pending_request(order)
        req = OrderRequest.objects.create(
            order=order,
            kind=OrderRequest.Kind.EXTENSION,
            unit_id=order.lead_unit_id,
            requested_by=actor,
            requested_at=now,
            reason=reason,
            requested_deadline=new_deadline,
        )
        record(
            order,
            kind=Ev.EXTENSION_REQUESTED,
            actor=actor,
            at=now,
            note=reason,
            data={"request": req.pk, "new_deadline": new_deadline.isoformat()},
        )
        _notify(
            _rulers_of(order),
            kind="approval_needed",
            title=_("延期待审：%(n)s（%(unit)s）") % {"n": order.number, "unit": order.lead_unit.name},
            body=reason,
            order=order,
            roles=[Role.DISTRICT, Role.CITY],
        )
    return req


def order_rule_extension(
    order: WorkOrder, *, actor: User, approve: bool, ruling: str, now: datetime | None = None
) -> WorkOrder:
    now = _as_now(now)
    ruling = _clean_text(ruling, label=_("审批意见"))
    with transaction.atomic():
        order = lock(order)
        _require_ruler(order, actor)
        req = (
            OrderRequest.objects.select_for_update()
            .filter(order=order, kind=OrderRequest.Kind.EXTENSION, state=OrderRequest.State.PENDING)
            .first()
        )
        if req is None:
            raise DomainError(_("该工单没有待审批的延期申请。"), code="no_request")
        data = {"request": req.pk}
        if approve:
            require_state(order, OrderState.SIGNED, OrderState.PARKED)
            old = order.resolution_deadline
            order.resolution_deadline = req.requested_deadline
            order.resolution_warn_at = warn_point(now, req.requested_deadline, order.tier.warn_ratio)
            order.resolution_warned_at = order.resolution_overdue_at = order.escalated_at = None
            order.save(
                update_fields=[
                    "resolution_deadline",
                    "resolution_warn_at",
                    "resolution_warned_at",
                    "resolution_overdue_at",
                    "escalated_at",
                ]
            )
            req.state = OrderRequest.State.APPROVED
            data.update(old_deadline=old.isoformat(), new_deadline=req.requested_deadline.isoformat())
        else:
            req.state = OrderRequest.State.REJECTED
        req.decided_by, req.decided_at, req.ruling = actor, now, ruling
        req.save(update_fields=["state", "decided_by", "decided_at", "ruling"])
        record(
            order,
            kind=Ev.EXTENSION_APPROVED if approve else Ev.EXTENSION_REJECTED,
            actor=actor,
            at=now,
            note=ruling,
            data=data,
        )
        verdict = _("同意") if approve else _("驳回")
        _notify(
            [order.lead_unit],
            kind="ruling",
            title=_("延期申请已%(v)s：%(n)s") % {"v": verdict, "n": order.number},
            body=ruling,
            order=order,
        )
    return order


# --- parking (挂账 / 销账) -----------------------------------------------------------------------
def order_park(order: WorkOrder, *, actor: User, until: date, reason: str, now: datetime | None = None) -> WorkOrder:
    """挂账: the problem needs a long project; the clock stops until the parking is cleared."""
    now = _as_now(now)
    reason = _clean_text(reason, label=_("挂账理由"))
    if until is None or until <= timezone.localdate(now):
        raise DomainError(_("计划完成日期必须晚于今天。"), code="until")
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, OrderState.SIGNED)
        _no_pending_request(order)
        order.state, order.parked_at, order.parked_until = OrderState.PARKED, now, until
        order.save(update_fields=["state", "parked_at", "parked_until"])
        record(
            order,
            kind=Ev.PARKED,
            actor=actor,
            from_state=OrderState.SIGNED,
            to_state=OrderState.PARKED,
            at=now,
            note=reason,
            data={"until": until.isoformat()},
        )
    return order


def order_clear_parking(order: WorkOrder, *, actor: User, note: str, now: datetime | None = None) -> WorkOrder:
    """销账: the project is done; the clock resumes where it stopped (deadlines move by the time
    spent parked)."""
    now = _as_now(now)
    note = _clean_text(note, label=_("销账说明"))
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, OrderState.PARKED)
        paused = now - (order.parked_at or now)
        order.resolution_deadline += paused
        if order.resolution_warn_at:
            order.resolution_warn_at += paused
        fields = ["state", "parked_at", "resolution_deadline", "resolution_warn_at"]
        if order.responded_at is None:
            order.response_deadline += paused
            if order.response_warn_at:
                order.response_warn_at += paused
            fields += ["response_deadline", "response_warn_at"]
        order.state, order.parked_at = OrderState.SIGNED, None
        order.save(update_fields=fields)
        record(
            order,
            kind=Ev.PARKING_CLEARED,
            actor=actor,
            from_state=OrderState.PARKED,
            to_state=OrderState.SIGNED,
            at=now,
            note=note,
            data={"paused_seconds": int(paused.total_seconds())},
        )
    return order


# --- close (办结) --------------------------------------------------------------------------------
def order_close(
    order: WorkOrder,
    *,
    actor: User,
    result: str,
    result_note: str,
    action_taken: str,
    now: datetime | None = None,
) -> WorkOrder:
    now = _as_now(now)
    if result not in Result.values:
        raise DomainError(_("请选择办理结果。"), code="result")
    result_note = _clean_text(result_note, label=_("答复市民的说明"))
    action_taken = _clean_text(action_taken, label=_("办理情况"))
    with transaction.atomic():
        order = lock(order)
        _require_lead(order, actor)
        require_state(order, *HANDLING_STATES)
        if order.responded_at is None:
            raise DomainError(_("请先记录与市民的联系（响应），再办结。"), code="not_responded")
        _no_pending_request(order)
        from_state = order.state
        order.state, order.closed_at = OrderState.CLOSED, now
        order.result, order.result_note, order.action_taken = result, result_note, action_taken
        order.parked_at = None
        order.save(update_fields=["state", "closed_at", "result", "result_note", "action_taken", "parked_at"])
        record(
            order,
            kind=Ev.CLOSED,
            actor=actor,
            from_state=from_state,
            to_state=OrderState.CLOSED,
            at=now,
            note=result_note,
            data={"result": result, "action_taken": action_taken},
        )
    return order
