from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import facts
from hotline.errors import DomainError
from hotline.models import User
from workorders.lifecycle import actions, attachments  # evidence is checked as handling's uploads are
from workorders.lifecycle.machinery import Ev, lock, record
from workorders.models import (
    ExclusionEvidence,
    ExclusionRequest,
    WorkOrder,
)

# --- Exclusions (剔除) ----------------------------------------------------------------------------


def _lock_request(request: ExclusionRequest | int) -> tuple[WorkOrder, ExclusionRequest]:
    """Lock the order, then the request (always in this order)."""
    pk = request.pk if isinstance(request, ExclusionRequest) else request
    order_id = ExclusionRequest.objects.values_list("order_id", flat=True).get(pk=pk)
    order = lock(order_id)
    return order, ExclusionRequest.objects.select_for_update().get(pk=pk)


def exclusion_request(
    order: WorkOrder | int,
    *,
    actor: User,
    reason: str,
    explanation: str,
    files: Iterable[UploadedFile] = (),
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
        actions.check(order, actor, "exclusion_request", now=now)
        if actor.unit is None:  # the check lets only the lead unit's center file
            raise ValueError(f"user {actor.pk} has no unit and passed the exclusion_request check")
        try:
            with transaction.atomic():
                request = ExclusionRequest.objects.create(
                    order=order, unit=actor.unit, requested_by=actor, reason=reason, explanation=explanation
                )
        except IntegrityError:
            raise DomainError(_("该工单已有待审核的剔除申请。"), code="pending") from None
        for upload, content_type in checked:
            if upload.size is None:  # check_uploads refuses it
                raise ValueError("an upload without a size passed the checks")
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
        actions.tell(
            "exclusion_request",
            order,
            to="district_office",
            title=_("剔除申请待审核：工单 %(number)s") % {"number": order.number},
            body=explanation,
            url=reverse("exclusion-detail", args=[request.pk]),
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
        actions.check(order, actor, "exclusion_decide_district", subject=request, now=now)
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
            actions.tell(
                "exclusion_decide_district",
                order,
                to="city_center",
                when="approved",
                title=_("剔除申请待市级审核：工单 %(number)s") % {"number": order.number},
                body=note,
                url=url,
            )
        else:
            actions.tell(
                "exclusion_decide_district",
                order,
                to="filer",
                when="rejected",
                title=_("剔除申请被区级驳回：工单 %(number)s") % {"number": order.number},
                body=note,
                url=url,
                request=request,
            )
    return request


def exclusion_decide_city(
    request: ExclusionRequest | int, *, actor: User, approve: bool, note: str = "", now: datetime | None = None
) -> ExclusionRequest:
    """The city approves (the order no longer counts in the assessment) or rejects."""
    note = (note or "").strip()
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(request)
        actions.check(order, actor, "exclusion_decide_city", subject=request, now=now)
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
        actions.tell(
            "exclusion_decide_city",
            order,
            to="filer_and_district",
            when="approved" if approve else "rejected",
            title=(_("剔除申请已批准：工单 %(number)s") if approve else _("剔除申请被市级驳回：工单 %(number)s"))
            % {"number": order.number},
            body=note,
            url=reverse("exclusion-detail", args=[request.pk]),
            request=request,
        )
    return request


def exclusion_revoke(
    request: ExclusionRequest | int, *, actor: User, note: str, now: datetime | None = None
) -> ExclusionRequest:
    """The city reverses an approved exclusion, with a reason: the order counts again."""
    note = (note or "").strip()
    now = now or timezone.now()
    if not note:
        raise DomainError(_("请填写撤销理由。"), code="note")
    with transaction.atomic():
        order, request = _lock_request(request)
        actions.check(order, actor, "exclusion_revoke", subject=request, now=now)
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
        actions.tell(
            "exclusion_revoke",
            order,
            to="filer_and_district",
            title=_("剔除已被市级撤销：工单 %(number)s") % {"number": order.number},
            body=note,
            url=reverse("exclusion-detail", args=[request.pk]),
            request=request,
        )
    return request
