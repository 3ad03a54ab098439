from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from districts.models import Unit
from hotline.errors import AccessDenied, DomainError
from hotline.models import User
from workorders.lifecycle import actions, assignments, attachments
from workorders.lifecycle.deadlines import deadline_at, warn_point
from workorders.lifecycle.machinery import (
    ROUTABLE_KINDS,
    ContactMethod,
    Ev,
    as_now,
    clean_text,
    lock,
    record,
    start_round,
)
from workorders.models import (
    OrderAttachment,
    OrderEvent,
    OrderParticipant,
    OrderRequest,
    OrderState,
    Result,
    Whistle,
    WorkOrder,
)


# --- handling ---------------------------------------------------------------------------------
def order_sign(order: WorkOrder, *, actor: User, now: datetime | None = None) -> WorkOrder:
    """签收: the lead unit takes the order."""
    now = as_now(now)
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "sign")
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
    now = as_now(now)
    if method not in dict(ContactMethod.CHOICES):
        raise DomainError(_("请选择联系方式（电话、上门或短信）。"), code="method")
    summary = clean_text(summary, label=_("沟通内容"))
    if contacted_at is None:
        raise DomainError(_("请填写联系时间。"), code="required")
    if contacted_at > now + timedelta(minutes=1):
        raise DomainError(_("联系时间不能晚于当前时间。"), code="future")
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "respond")
        # the form's time has minutes only: a contact in the minute of the dispatch is not "before" it
        if contacted_at < order.dispatched_at.replace(second=0, microsecond=0):
            raise DomainError(_("联系时间不能早于派单时间。"), code="before_dispatch")
        data: dict[str, object] = {"method": method, "contacted_at": contacted_at.isoformat()}
        if order.responded_at is None:
            order.responded_at = contacted_at
            # While parked the response clock is stopped too: compare with the deadline as it stands.
            deadline = deadline_at(order.response_deadline, parked_at=order.parked_at, moment=contacted_at)
            order.responded_in_time = contacted_at <= deadline
            order.save(update_fields=["responded_at", "responded_in_time"])
            data["in_time"] = order.responded_in_time
            record(order, kind=Ev.RESPONDED, actor=actor, note=summary, data=data, at=now)
        else:
            record(order, kind=Ev.CONTACT, actor=actor, note=summary, data=data, at=now)
        assignments.mark_internal_response(order, actor, now)
    return order


def order_add_note(
    order: WorkOrder, *, actor: User, note: str, files: Iterable[UploadedFile] = (), now: datetime | None = None
) -> OrderEvent:
    """办理记录: what was done, with photos or documents. Lead, co-handlers and whistled
    departments may add them."""
    now = as_now(now)
    note = clean_text(note, label=_("办理记录"))
    checked = attachments.check_uploads(files)
    stored = []
    try:
        with transaction.atomic():
            order = lock(order)
            actions.check(order, actor, "note")
            event = record(order, kind=Ev.NOTE, actor=actor, note=note, at=now, data={"files": len(checked)})
            assignments.mark_internal_response(order, actor, now)
            for upload, content_type in checked:
                if upload.name is None or upload.size is None:  # check_uploads refuses either
                    raise ValueError("an upload without a name or a size passed the checks")
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

        for name in stored:
            default_storage.delete(name)
        raise
    return event


def order_add_co_units(
    order: WorkOrder, *, actor: User, units: Iterable[Unit], now: datetime | None = None
) -> WorkOrder:
    """协办: the lead unit brings other units in; they see the order and add records."""
    now = as_now(now)
    chosen = {u.pk: u for u in units}
    if not chosen:
        raise DomainError(_("请选择协办单位。"), code="required")
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "co")
        for u in chosen.values():
            if u.pk == order.lead_unit_id or not u.is_active or u.kind not in (Unit.Kind.STREET, Unit.Kind.DEPARTMENT):
                raise DomainError(_("“%(unit)s”不能作为协办单位。") % {"unit": u.name}, code="invalid_unit")
        existing = set(
            OrderParticipant.objects.filter(
                order=order, role=OrderParticipant.Role.CO_HANDLER, unit_id__in=chosen
            ).values_list("unit_id", flat=True)
        )
        new = [u for pk, u in chosen.items() if pk not in existing]
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
        actions.tell(
            "co",
            order,
            to="added_units",
            title=_("协办工单 %(n)s：%(t)s") % {"n": order.number, "t": order.title},
            units=new,
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
    now = as_now(now)
    if level not in Whistle.Level.values:
        raise DomainError(_("请选择吹哨级别。"), code="level")
    reason = clean_text(reason, label=_("吹哨事由"))
    if to_unit is None or to_unit.kind != Unit.Kind.DEPARTMENT or not to_unit.is_active:
        raise DomainError(_("只能向职能部门吹哨。"), code="invalid_unit")
    if report_by is None or report_by <= now:
        raise DomainError(_("报到时限必须晚于当前时间。"), code="report_by")
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "whistle")
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
        actions.tell(
            "whistle",
            order,
            to="whistled_unit",
            title=_("吹哨（%(level)s）%(n)s：%(t)s")
            % {"level": whistle.get_level_display(), "n": order.number, "t": order.title},
            body=reason,
            to_unit=to_unit,
        )
    return whistle


def order_whistle_report(
    order: WorkOrder, *, actor: User, whistle: int, note: str, now: datetime | None = None
) -> Whistle:
    """报到 from the order page: the whistle is named by its id on this order."""
    found = Whistle.objects.filter(order_id=order.pk, pk=whistle).first()
    if found is None:
        raise DomainError(_("吹哨记录不存在。"), code="not_found")
    return whistle_report(found, actor=actor, note=note, now=now)


def whistle_report(whistle: Whistle, *, actor: User, note: str, now: datetime | None = None) -> Whistle:
    """报到: the whistled department reports and says what it did."""

    now = as_now(now)
    note = clean_text(note, label=_("报到及处置情况"))
    with transaction.atomic():
        # Locks in a fixed order: the order first, then the whistle.
        order = lock(whistle.order_id)
        whistle = Whistle.objects.select_for_update().get(pk=whistle.pk)
        if actor.unit_id != whistle.to_unit_id or actor.unit is None:
            raise AccessDenied(_("只有被吹哨的部门可以报到。"))
        if whistle.state != Whistle.State.OPEN:
            raise DomainError(_("该吹哨已报到，不能重复报到。"), code="invalid_state")
        actions.check(order, actor, "report")
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
        actions.tell(
            "report",
            order,
            to="lead_unit",
            title=_("%(unit)s 已报到：%(n)s") % {"unit": actor.unit.name, "n": order.number},
            body=note,
        )
    return whistle


# --- return (退单) -------------------------------------------------------------------------------
def order_request_return(
    order: WorkOrder, *, actor: User, reason_code: str, reason: str, now: datetime | None = None
) -> OrderRequest:
    now = as_now(now)
    if reason_code not in OrderRequest.ReturnReason.values:
        raise DomainError(_("请选择退单原因。"), code="reason_code")
    reason = clean_text(reason, label=_("退单理由"))
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "return")
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
        actions.tell(
            "return",
            order,
            to="rulers",
            title=_("退单待审：%(n)s（%(unit)s）") % {"n": order.number, "unit": order.lead_unit.name},
            body=reason,
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
    now = as_now(now)
    ruling = clean_text(ruling, label=_("审批意见"), required=not accept)  # a refusal says why
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "rule_return")
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
            fields = start_round(order, reroute_unit, now)
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
        actions.tell(
            "rule_return",
            order,
            to="previous_lead",
            title=_("退单申请已%(v)s：%(n)s") % {"v": verdict, "n": order.number},
            body=ruling,
            previous_lead=old_unit,
        )
        if accept:
            actions.tell(
                "rule_return",
                order,
                to="new_lead",
                when="accepted",
                title=_("改派工单 %(n)s：%(t)s") % {"n": order.number, "t": order.title},
            )
    return order


# --- extension (延期) ---------------------------------------------------------------------------
def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def order_request_extension(
    order: WorkOrder, *, actor: User, new_deadline: datetime, reason: str, now: datetime | None = None
) -> OrderRequest:
    now = as_now(now)
    reason = clean_text(reason, label=_("延期理由"))
    if new_deadline is None:
        raise DomainError(_("请填写申请延期至的日期。"), code="required")
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "extend")
        if new_deadline <= max(order.resolution_deadline, now):
            raise DomainError(
                _("延期后的时限必须晚于当前办结时限（%(d)s）。")
                % {"d": timezone.localtime(order.resolution_deadline).strftime("%Y-%m-%d %H:%M")},
                code="new_deadline",
            )
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
        actions.tell(
            "extend",
            order,
            to="rulers",
            title=_("延期待审：%(n)s（%(unit)s）") % {"n": order.number, "unit": order.lead_unit.name},
            body=reason,
        )
    return req


def order_rule_extension(
    order: WorkOrder, *, actor: User, approve: bool, ruling: str, now: datetime | None = None
) -> WorkOrder:
    now = as_now(now)
    ruling = clean_text(ruling, label=_("审批意见"), required=not approve)  # a refusal says why
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "rule_extension")
        req = (
            OrderRequest.objects.select_for_update()
            .filter(order=order, kind=OrderRequest.Kind.EXTENSION, state=OrderRequest.State.PENDING)
            .first()
        )
        if req is None:
            raise DomainError(_("该工单没有待审批的延期申请。"), code="no_request")
        data: dict[str, object] = {"request": req.pk}
        if approve:
            old, new_deadline = order.resolution_deadline, req.requested_deadline
            if new_deadline is None:  # an extension request always names its date (order_request_extension)
                raise ValueError(f"extension request {req.pk} has no requested deadline")
            order.resolution_deadline = new_deadline
            order.resolution_warn_at = warn_point(now, new_deadline, order.tier.warn_ratio)
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
            data.update(old_deadline=old.isoformat(), new_deadline=new_deadline.isoformat())
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
        actions.tell(
            "rule_extension",
            order,
            to="lead_unit",
            title=_("延期申请已%(v)s：%(n)s") % {"v": verdict, "n": order.number},
            body=ruling,
        )
    return order


# --- parking (挂账 / 销账) -----------------------------------------------------------------------
def order_park(order: WorkOrder, *, actor: User, until: date, reason: str, now: datetime | None = None) -> WorkOrder:
    """挂账: the problem needs a long project; the clock stops until the parking is cleared."""
    now = as_now(now)
    reason = clean_text(reason, label=_("挂账理由"))
    if until is None or until <= timezone.localdate(now):
        raise DomainError(_("计划完成日期必须晚于今天。"), code="until")
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "park")
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
    now = as_now(now)
    note = clean_text(note, label=_("销账说明"))
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "clear")
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
    confirm_open_whistles: bool = False,
    whistle_reason: str = "",
    now: datetime | None = None,
) -> WorkOrder:
    """办结. While a whistled department has not reported, closing needs an explicit confirmation
    with a reason, recorded in the event."""
    now = as_now(now)
    if result not in Result.values:
        raise DomainError(_("请选择办理结果。"), code="result")
    result_note = clean_text(result_note, label=_("答复市民的说明"))
    action_taken = clean_text(action_taken, label=_("办理情况"))
    whistle_reason = clean_text(whistle_reason, label=_("未报到仍办结的理由"), required=False)
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "close")
        waiting = list(
            Whistle.objects.filter(order=order, state=Whistle.State.OPEN).values_list("to_unit__name", flat=True)
        )
        data: dict[str, object] = {"result": result, "action_taken": action_taken}
        if waiting:
            if not (confirm_open_whistles and whistle_reason):
                raise DomainError(
                    _("吹哨部门尚未报到：%(units)s。如确需办结，请勾选确认并填写理由。")
                    % {"units": "、".join(waiting)},
                    code="open_whistles",
                )
            data.update(open_whistles=waiting, whistle_reason=whistle_reason)
        from_state = order.state
        order.state, order.closed_at = OrderState.CLOSED, now
        order.result, order.result_note, order.action_taken = result, result_note, action_taken
        order.parked_at = None
        order.save(update_fields=["state", "closed_at", "result", "result_note", "action_taken", "parked_at"])
        assignments.closed(order, now)
        record(
            order,
            kind=Ev.CLOSED,
            actor=actor,
            from_state=from_state,
            to_state=OrderState.CLOSED,
            at=now,
            note=result_note,
            data=data,
        )
    return order
