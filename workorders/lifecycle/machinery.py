"""The machinery every transition of the order's life is built from (workorders/lifecycle/).

Each transition (creation, handling, callbacks, exclusions, self_evaluations) takes the order and
`actor=`, locks the row (`lock`), checks its row of the action table (actions.check), saves with
`update_fields`, writes exactly one immutable OrderEvent (`record`), and notifies through the outbox
(actions.tell: who is told is the row's). Pages, the API and tasks all call those functions;
nothing else changes `state`, deadlines or outcome fields.

Later rounds (callback → re-dispatch): `start_round(order, lead_unit, now)` puts an order back into a
unit's inbox with fresh deadlines; `set_deadlines` recomputes them; `routable_units` says which
units may lead an order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from districts.models import Division, Unit
from hotline import refcache, sqlinsert, textrules
from hotline.errors import DomainError
from hotline.live.signals import publish
from hotline.models import User
from workorders.lifecycle.deadlines import deadlines_for, warn_point
from workorders.models import (
    Assignment,
    OrderEvent,
    OrderParticipant,
    OrderState,
    WorkOrder,
)
from workorders.notifications.outbox import notify_units


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
    # dispatch inside the unit (lifecycle/assignments.py)
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    TAKEN_BACK = "taken_back"
    CLOSE_PROPOSED = "close_proposed"
    PROPOSAL_ACCEPTED = "proposal_accepted"
    PROPOSAL_SENT_BACK = "proposal_sent_back"
    INTERNAL_WARNED = "internal_warned"
    INTERNAL_OVERDUE = "internal_overdue"
    # 并单 / 拆单 / 保密 (lifecycle/merging.py, splitting.py, confidentiality.py)
    MERGED = "merged"  # on the surviving order
    MERGED_INTO = "merged_into"  # on each merged order
    UNMERGED = "unmerged"  # on the order taken out again
    MERGE_UNDONE = "merge_undone"  # on the surviving order
    SPLIT = "split"
    CONFIDENTIAL_SET = "confidential_set"
    CONFIDENTIAL_CLEARED = "confidential_cleared"


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
    Ev.ASSIGNED: gettext_lazy("内部派发"),
    Ev.REASSIGNED: gettext_lazy("内部转派"),
    Ev.TAKEN_BACK: gettext_lazy("中心收回"),
    Ev.CLOSE_PROPOSED: gettext_lazy("科室/社区拟办结"),
    Ev.PROPOSAL_ACCEPTED: gettext_lazy("中心同意办结"),
    Ev.PROPOSAL_SENT_BACK: gettext_lazy("中心退回拟办结"),
    Ev.INTERNAL_WARNED: gettext_lazy("内部时限即将到期预警"),
    Ev.INTERNAL_OVERDUE: gettext_lazy("内部办理超时"),
    Ev.MERGED: gettext_lazy("并单（其他工单并入本单）"),
    Ev.MERGED_INTO: gettext_lazy("并单（本单并入其他工单）"),
    Ev.UNMERGED: gettext_lazy("撤销并单（恢复办理）"),
    Ev.MERGE_UNDONE: gettext_lazy("撤销并单（工单移出）"),
    Ev.SPLIT: gettext_lazy("拆单"),
    Ev.CONFIDENTIAL_SET: gettext_lazy("设为保密工单"),
    Ev.CONFIDENTIAL_CLEARED: gettext_lazy("取消保密"),
}

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


def wrong_state(order: WorkOrder) -> DomainError:
    return DomainError(
        _("工单 %(number)s 当前状态为“%(state)s”，不能执行此操作。")
        % {"number": order.number, "state": order.get_state_display()},
        code="invalid_state",
    )


def require_state(order: WorkOrder, *states: str) -> None:
    if order.state not in states:
        raise wrong_state(order)


def record(
    order: WorkOrder,
    *,
    kind: str,
    actor: User | None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, object] | None = None,
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
    # Open pages of the units and district involved, and the city-wide ones, refresh after the commit.
    publish(
        units=[order.lead_unit_id, getattr(actor, "unit_id", None)],
        sections=[order.section_id],  # the members the order is assigned to inside the unit
        users=[order.assignee_id],
        districts=[order.district_id],
        city=True,
    )
    return event


def supervisor_unit(district: Division | None) -> Unit | None:
    """The district office that gets the supervision copy. Read from the per-process unit cache
    (reloaded on any unit change): every order creation and ruling asks for it."""
    if district is None:
        return None

    unit: Unit | None = refcache.unit_of_division(district.pk)
    if unit is not None and unit.kind == Unit.Kind.DISTRICT:
        return unit
    return Unit.objects.filter(division=district, kind=Unit.Kind.DISTRICT).first()


def routable_units(order: WorkOrder | None = None) -> QuerySet[Unit]:
    """Units that may lead an order: active streets, departments and district offices; for an order
    with a district, those of its district and the city-level departments. Forms offer these, and
    the re-dispatch after a callback refuses anything else, whichever entry point asks."""
    qs = Unit.objects.filter(is_active=True, kind__in=ROUTABLE_KINDS)
    if order is not None and order.district_id:
        qs = qs.filter(Q(district_id=order.district_id) | Q(district__isnull=True, kind=Unit.Kind.DEPARTMENT))
    return qs.order_by("kind", "code")


def require_routable(order: WorkOrder, unit: Unit) -> None:
    if not routable_units(order).filter(pk=unit.pk).exists():
        raise DomainError(
            _("“%(unit)s”不能承办本工单（须为本区的街乡镇、部门或市级部门）。") % {"unit": unit.name},
            code="invalid_unit",
        )


def clean_text(value: str, *, label: str, required: bool = True, limit: int = 2000) -> str:
    # The character rules live in hotline.textrules (invisible-only text is not "filled in").
    return textrules.clean_text(value, label=label, required=required, limit=limit)


def set_deadlines(order: WorkOrder, start: datetime) -> list[str]:
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


def start_round(
    order: WorkOrder,
    lead_unit: Unit | None = None,
    now: datetime | None = None,
    *,
    unit: Unit | None = None,
    new_round: bool | None = None,
) -> list[str]:
    """Put the (locked) order into a unit's inbox as a fresh dispatch with new deadlines.

    Re-routing after a return keeps the round (`start_round(order, unit, now)`); a re-dispatch
    after a callback starts the next round (`new_round=True`, which is also the default when called
    as `start_round(order, unit=..., now=...)` by the callback stage) and clears the previous
    round's result. Returns the fields changed; the caller saves them and records the event."""
    lead_unit = lead_unit or unit
    if lead_unit is None:
        raise TypeError("start_round() needs the unit to lead the order (lead_unit or unit=)")
    now = as_now(now)
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
    if order.section_id or order.assignee_id:
        # The order leaves the unit's internal owner (re-routed, or a new round): the assignment ends.
        Assignment.objects.filter(order_id=order.pk, ended_at__isnull=True).update(
            ended_at=now, end=Assignment.End.LEFT_UNIT
        )
        order.section = order.assignee = None
        order.internal_due_at = order.internal_warn_at = None
        fields += ["section", "assignee", "internal_due_at", "internal_warn_at"]
    if new_round:
        order.round += 1
        order.completed_at = None
        order.result, order.result_note, order.action_taken = "", "", ""
        fields += ["round", "completed_at", "result", "result_note", "action_taken"]
    fields += set_deadlines(order, now)
    _ensure_supervisor(order)
    return fields


def _order_url(order: WorkOrder) -> str:

    return reverse("order-detail", args=[order.pk])


def notify(units: Iterable[Unit], *, kind: str, title: str, order: WorkOrder, body: str = "") -> None:
    """A new order for its units (creation). Actions on an order notify through actions.tell."""
    notify_units(units=units, kind=kind, title=title, body=body, order=order, url=_order_url(order))


def rulers_of(order: WorkOrder) -> list[Unit]:
    supervisor = supervisor_unit(order.district)
    if supervisor is not None:
        return [supervisor]
    return list(Unit.objects.filter(kind=Unit.Kind.CENTER))


def as_now(now: datetime | None) -> datetime:
    return now or timezone.now()
