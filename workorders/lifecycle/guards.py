"""The state guard of every handling transition, declared once.

Each transition calls `check(order, actor, action)` on the locked order before it writes; the order
page and the API ask `permitted(order, user)` which actions to offer, so what is offered is exactly
what the transitions accept (the transitions still check again, under the row lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.utils.translation import gettext as _

from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.models import User
from workorders.lifecycle.machinery import wrong_state
from workorders.models import CloseProposal, OrderParticipant, OrderRequest, OrderState, Whistle, WorkOrder

# Who may act (checked before the state, as the transitions always did).
LEAD = "lead"  # a handler of the order's lead unit (its center: a user of the unit without a section)
OWNER = "owner"  # a member of the section/community (or the person) the order is assigned to inside the unit
LEAD_OR_OWNER = "lead_or_owner"
HANDLER = "handler"  # the lead unit, its assigned sub-unit, a co-handler or a whistled department
WHISTLED = "whistled"  # a unit with an open whistle on the order
RULER = "ruler"  # the manager of the order's district, or the city

HANDLING_STATES = (OrderState.SIGNED, OrderState.PARKED)


@dataclass(frozen=True)
class Guard:
    who: str
    states: tuple[str, ...]
    no_pending_request: bool = False  # refused while a return or extension waits for a ruling
    pending_kind: str = ""  # needs a pending request of this kind (the rulings)
    needs_response: bool = False  # the caller must have been contacted first (close)
    no_pending_proposal: bool = False  # refused while a sub-unit's proposal to close waits for review
    needs_proposal: bool = False  # needs a pending proposal to close (the center's review)
    needs_assignment: bool = False  # the order must be assigned inside the unit (take back)


GUARDS: dict[str, Guard] = {
    "sign": Guard(LEAD, (OrderState.DISPATCHED,)),
    "respond": Guard(LEAD_OR_OWNER, HANDLING_STATES),
    "note": Guard(HANDLER, (OrderState.DISPATCHED, *HANDLING_STATES, OrderState.RETURN_REQUESTED)),
    "co": Guard(LEAD, HANDLING_STATES),
    "whistle": Guard(LEAD, HANDLING_STATES),
    "report": Guard(WHISTLED, (*HANDLING_STATES, OrderState.RETURN_REQUESTED)),
    "extend": Guard(LEAD, (OrderState.SIGNED,), no_pending_request=True),
    "park": Guard(LEAD, (OrderState.SIGNED,), no_pending_request=True),
    "clear": Guard(LEAD, (OrderState.PARKED,)),
    "return": Guard(
        LEAD, (OrderState.DISPATCHED, OrderState.SIGNED), no_pending_request=True, no_pending_proposal=True
    ),
    "close": Guard(LEAD, HANDLING_STATES, no_pending_request=True, needs_response=True, no_pending_proposal=True),
    # 二次派单 (lifecycle/assignments.py)
    "assign": Guard(LEAD, HANDLING_STATES, no_pending_proposal=True),
    "take_back": Guard(LEAD, HANDLING_STATES, needs_assignment=True, no_pending_proposal=True),
    "propose_close": Guard(
        OWNER, HANDLING_STATES, no_pending_request=True, needs_response=True, no_pending_proposal=True
    ),
    "review_proposal": Guard(LEAD, HANDLING_STATES, needs_proposal=True),
    "rule_return": Guard(RULER, (OrderState.RETURN_REQUESTED,), pending_kind=OrderRequest.Kind.RETURN),
    # A refusal leaves the order as it is; an approval moves the deadline of an order being handled.
    "rule_extension": Guard(RULER, (*HANDLING_STATES,), pending_kind=OrderRequest.Kind.EXTENSION),
}


class _Facts:
    """What the guards ask about one order and one user, each looked up at most once."""

    def __init__(self, order: WorkOrder, user: User):
        self.order, self.user = order, user
        self.unit_id = getattr(user, "unit_id", None)

    @cached_property
    def is_lead(self) -> bool:
        return (
            access.may(self.user, access.Cap.HANDLE)
            and self.unit_id == self.order.lead_unit_id
            and access.section_of(self.user) is None
        )

    @cached_property
    def is_owner(self) -> bool:
        return access.may(self.user, access.Cap.HANDLE) and access.owns_order(self.user, self.order)

    @cached_property
    def proposal(self) -> CloseProposal | None:
        return CloseProposal.objects.filter(order_id=self.order.pk, state=CloseProposal.State.PENDING).first()

    @cached_property
    def participates(self) -> bool:
        if self.unit_id is None or not access.may(self.user, access.Cap.HANDLE) or access.section_of(self.user):
            return False
        return OrderParticipant.objects.filter(
            order_id=self.order.pk,
            unit_id=self.unit_id,
            role__in=[OrderParticipant.Role.CO_HANDLER, OrderParticipant.Role.WHISTLED],
        ).exists()

    @cached_property
    def whistled(self) -> bool:
        if self.unit_id is None or not access.may(self.user, access.Cap.ANSWER_WHISTLE) or access.section_of(self.user):
            return False
        return Whistle.objects.filter(
            order_id=self.order.pk, to_unit_id=self.unit_id, state=Whistle.State.OPEN
        ).exists()

    @cached_property
    def pending(self) -> OrderRequest | None:
        return OrderRequest.objects.filter(order_id=self.order.pk, state=OrderRequest.State.PENDING).first()

    def may_act(self, who: str) -> bool:
        if who == LEAD:
            return self.is_lead
        if who == OWNER:
            return self.is_owner
        if who == LEAD_OR_OWNER:
            return self.is_lead or self.is_owner
        if who == HANDLER:
            return self.is_lead or self.is_owner or self.participates
        if who == WHISTLED:
            return self.whistled
        return access.may_rule_requests(self.user, self.order)


REFUSALS = {
    LEAD: lambda: AccessDenied(_("只有主办单位的承办人（中心）可以执行此操作。")),
    OWNER: lambda: AccessDenied(_("只有本工单内部派发到的科室/社区或承办人可以执行此操作。")),
    LEAD_OR_OWNER: lambda: AccessDenied(_("只有主办单位或其内部承办科室/社区可以执行此操作。")),
    HANDLER: lambda: AccessDenied(_("只有主办、协办或报到单位可以添加办理记录。")),
    WHISTLED: lambda: AccessDenied(_("只有被吹哨的部门可以报到。")),
    RULER: lambda: AccessDenied(_("只有工单所在区的管理员或市级管理员可以审批。")),
}


def _failure(facts: _Facts, action: str) -> DomainError | None:
    guard, order = GUARDS[action], facts.order
    if not facts.may_act(guard.who):
        return REFUSALS[guard.who]()
    if order.state not in guard.states:
        return wrong_state(order)
    if guard.pending_kind and (facts.pending is None or facts.pending.kind != guard.pending_kind):
        if guard.pending_kind == OrderRequest.Kind.RETURN:
            return DomainError(_("该工单没有待审批的退单申请。"), code="no_request")
        return DomainError(_("该工单没有待审批的延期申请。"), code="no_request")
    if guard.needs_response and order.responded_at is None:
        return DomainError(_("请先记录与市民的联系（响应），再办结。"), code="not_responded")
    if guard.no_pending_request and facts.pending is not None:
        return DomainError(
            _("该工单已有待审批的%(kind)s申请。") % {"kind": facts.pending.get_kind_display()},
            code="pending_request",
        )
    if guard.needs_assignment and order.section_id is None and order.assignee_id is None:
        return DomainError(_("该工单尚未在单位内部派发。"), code="not_assigned")
    if guard.needs_proposal and facts.proposal is None:
        return DomainError(_("该工单没有待审核的拟办结申请。"), code="no_proposal")
    if guard.no_pending_proposal and facts.proposal is not None:
        return DomainError(_("该工单有待中心审核的拟办结申请，请先审核（同意或退回）。"), code="pending_proposal")
    return None


def check(order: WorkOrder, actor: User, action: str) -> None:
    """Raise the refusal of `action` on this (locked) order for this actor, if any."""
    failure = _failure(_Facts(order, actor), action)
    if failure is not None:
        raise failure


def permitted(order: WorkOrder, user: User) -> list[str]:
    """The actions this user may take on this order now, in GUARDS order."""
    facts = _Facts(order, user)
    return [action for action in GUARDS if _failure(facts, action) is None]
