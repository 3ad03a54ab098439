"""Dispatch inside a unit (二次派单 / 转派): the center of the lead unit assigns the order to one of
its sections or community committees and/or to a person, reassigns it or takes it back; the
sub-unit proposes closing; the center accepts (→ the order's own close transition) or sends the
proposal back. Each function is one transition: lock, actions.check, save, one event, and the
notifications its row in the action table declares (actions.tell). The hotline's deadlines and the
assessment stay the unit's; an optional internal due time per assignment is warned and marked
overdue by the deadline sweep (`sweep`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from districts.models import Section
from hotline import access
from hotline.errors import DomainError
from hotline.live.signals import publish
from hotline.models import User
from workorders.lifecycle import actions
from workorders.lifecycle.machinery import Ev, as_now, clean_text, lock, record
from workorders.models import Assignment, CloseProposal, OrderEvent, Result, WorkOrder
from workorders.notifications.outbox import notify_users

# How much of the internal time may pass before the sweep warns (as the tiers' default).
WARN_RATIO = 0.75


# --- who hears about it -------------------------------------------------------------------------
def owners_of(unit_id: int, section_id: int | None, assignee_id: int | None) -> list[int]:
    """Active members of the section and the assigned person."""
    q = Q(pk=assignee_id) if assignee_id else Q(pk__in=[])
    if section_id:
        q |= Q(section_id=section_id)
    return list(User.objects.filter(q, unit_id=unit_id, is_active=True).values_list("pk", flat=True))


def center_of(unit_id: int) -> list[int]:
    return list(
        User.objects.filter(
            unit_id=unit_id, section__isnull=True, is_active=True, role__in=access.SUB_UNIT_ROLES
        ).values_list("pk", flat=True)
    )


def _notify(user_ids: Iterable[int], *, kind: str, title: str, order: WorkOrder, body: str = "") -> None:
    """The sweep's internal warnings (not an action: no row in the action table)."""
    notify_users(user_ids, kind=kind, title=title, body=body, order=order, url=reverse("order-detail", args=[order.pk]))


def _owner_label(section: Section | None, assignee: User | None) -> str:
    parts = [p for p in (section.name if section else "", assignee.display_name if assignee else "") if p]
    return " / ".join(parts)


# --- reads the transitions share -----------------------------------------------------------------
def current_assignment(order: WorkOrder, *, for_update: bool = False) -> Assignment | None:
    qs = Assignment.objects.filter(order_id=order.pk, ended_at__isnull=True)
    if for_update:
        qs = qs.select_for_update()
    return qs.first()


def _end_current(order: WorkOrder, end: str, now: datetime) -> Assignment | None:
    current = current_assignment(order, for_update=True)
    if current is not None:
        current.ended_at, current.end = now, end
        current.save(update_fields=["ended_at", "end"])
    return current


def _clear_owner(order: WorkOrder) -> list[str]:
    order.section = order.assignee = None
    order.internal_due_at = order.internal_warn_at = None
    return ["section", "assignee", "internal_due_at", "internal_warn_at"]


def closed(order: WorkOrder, now: datetime) -> None:
    """The order was closed to the hotline (handling.order_close): the assignment ends, the owner stays
    on the order as the record of who handled it."""
    _end_current(order, Assignment.End.CLOSED, now)


def mark_internal_response(order: WorkOrder, actor: User, now: datetime) -> None:
    """The sub-unit's first handling after the assignment (contact, note, proposal) stops its internal
    response clock (the scorecard's median response)."""
    if not access.owns_order(actor, order):
        return
    current = current_assignment(order)
    if current is not None and current.responded_at is None:
        seconds = max(0, int((now - current.assigned_at).total_seconds()))
        Assignment.objects.filter(pk=current.pk, responded_at__isnull=True).update(
            responded_at=now, response_seconds=seconds
        )


# --- transitions ------------------------------------------------------------------------------------
def _validate_target(order: WorkOrder, section: Section | None, assignee: User | None) -> None:
    if section is None and assignee is None:
        raise DomainError(_("请选择科室/社区或承办人。"), code="required")
    if section is not None and (section.unit_id != order.lead_unit_id or not section.is_active):
        raise DomainError(
            _("“%(s)s”不是本单位启用的科室/社区，不能派发。") % {"s": section.name}, code="invalid_section"
        )
    if assignee is not None:
        if (
            assignee.unit_id != order.lead_unit_id
            or not assignee.is_active
            or not access.may(assignee, access.Cap.HANDLE)
        ):
            raise DomainError(
                _("“%(u)s”不是本单位的承办人员，不能派发。") % {"u": assignee.display_name}, code="invalid_assignee"
            )
        if section is not None and assignee.section_id not in (None, section.pk):
            raise DomainError(
                _("“%(u)s”不属于“%(s)s”。") % {"u": assignee.display_name, "s": section.name}, code="invalid_assignee"
            )
        if section is None and assignee.section_id is None:
            raise DomainError(_("请选择科室/社区的成员作为承办人，或同时选择科室/社区。"), code="invalid_assignee")


def order_assign(
    order: WorkOrder,
    *,
    actor: User,
    section: Section | None = None,
    assignee: User | None = None,
    due_at: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Assignment:
    """派发/转派: the center gives the order to a section or community committee and/or a person of
    the unit, with an optional internal due time. A second assignment is a reassignment."""
    now = as_now(now)
    note = clean_text(note, label=_("派发说明"), required=False)
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "assign")
        _validate_target(order, section, assignee)
        if due_at is not None and (due_at <= now or due_at > order.resolution_deadline):
            raise DomainError(
                _("内部办理时限须晚于当前时间，且不晚于办结时限。"),
                code="due_at",
            )
        if (order.section_id, order.assignee_id) == (getattr(section, "pk", None), getattr(assignee, "pk", None)):
            raise DomainError(_("工单已派发给所选科室/承办人。"), code="duplicate")
        previous = _end_current(order, Assignment.End.REASSIGNED, now)
        if previous is not None:  # the sub-unit it leaves: its open pages drop the order
            publish(sections=[previous.section_id], users=[previous.assignee_id])
        warn_at = now + (due_at - now) * WARN_RATIO if due_at else None
        assignment = Assignment.objects.create(
            order=order,
            unit_id=order.lead_unit_id,
            round=order.round,
            section=section,
            assignee=assignee,
            assigned_by=actor,
            assigned_at=now,
            note=note,
            due_at=due_at,
            warn_at=warn_at,
        )
        old_owners = owners_of(order.lead_unit_id, order.section_id, order.assignee_id) if previous else []
        order.section, order.assignee = section, assignee
        order.internal_due_at, order.internal_warn_at = due_at, warn_at
        order.save(update_fields=["section", "assignee", "internal_due_at", "internal_warn_at"])
        label = _owner_label(section, assignee)
        record(
            order,
            kind=Ev.REASSIGNED if previous else Ev.ASSIGNED,
            actor=actor,
            at=now,
            note=note,
            data={
                "assignment": assignment.pk,
                "section": getattr(section, "pk", None),
                "assignee": getattr(assignee, "pk", None),
                "to_unit_name": label,
                "due_at": due_at.isoformat() if due_at else None,
            },
        )
        actions.tell(
            "assign",
            order,
            to="owners",
            title=_("内部派发工单 %(n)s：%(t)s") % {"n": order.number, "t": order.title},
            body=note,
        )
        if old_owners:
            actions.tell(
                "assign",
                order,
                to="previous_owners",
                title=_("工单 %(n)s 已转派给 %(to)s") % {"n": order.number, "to": label},
                previous_owners=set(old_owners) - {getattr(assignee, "pk", None)},
            )
    return assignment


def order_take_back(order: WorkOrder, *, actor: User, reason: str, now: datetime | None = None) -> WorkOrder:
    """收回: the center takes the order back from the sub-unit."""
    now = as_now(now)
    reason = clean_text(reason, label=_("收回理由"))
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "take_back")
        owners = owners_of(order.lead_unit_id, order.section_id, order.assignee_id)
        publish(sections=[order.section_id], users=[order.assignee_id])  # it leaves the sub-unit
        _end_current(order, Assignment.End.TAKEN_BACK, now)
        order.save(update_fields=_clear_owner(order))
        record(order, kind=Ev.TAKEN_BACK, actor=actor, at=now, note=reason)
        actions.tell(
            "take_back",
            order,
            to="previous_owners",
            title=_("工单 %(n)s 已被中心收回") % {"n": order.number},
            body=reason,
            previous_owners=owners,
        )
    return order


def order_propose_close(
    order: WorkOrder,
    *,
    actor: User,
    result: str,
    result_note: str,
    action_taken: str,
    now: datetime | None = None,
) -> CloseProposal:
    """拟办结: the sub-unit says it is done and proposes the answer; the center reviews it."""
    now = as_now(now)
    if result not in Result.values:
        raise DomainError(_("请选择办理结果。"), code="result")
    result_note = clean_text(result_note, label=_("答复市民的说明"))
    action_taken = clean_text(action_taken, label=_("办理情况"))
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "propose_close")
        assignment = current_assignment(order, for_update=True)
        if assignment is None:  # an owner always has one; be safe
            raise DomainError(_("该工单尚未在单位内部派发。"), code="not_assigned")
        proposal = CloseProposal.objects.create(
            order=order,
            assignment=assignment,
            proposed_by=actor,
            proposed_at=now,
            result=result,
            result_note=result_note,
            action_taken=action_taken,
        )
        mark_internal_response(order, actor, now)
        record(
            order,
            kind=Ev.CLOSE_PROPOSED,
            actor=actor,
            at=now,
            note=result_note,
            data={"proposal": proposal.pk, "result": result, "action_taken": action_taken},
        )
        actions.tell(
            "propose_close",
            order,
            to="center",
            title=_("拟办结待审核：%(n)s（%(who)s）")
            % {"n": order.number, "who": _owner_label(order.section, order.assignee)},
            body=result_note,
        )
    return proposal


def order_review_proposal(
    order: WorkOrder,
    *,
    actor: User,
    accept: bool,
    reason: str = "",
    confirm_open_whistles: bool = False,
    whistle_reason: str = "",
    now: datetime | None = None,
) -> WorkOrder:
    """The center's review of a proposal to close: accept → the order is closed to the hotline with the
    proposal's result (handling.order_close, its own event); send back → the sub-unit works on, with
    the reason."""
    from workorders.lifecycle import handling  # handling imports this module (close ends the assignment)

    now = as_now(now)
    reason = clean_text(reason, label=_("退回理由"), required=not accept)
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "review_proposal")
        proposal = CloseProposal.objects.select_for_update().get(order=order, state=CloseProposal.State.PENDING)
        owners = [*owners_of(order.lead_unit_id, order.section_id, order.assignee_id), proposal.proposed_by_id]
        proposal.state = CloseProposal.State.ACCEPTED if accept else CloseProposal.State.SENT_BACK
        proposal.decided_by, proposal.decided_at, proposal.reason = actor, now, reason
        proposal.save(update_fields=["state", "decided_by", "decided_at", "reason"])
        record(
            order,
            kind=Ev.PROPOSAL_ACCEPTED if accept else Ev.PROPOSAL_SENT_BACK,
            actor=actor,
            at=now,
            note=reason,
            data={"proposal": proposal.pk},
        )
        if accept:
            order = handling.order_close(
                order,
                actor=actor,
                result=proposal.result,
                result_note=proposal.result_note,
                action_taken=proposal.action_taken,
                confirm_open_whistles=confirm_open_whistles,
                whistle_reason=whistle_reason,
                now=now,
            )
        actions.tell(
            "review_proposal",
            order,
            to="previous_owners",
            title=(_("拟办结已同意，工单已办结：%(n)s") if accept else _("拟办结被退回：%(n)s")) % {"n": order.number},
            body=reason,
            previous_owners=owners,
        )
    return order


# --- the sweep's part ---------------------------------------------------------------------------------
def sweep(now: datetime, batch: int = 1000) -> dict[str, int]:
    """Warn and mark overdue the internal due times of current assignments (called by the deadline
    sweep every minute). Conditional UPDATEs on rows taken through partial indexes: running twice does
    nothing twice."""
    return {
        "internal_overdue": _sweep_phase(now, batch, due="due_at", mark="overdue_at", kind=Ev.INTERNAL_OVERDUE),
        "internal_warning": _sweep_phase(now, batch, due="warn_at", mark="warned_at", kind=Ev.INTERNAL_WARNED),
    }


def _sweep_phase(now: datetime, batch: int, *, due: str, mark: str, kind: str) -> int:
    condition = Q(ended_at__isnull=True, **{f"{mark}__isnull": True, f"{due}__isnull": False, f"{due}__lte": now})
    if mark == "warned_at":
        condition &= Q(overdue_at__isnull=True)  # overdue already said more
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                Assignment.objects.filter(condition)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("order")
                .order_by(due)[:batch]
            )
            if not rows:
                return total
            ids = [a.pk for a in rows]
            Assignment.objects.filter(condition, pk__in=ids).update(**{mark: now})
            OrderEvent.objects.bulk_create(
                [OrderEvent(order_id=a.order_id, at=now, kind=kind, round=a.order.round) for a in rows]
            )
            title = (
                _("内部办理超时：%(n)s %(t)s") if kind == Ev.INTERNAL_OVERDUE else _("内部时限即将到期：%(n)s %(t)s")
            )
            for a in rows:
                people = owners_of(a.unit_id, a.section_id, a.assignee_id)
                if kind == Ev.INTERNAL_OVERDUE:
                    people += center_of(a.unit_id)
                _notify(people, kind=kind, title=title % {"n": a.order.number, "t": a.order.title}, order=a.order)
            total += len(rows)
        if len(rows) < batch:
            return total
