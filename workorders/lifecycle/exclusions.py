from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import facts
from districts.models import Unit
from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.models import Role, User
from workorders.lifecycle import attachments  # evidence is checked as handling's uploads are
from workorders.lifecycle.machinery import Ev, lock, record, supervisor_unit
from workorders.models import (
    ExclusionEvidence,
    ExclusionRequest,
    WorkOrder,
)
from workorders.notifications.outbox import notify_units

# --- Exclusions (剔除) ----------------------------------------------------------------------------
PENDING_EXCLUSION = (ExclusionRequest.State.PENDING_DISTRICT, ExclusionRequest.State.PENDING_CITY)


def _lock_request(request: ExclusionRequest | int) -> tuple[WorkOrder, ExclusionRequest]:
    """Lock the order, then the request (always in this order)."""
    pk = request.pk if isinstance(request, ExclusionRequest) else request
    order_id = ExclusionRequest.objects.values_list("order_id", flat=True).get(pk=pk)
    order = lock(order_id)
    return order, ExclusionRequest.objects.select_for_update().get(pk=pk)


def _require_exclusion_state(request: ExclusionRequest, *states: str) -> None:
    if request.state not in states:
        raise DomainError(
            _("该剔除申请当前状态为“%(state)s”，不能执行此操作。") % {"state": request.get_state_display()},
            code="invalid_state",
        )


def _city_units():
    return Unit.objects.filter(members__role=Role.CITY, members__is_active=True).distinct()


def exclusion_request(
    order: WorkOrder | int,
    *,
    actor: User,
    reason: str,
    explanation: str,
    files=(),
    now: datetime | None = None,
) -> ExclusionRequest:
    """The lead unit asks that the order not count in its assessment, with evidence."""
    explanation = (explanation or "").strip()
    if reason not in ExclusionRequest.Reason.values:
        raise DomainError(_("请选择剔除原因。"), code="reason")
    if not explanation:
        raise DomainError(_("请填写申请说明。"), code="explanation")
    checked = attachments.check_uploads(files)
    now = now or timezone.now()
    with transaction.atomic():
        order = lock(order)
        if not access.may_request_exclusion(actor, order):
            raise AccessDenied(_("只有工单的主办单位可以申请剔除。"))
        if order.excluded:
            raise DomainError(_("该工单已被剔除考核。"), code="already_excluded")
        if ExclusionRequest.objects.filter(order=order, state__in=PENDING_EXCLUSION).exists():
            raise DomainError(_("该工单已有待审核的剔除申请。"), code="pending")
        try:
            with transaction.atomic():
                request = ExclusionRequest.objects.create(
                    order=order, unit=actor.unit, requested_by=actor, reason=reason, explanation=explanation
                )
        except IntegrityError:
            raise DomainError(_("该工单已有待审核的剔除申请。"), code="pending") from None
        for upload, content_type in checked:
            ExclusionEvidence.objects.create(
                request=request,
                file=upload,
                name=(upload.name or "")[:200],
                size=upload.size,
                content_type=content_type,
            )
        record(
            order,
            kind=Ev.EXCLUSION_REQUESTED,
            actor=actor,
            note=explanation,
            data={"request": request.pk, "reason": reason, "evidence": len(checked)},
            at=now,
        )
        district = supervisor_unit(order.district)
        if district is not None:
            notify_units(
                units=[district],
                kind="exclusion_requested",
                title=_("剔除申请待审核：工单 %(number)s") % {"number": order.number},
                body=explanation,
                order=order,
                url=reverse("exclusion-detail", args=[request.pk]),
                roles=[Role.DISTRICT],
            )
    return request


def exclusion_decide_district(
    request: ExclusionRequest | int, *, actor: User, approve: bool, note: str = "", now: datetime | None = None
) -> ExclusionRequest:
    """The district of the order agrees (→ the city decides) or rejects."""
    note = (note or "").strip()
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(request)
        if not access.may_decide_exclusion_for_district(actor, order):
            raise AccessDenied(_("只有工单所在区可以进行区级审核。"))
        _require_exclusion_state(request, ExclusionRequest.State.PENDING_DISTRICT)
        if not approve and not note:
            raise DomainError(_("驳回时请填写意见。"), code="note")
        request.state = ExclusionRequest.State.PENDING_CITY if approve else ExclusionRequest.State.REJECTED
        request.district_decided_by = actor
        request.district_decided_at = now
        request.district_note = note
        request.save(update_fields=["state", "district_decided_by", "district_decided_at", "district_note"])
        record(
            order,
            kind=Ev.EXCLUSION_DISTRICT_APPROVED if approve else Ev.EXCLUSION_DISTRICT_REJECTED,
            actor=actor,
            note=note,
            data={"request": request.pk},
            at=now,
        )
        url = reverse("exclusion-detail", args=[request.pk])
        if approve:
            notify_units(
                units=_city_units(),
                kind="exclusion_pending_city",
                title=_("剔除申请待市级审核：工单 %(number)s") % {"number": order.number},
                body=note,
                order=order,
                url=url,
                roles=[Role.CITY],
            )
        else:
            notify_units(
                units=[request.unit],
                kind="exclusion_rejected",
                title=_("剔除申请被区级驳回：工单 %(number)s") % {"number": order.number},
                body=note,
                order=order,
                url=url,
            )
    return request


def exclusion_decide_city(
    request: ExclusionRequest | int, *, actor: User, approve: bool, note: str = "", now: datetime | None = None
) -> ExclusionRequest:
    """The city approves (the order no longer counts in the assessment) or rejects."""
    note = (note or "").strip()
    now = now or timezone.now()
    if not access.may_decide_exclusion_for_city(actor):
        raise AccessDenied(_("只有市级可以进行市级审核。"))
    with transaction.atomic():
        order, request = _lock_request(request)
        _require_exclusion_state(request, ExclusionRequest.State.PENDING_CITY)
        if not approve and not note:
            raise DomainError(_("驳回时请填写意见。"), code="note")
        request.state = ExclusionRequest.State.APPROVED if approve else ExclusionRequest.State.REJECTED
        request.city_decided_by = actor
        request.city_decided_at = now
        request.city_note = note
        request.save(update_fields=["state", "city_decided_by", "city_decided_at", "city_note"])
        if approve:
            order.excluded = True
            order.save(update_fields=["excluded"])
            facts.record_exclusion(order, request=request, at=now, actor=actor, note=note)
        record(
            order,
            kind=Ev.EXCLUSION_APPROVED if approve else Ev.EXCLUSION_REJECTED,
            actor=actor,
            note=note,
            data={"request": request.pk, "excluded": order.excluded},
            at=now,
        )
        units = [request.unit]
        district = supervisor_unit(order.district)
        if district is not None:
            units.append(district)
        notify_units(
            units=units,
            kind="exclusion_approved" if approve else "exclusion_rejected",
            title=(_("剔除申请已批准：工单 %(number)s") if approve else _("剔除申请被市级驳回：工单 %(number)s"))
            % {"number": order.number},
            body=note,
            order=order,
            url=reverse("exclusion-detail", args=[request.pk]),
        )
    return request


def exclusion_revoke(
    request: ExclusionRequest | int, *, actor: User, note: str, now: datetime | None = None
) -> ExclusionRequest:
    """The city reverses an approved exclusion, with a reason: the order counts again."""
    note = (note or "").strip()
    now = now or timezone.now()
    if not access.may_decide_exclusion_for_city(actor):
        raise AccessDenied(_("只有市级可以撤销剔除。"))
    if not note:
        raise DomainError(_("请填写撤销理由。"), code="note")
    with transaction.atomic():
        order, request = _lock_request(request)
        _require_exclusion_state(request, ExclusionRequest.State.APPROVED)
        request.state = ExclusionRequest.State.REVOKED
        request.revoked_by = actor
        request.revoked_at = now
        request.revoke_note = note
        request.save(update_fields=["state", "revoked_by", "revoked_at", "revoke_note"])
        order.excluded = False
        order.save(update_fields=["excluded"])
        facts.record_revocation(order, request=request, at=now, actor=actor, note=note)
        record(
            order,
            kind=Ev.EXCLUSION_REVOKED,
            actor=actor,
            note=note,
            data={"request": request.pk, "excluded": False},
            at=now,
        )
        units = [request.unit]
        district = supervisor_unit(order.district)
        if district is not None:
            units.append(district)
        notify_units(
            units=units,
            kind="exclusion_revoked",
            title=_("剔除已被市级撤销：工单 %(number)s") % {"number": order.number},
            body=note,
            order=order,
            url=reverse("exclusion-detail", args=[request.pk]),
        )
    return request
