"""What a user may do to an order: the one table of actions (ACTIONS).

One row per action on an order or on one of its satellites (a callback round, an exclusion
request): who may act (an actor rule resting on a capability of hotline.access), in which states,
with which pending request, the form that validates its input, its label, the transition that
carries it out, and who is told. Everything else reads the row:

- each transition calls `check(order, actor, name)` on the locked row before it writes, and
  `tell(name, order, ...)` for its notifications (the recipients and their roles are the row's);
- the order page, the callback and exclusion desks and the API offer `permitted(order, user)`;
- the API and the pages validate with `form_class(name)` and call `perform(...)`.

So what is offered is exactly what is accepted: tests/workorders/test_action_table.py walks every
role × state × action through the API. Adding an action = one row here + its transition + its form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol, TypeAlias, TypedDict, Unpack

from django.core.files.uploadedfile import UploadedFile
from django.forms import BaseForm
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from districts.models import Unit
from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.models import Role, User
from workorders.models import (
    Callback,
    CloseProposal,
    ExclusionRequest,
    OrderParticipant,
    OrderRequest,
    OrderState,
    Whistle,
    WorkOrder,
)

# --- Who may act: each rule rests on one capability of hotline.access ------------------------------
LEAD = "lead"  # a handler of the order's lead unit (its center: a user of the unit without a section)
OWNER = "owner"  # a member of the section/community (or the person) the order is assigned to inside the unit
LEAD_OR_OWNER = "lead_or_owner"
HANDLER = "handler"  # the lead unit, its assigned sub-unit, a co-handler or a whistled department
WHISTLED = "whistled"  # a unit with an open whistle on the order
RULER = "ruler"  # the manager of the order's district, or the city
CALLER_BACK = "caller_back"  # the hotline's callback seats (agents, the city)
INTAKE = "intake"  # whoever takes calls (a repeat call linked to the order)
EXCLUSION_FILER = "exclusion_filer"  # the lead unit's center
DISTRICT_REVIEWER = "district_reviewer"  # the manager of the order's district (first step of 剔除)
CITY_REVIEWER = "city_reviewer"  # the city center (second step of 剔除, revocation)
MERGER = "merger"  # 并单: the city center, or the lead unit's center for its own orders
UNMERGER = "unmerger"  # the city center (undo a merge within the window)
HOTLINE = "hotline"  # the hotline's seats (agents, the city): 拆单, 保密

CAPABILITY = {
    LEAD: access.Cap.HANDLE,
    OWNER: access.Cap.HANDLE,
    LEAD_OR_OWNER: access.Cap.HANDLE,
    HANDLER: access.Cap.HANDLE,
    WHISTLED: access.Cap.ANSWER_WHISTLE,
    RULER: access.Cap.SUPERVISE,
    CALLER_BACK: access.Cap.CALL_BACK,
    INTAKE: access.Cap.TAKE_CALLS,
    EXCLUSION_FILER: access.Cap.REQUEST_EXCLUSION,
    DISTRICT_REVIEWER: access.Cap.SUPERVISE,
    CITY_REVIEWER: access.Cap.RULE_ASSESSMENT,
    MERGER: access.Cap.MERGE,
    UNMERGER: access.Cap.UNDO_MERGE,
    HOTLINE: access.Cap.TAKE_CALLS,
}

REFUSALS = {
    LEAD: gettext_lazy("只有主办单位的承办人（中心）可以执行此操作。"),
    OWNER: gettext_lazy("只有本工单内部派发到的科室/社区或承办人可以执行此操作。"),
    LEAD_OR_OWNER: gettext_lazy("只有主办单位或其内部承办科室/社区可以执行此操作。"),
    HANDLER: gettext_lazy("只有主办、协办或报到单位可以添加办理记录。"),
    WHISTLED: gettext_lazy("只有被吹哨的部门可以报到。"),
    RULER: gettext_lazy("只有工单所在区的管理员或市级管理员可以审批。"),
    CALLER_BACK: gettext_lazy("只有热线的回访人员可以执行此操作。"),
    INTAKE: gettext_lazy("只有受理来电的人员可以关联重复诉求。"),
    EXCLUSION_FILER: gettext_lazy("只有工单的主办单位可以申请剔除。"),
    DISTRICT_REVIEWER: gettext_lazy("只有工单所在区的管理员可以进行区级审核。"),
    CITY_REVIEWER: gettext_lazy("只有市级管理员可以进行市级审核。"),
    MERGER: gettext_lazy("只有市热线中心或本单主办单位的中心可以并单。"),
    UNMERGER: gettext_lazy("只有市热线中心可以撤销并单。"),
    HOTLINE: gettext_lazy("只有热线中心（话务员、市级）可以执行此操作。"),
}

# Which page offers the action: the order page (and the orders API), the callback desk, the
# exclusion desk, or the agent's workspace.
ORDER_DESK, CALLBACK_DESK, EXCLUSION_DESK, INTAKE_DESK = "order", "callback", "exclusion", "intake"

HANDLING_STATES = (OrderState.SIGNED, OrderState.PARKED)
OPEN_STATES = (OrderState.DISPATCHED, *HANDLING_STATES, OrderState.RETURN_REQUESTED)
# Called back while still open only once the resolution limit has run out; a parked order's clock
# is suspended and one waiting for a return ruling is the center's own business.
OVERDUE_CALLBACK_STATES = (OrderState.DISPATCHED, OrderState.SIGNED)
DONE_CALLBACK = (Callback.Status.VALID, Callback.Status.UNREACHABLE)
PENDING_EXCLUSION = (ExclusionRequest.State.PENDING_DISTRICT, ExclusionRequest.State.PENDING_CITY)


@dataclass(frozen=True)
class Tell:
    """One group told of an action: a recipient rule (RECIPIENTS) and the notification kind.
    `when` names a condition the transition reports (e.g. "accepted"); empty means always."""

    to: str
    kind: str
    when: str = ""


@dataclass(frozen=True)
class Action:
    name: str
    label: Promise
    who: str  # an actor rule above
    states: tuple[str, ...]  # of the order, or of the exclusion request for EXCLUSION_DESK rows
    form: str = ""  # dotted path of the form class that validates the input
    transition: str = ""  # dotted path of the transition (order, *, actor, now, **form.transition_kwargs())
    desk: str = ORDER_DESK
    tells: tuple[Tell, ...] = ()
    no_pending_request: bool = False  # refused while a return or extension waits for a ruling
    pending_kind: str = ""  # needs a pending request of this kind (the rulings)
    needs_response: bool = False  # the caller must have been contacted first (close)
    no_pending_proposal: bool = False  # refused while a sub-unit's proposal to close waits for review
    needs_proposal: bool = False  # needs a pending proposal to close (the center's review)
    needs_assignment: bool = False  # the order must be assigned inside the unit (take back)
    callable_now: bool = False  # closed, or open past its resolution limit, and this round not called back
    no_exclusion_pending: bool = False  # not excluded and no exclusion request waiting
    bulk: bool = False  # offered as a bulk action in the inbox
    extra: dict[str, Any] = field(default_factory=dict)


def _a(name: str, label: Promise, who: str, states: Iterable[str], **kw: Any) -> Action:
    return Action(name=name, label=label, who=who, states=tuple(states), **kw)


_F = "workorders.handling.forms."
_H = "workorders.lifecycle.handling."
_S = "workorders.lifecycle.assignments."
_C = "workorders.lifecycle.callbacks."
_CF = "workorders.callbacks.forms."
_E = "workorders.lifecycle.exclusions."
_M = "workorders.lifecycle.merging."
MERGEABLE = (OrderState.DISPATCHED, OrderState.SIGNED, OrderState.PARKED)

RETURN, EXTENSION = OrderRequest.Kind.RETURN, OrderRequest.Kind.EXTENSION
_ROWS = [
    # --- the unit's desk (the order page and /api/v1/orders/{id}/<action>/) ---
    _a(
        "sign",
        gettext_lazy("签收"),
        LEAD,
        [OrderState.DISPATCHED],
        form=_F + "SignForm",
        transition=_H + "order_sign",
        bulk=True,
    ),
    _a(
        "respond",
        gettext_lazy("联系市民（响应）"),
        LEAD_OR_OWNER,
        HANDLING_STATES,
        form=_F + "RespondForm",
        transition=_H + "order_respond",
    ),
    _a(
        "note",
        gettext_lazy("添加办理记录"),
        HANDLER,
        OPEN_STATES,
        form=_F + "NoteForm",
        transition=_H + "order_add_note",
    ),
    _a(
        "co",
        gettext_lazy("增加协办单位"),
        LEAD,
        HANDLING_STATES,
        form=_F + "CoForm",
        transition=_H + "order_add_co_units",
        tells=(Tell("added_units", "co_handling"),),
    ),
    _a(
        "whistle",
        gettext_lazy("吹哨"),
        LEAD,
        HANDLING_STATES,
        form=_F + "WhistleForm",
        transition=_H + "order_whistle",
        tells=(Tell("whistled_unit", "whistle"),),
    ),
    _a(
        "report",
        gettext_lazy("报到"),
        WHISTLED,
        (*HANDLING_STATES, OrderState.RETURN_REQUESTED),
        form=_F + "ReportForm",
        transition=_H + "order_whistle_report",
        tells=(Tell("lead_unit", "whistle_reported"),),
    ),
    _a(
        "return",
        gettext_lazy("申请退单"),
        LEAD,
        [OrderState.DISPATCHED, OrderState.SIGNED],
        form=_F + "ReturnForm",
        transition=_H + "order_request_return",
        no_pending_request=True,
        no_pending_proposal=True,
        tells=(Tell("rulers", "approval_needed"),),
    ),
    _a(
        "rule_return",
        gettext_lazy("审批退单"),
        RULER,
        [OrderState.RETURN_REQUESTED],
        form=_F + "ReturnRulingForm",
        transition=_H + "order_rule_return",
        pending_kind=RETURN,
        tells=(Tell("previous_lead", "ruling"), Tell("new_lead", "new_order", when="accepted")),
    ),
    _a(
        "extend",
        gettext_lazy("申请延期"),
        LEAD,
        [OrderState.SIGNED],
        form=_F + "ExtensionForm",
        transition=_H + "order_request_extension",
        no_pending_request=True,
        tells=(Tell("rulers", "approval_needed"),),
    ),
    # A refusal leaves the order as it is; an approval moves the deadline of an order being handled.
    _a(
        "rule_extension",
        gettext_lazy("审批延期"),
        RULER,
        HANDLING_STATES,
        form=_F + "ExtensionRulingForm",
        transition=_H + "order_rule_extension",
        pending_kind=EXTENSION,
        tells=(Tell("lead_unit", "ruling"),),
    ),
    _a(
        "park",
        gettext_lazy("挂账"),
        LEAD,
        [OrderState.SIGNED],
        form=_F + "ParkForm",
        transition=_H + "order_park",
        no_pending_request=True,
    ),
    _a(
        "clear",
        gettext_lazy("销账"),
        LEAD,
        [OrderState.PARKED],
        form=_F + "ClearForm",
        transition=_H + "order_clear_parking",
    ),
    _a(
        "close",
        gettext_lazy("办结"),
        LEAD,
        HANDLING_STATES,
        form=_F + "CloseWithWhistleForm",
        transition=_H + "order_close",
        no_pending_request=True,
        needs_response=True,
        no_pending_proposal=True,
    ),
    # --- 二次派单 inside the unit (lifecycle/assignments.py) ---
    _a(
        "assign",
        gettext_lazy("内部派发/转派"),
        LEAD,
        HANDLING_STATES,
        form=_F + "AssignForm",
        transition=_S + "order_assign",
        no_pending_proposal=True,
        tells=(Tell("owners", "internal_assigned"), Tell("previous_owners", "internal_reassigned")),
    ),
    _a(
        "take_back",
        gettext_lazy("收回"),
        LEAD,
        HANDLING_STATES,
        form=_F + "TakeBackForm",
        transition=_S + "order_take_back",
        needs_assignment=True,
        no_pending_proposal=True,
        tells=(Tell("previous_owners", "internal_taken_back"),),
    ),
    _a(
        "propose_close",
        gettext_lazy("拟办结（报中心审核）"),
        OWNER,
        HANDLING_STATES,
        form=_F + "ProposeCloseForm",
        transition=_S + "order_propose_close",
        no_pending_request=True,
        needs_response=True,
        no_pending_proposal=True,
        tells=(Tell("center", "internal_proposal"),),
    ),
    _a(
        "review_proposal",
        gettext_lazy("审核拟办结"),
        LEAD,
        HANDLING_STATES,
        form=_F + "ReviewProposalForm",
        transition=_S + "order_review_proposal",
        needs_proposal=True,
        tells=(Tell("previous_owners", "internal_review"),),
    ),
    # --- 并单 / 拆单 / 保密 (lifecycle/merging.py, splitting.py, confidentiality.py) ---
    # The surviving order's row; each merged order's restrictions are checked by the transition.
    _a(
        "merge",
        gettext_lazy("并单（合并同一事项的工单）"),
        MERGER,
        MERGEABLE,
        form=_F + "MergeForm",
        transition=_M + "order_merge",
        no_pending_request=True,
        no_pending_proposal=True,
        tells=(Tell("lead_unit", "merged"), Tell("merged_leads", "merged")),
    ),
    _a(
        "unmerge",
        gettext_lazy("撤销并单"),
        UNMERGER,
        [OrderState.MERGED],
        form=_F + "UnmergeForm",
        transition=_M + "order_unmerge",
        tells=(Tell("lead_unit", "unmerged"),),
    ),
    _a(
        "split",
        gettext_lazy("拆单（拆出另一诉求）"),
        HOTLINE,
        OPEN_STATES,
        form=_F + "SplitForm",
        transition="workorders.lifecycle.splitting.order_split_one",
        no_pending_request=True,
    ),
    _a(
        "confidential",
        gettext_lazy("保密设置"),
        HOTLINE,
        [*OPEN_STATES, OrderState.CLOSED, OrderState.COMPLETED, OrderState.MERGED],
        form=_F + "ConfidentialForm",
        transition="workorders.lifecycle.confidentiality.order_set_confidential",
        tells=(Tell("lead_unit", "confidential"),),
    ),
    # --- the callback desk (回访; workorders/callbacks) ---
    _a(
        "callback_attempt",
        gettext_lazy("记录回访尝试"),
        CALLER_BACK,
        [OrderState.CLOSED, *OVERDUE_CALLBACK_STATES],
        form=_CF + "AttemptForm",
        transition=_C + "callback_attempt",
        desk=CALLBACK_DESK,
        callable_now=True,
    ),
    _a(
        "callback_record",
        gettext_lazy("记录回访结果"),
        CALLER_BACK,
        [OrderState.CLOSED, *OVERDUE_CALLBACK_STATES],
        form=_CF + "CallbackRecordForm",
        transition=_C + "callback_record",
        desk=CALLBACK_DESK,
        callable_now=True,
        tells=(Tell("lead_unit", "redispatched", when="redispatched"),),
    ),
    _a(
        "self_evaluation_link",
        gettext_lazy("生成市民自评链接"),
        CALLER_BACK,
        [OrderState.CLOSED, *OVERDUE_CALLBACK_STATES],
        transition="workorders.lifecycle.self_evaluations.self_evaluation_link_create",
        desk=CALLBACK_DESK,
        callable_now=True,
    ),
    _a(
        "send_back",
        gettext_lazy("退回承办单位"),
        CALLER_BACK,
        [OrderState.CLOSED],
        form=_CF + "SendBackForm",
        transition=_C + "order_send_back",
        desk=CALLBACK_DESK,
        callable_now=True,
        tells=(Tell("lead_unit", "sent_back"),),
    ),
    # --- the agent's workspace: a repeat call counted on the order ---
    _a(
        "link_duplicate",
        gettext_lazy("关联重复诉求"),
        INTAKE,
        [*OPEN_STATES, OrderState.CLOSED],
        transition="workorders.lifecycle.creation.order_link_duplicate",
        desk=INTAKE_DESK,
    ),
    # --- the exclusion desk (剔除; states are the request's, the filing's are the order's) ---
    _a(
        "exclusion_request",
        gettext_lazy("申请剔除"),
        EXCLUSION_FILER,
        [OrderState.CLOSED, OrderState.COMPLETED, *OPEN_STATES],
        transition=_E + "exclusion_request",
        desk=EXCLUSION_DESK,
        no_exclusion_pending=True,
        tells=(Tell("district_office", "exclusion_requested"),),
    ),
    _a(
        "exclusion_decide_district",
        gettext_lazy("区级审核剔除"),
        DISTRICT_REVIEWER,
        [ExclusionRequest.State.PENDING_DISTRICT],
        transition=_E + "exclusion_decide_district",
        desk=EXCLUSION_DESK,
        tells=(
            Tell("city_center", "exclusion_pending_city", when="approved"),
            Tell("filer", "exclusion_rejected", when="rejected"),
        ),
    ),
    _a(
        "exclusion_decide_city",
        gettext_lazy("市级审核剔除"),
        CITY_REVIEWER,
        [ExclusionRequest.State.PENDING_CITY],
        transition=_E + "exclusion_decide_city",
        desk=EXCLUSION_DESK,
        tells=(
            Tell("filer_and_district", "exclusion_approved", when="approved"),
            Tell("filer_and_district", "exclusion_rejected", when="rejected"),
        ),
    ),
    _a(
        "exclusion_revoke",
        gettext_lazy("撤销剔除"),
        CITY_REVIEWER,
        [ExclusionRequest.State.APPROVED],
        transition=_E + "exclusion_revoke",
        desk=EXCLUSION_DESK,
        tells=(Tell("filer_and_district", "exclusion_revoked"),),
    ),
]
ACTIONS: dict[str, Action] = {row.name: row for row in _ROWS}
ORDER_ACTIONS = [name for name, row in ACTIONS.items() if row.desk == ORDER_DESK]


def row(name: str) -> Action:
    return ACTIONS[name]


def form_class(name: str) -> type[BaseForm]:
    form: type[BaseForm] = import_string(ACTIONS[name].form)
    return form


def transition_of(name: str) -> Callable[..., Any]:
    transition: Callable[..., Any] = import_string(ACTIONS[name].transition)
    return transition


# --- What the rules ask about one order and one user, each looked up at most once ----------------
class _Facts:
    def __init__(self, order: WorkOrder, user: User | None, now: datetime | None = None):
        self.order, self.user = order, user
        self.unit_id = getattr(user, "unit_id", None)
        self.now = now or timezone.now()

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
        if self.unit_id is None or not access.may(self.user, access.Cap.ANSWER_WHISTLE):
            return False
        return Whistle.objects.filter(
            order_id=self.order.pk, to_unit_id=self.unit_id, state=Whistle.State.OPEN
        ).exists()

    @cached_property
    def pending(self) -> OrderRequest | None:
        return OrderRequest.objects.filter(order_id=self.order.pk, state=OrderRequest.State.PENDING).first()

    @cached_property
    def finished_callback(self) -> Callback | None:
        return Callback.objects.filter(order_id=self.order.pk, round=self.order.round, status__in=DONE_CALLBACK).first()

    @cached_property
    def exclusion_pending(self) -> bool:
        return ExclusionRequest.objects.filter(order_id=self.order.pk, state__in=PENDING_EXCLUSION).exists()

    def may_act(self, who: str) -> bool:
        if self.user is None or not access.may(self.user, CAPABILITY[who]):
            return False  # nobody (a citizen's self-evaluation) has no capability
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
        if who == RULER:
            return access.may_rule_requests(self.user, self.order)
        if who == EXCLUSION_FILER:
            return access.may_request_exclusion(self.user, self.order)
        if who == DISTRICT_REVIEWER:
            return access.may_decide_exclusion_for_district(self.user, self.order)
        if who == CITY_REVIEWER:
            return access.may_decide_exclusion_for_city(self.user)
        if who == MERGER:
            return access.role_of(self.user) == Role.CITY or self.is_lead
        if who == UNMERGER:
            return True  # the capability (the city) is the whole rule; the window is the transition's
        return True  # CALLER_BACK, INTAKE: the capability is the whole rule


def is_callable(order: WorkOrder, now: datetime) -> bool:
    """Closed by its unit, or still open past its resolution limit: the hotline may call back."""
    return order.state == OrderState.CLOSED or (
        order.state in OVERDUE_CALLBACK_STATES and order.resolution_deadline < now
    )


def wrong_state(order: WorkOrder) -> DomainError:
    return DomainError(
        _("工单 %(number)s 当前状态为“%(state)s”，不能执行此操作。")
        % {"number": order.number, "state": order.get_state_display()},
        code="invalid_state",
    )


def _failure(
    facts: _Facts, name: str, subject: ExclusionRequest | None = None, *, as_citizen: bool = False
) -> DomainError | None:
    act, order = ACTIONS[name], facts.order
    if not as_citizen and not facts.may_act(act.who):
        return AccessDenied(str(REFUSALS[act.who]))
    if subject is not None:  # an action on an exclusion request: the request's state
        if subject.state not in act.states:
            return DomainError(
                _("该剔除申请当前状态为“%(state)s”，不能执行此操作。") % {"state": subject.get_state_display()},
                code="invalid_state",
            )
        return None
    if act.callable_now and facts.finished_callback is not None:
        # before the state: a completed order's second answer is "already done", not "wrong state"
        return DomainError(
            _("本轮回访已结束（%(status)s）。") % {"status": facts.finished_callback.get_status_display()},
            code="done",
        )
    if order.state not in act.states:
        return wrong_state(order)
    if act.callable_now:
        if not is_callable(order, facts.now):
            return DomainError(
                _("工单 %(number)s 当前状态为“%(state)s”，尚未办结也未超过办结时限，不能回访。")
                % {"number": order.number, "state": order.get_state_display()},
                code="not_callable",
            )
    if act.no_exclusion_pending:
        if order.excluded:
            return DomainError(_("该工单已被剔除考核。"), code="already_excluded")
        if facts.exclusion_pending:
            return DomainError(_("该工单已有待审核的剔除申请。"), code="pending")
    if act.pending_kind and (facts.pending is None or facts.pending.kind != act.pending_kind):
        if act.pending_kind == RETURN:
            return DomainError(_("该工单没有待审批的退单申请。"), code="no_request")
        return DomainError(_("该工单没有待审批的延期申请。"), code="no_request")
    if act.needs_response and order.responded_at is None:
        return DomainError(_("请先记录与市民的联系（响应），再办结。"), code="not_responded")
    if act.no_pending_request and facts.pending is not None:
        return DomainError(
            _("该工单已有待审批的%(kind)s申请。") % {"kind": facts.pending.get_kind_display()},
            code="pending_request",
        )
    if act.needs_assignment and order.section_id is None and order.assignee_id is None:
        return DomainError(_("该工单尚未在单位内部派发。"), code="not_assigned")
    if act.needs_proposal and facts.proposal is None:
        return DomainError(_("该工单没有待审核的拟办结申请。"), code="no_proposal")
    if act.no_pending_proposal and facts.proposal is not None:
        return DomainError(_("该工单有待中心审核的拟办结申请，请先审核（同意或退回）。"), code="pending_proposal")
    return None


def check(
    order: WorkOrder,
    actor: User | None,
    name: str,
    *,
    subject: ExclusionRequest | None = None,
    now: datetime | None = None,
    as_citizen: bool = False,
) -> None:
    """Raise the refusal of action `name` on this (locked) order for this actor, if any.
    `as_citizen`: the citizen answering through a self-evaluation link (the link is the right)."""
    failure = _failure(_Facts(order, actor, now), name, subject, as_citizen=as_citizen)
    if failure is not None:
        raise failure


def permitted(
    order: WorkOrder, user: User, *, desk: str = ORDER_DESK, subject: ExclusionRequest | None = None
) -> list[str]:
    """The actions of one desk this user may take on this order (or exclusion request) now, in table order."""
    facts = _Facts(order, user)
    names = [name for name, act in ACTIONS.items() if act.desk == desk]
    if desk == EXCLUSION_DESK and subject is not None:
        names = [n for n in names if n != "exclusion_request"]
    elif desk == EXCLUSION_DESK:
        names = ["exclusion_request"]
    return [name for name in names if _failure(facts, name, subject) is None]


def waiting(order: WorkOrder, user: User, *, desk: str = ORDER_DESK) -> list[tuple[str, str]]:
    """Actions of this user's that the order's situation holds back for now, with the reason the
    transition would give (e.g. 拟办结 before the caller was contacted): shown on the page so that a
    missing button explains itself. Not listed: actions the user may never take, or not in this state."""
    facts = _Facts(order, user)
    out = []
    for name, act in ACTIONS.items():
        if act.desk != desk or not facts.may_act(act.who) or order.state not in act.states:
            continue
        failure = _failure(facts, name)
        if failure is not None:
            out.append((str(act.label), str(failure.message)))
    return out


def bulk_actions(user: User) -> list[str]:
    """The inbox's bulk actions this user's capabilities allow (each item is still checked alone)."""
    return [name for name, act in ACTIONS.items() if act.bulk and access.may(user, CAPABILITY[act.who])]


def refusal(order: WorkOrder, user: User, name: str) -> str:
    """Why `name` is not offered now ("" when it is): the message the transition would answer."""
    failure = _failure(_Facts(order, user), name)
    return "" if failure is None else str(failure.message)


class ValidForm(Protocol):
    """A bound form after is_valid(); a form with `transition_kwargs(files)` shapes the arguments itself."""

    cleaned_data: dict[str, Any]


def perform(
    name: str,
    order: WorkOrder,
    *,
    actor: User,
    form: ValidForm,
    files: Iterable[UploadedFile] = (),
    now: datetime | None = None,
) -> Any:
    """Carry out an action with a validated form: the row's transition with the form's arguments."""
    kwargs = form.transition_kwargs(files) if hasattr(form, "transition_kwargs") else dict(form.cleaned_data)
    return transition_of(name)(order, actor=actor, now=now, **kwargs)


# --- Who is told: the recipient rules the rows name -------------------------------------------------
class TellContext(TypedDict, total=False):
    """What a transition hands tell() for the recipient rules that need more than the order."""

    units: Iterable[Unit]  # added_units
    to_unit: Unit  # whistled_unit
    previous_lead: Unit  # previous_lead
    request: ExclusionRequest  # filer, filer_and_district
    previous_owners: Iterable[int]  # previous_owners (user ids)


# units (or their ids; None for a district without an office) and the roles told, None for every role
Recipients: TypeAlias = tuple[Sequence[Unit | int | None], Sequence[str] | None]


def _lead(order: WorkOrder, ctx: TellContext) -> Recipients:
    return [order.lead_unit_id], None


def _rulers(order: WorkOrder, ctx: TellContext) -> Recipients:
    from workorders.lifecycle.machinery import rulers_of

    return rulers_of(order), [Role.DISTRICT, Role.CITY]


def _district_office(order: WorkOrder, ctx: TellContext) -> Recipients:
    from workorders.lifecycle.machinery import supervisor_unit

    return [supervisor_unit(order.district)], [Role.DISTRICT]


def _city_center(order: WorkOrder, ctx: TellContext) -> Recipients:
    units = Unit.objects.filter(members__role=Role.CITY, members__is_active=True).distinct()
    return list(units), [Role.CITY]


def _filer_and_district(order: WorkOrder, ctx: TellContext) -> Recipients:
    from workorders.lifecycle.machinery import supervisor_unit

    return [ctx["request"].unit_id, supervisor_unit(order.district)], None


# unit rules: (units, roles or None for every role); the notification goes to each unit's center
UNIT_RECIPIENTS: dict[str, Callable[[WorkOrder, TellContext], Recipients]] = {
    "lead_unit": _lead,
    "rulers": _rulers,
    "added_units": lambda order, ctx: (list(ctx["units"]), None),
    "whistled_unit": lambda order, ctx: ([ctx["to_unit"]], None),
    "previous_lead": lambda order, ctx: ([ctx["previous_lead"]], None),
    "new_lead": _lead,
    "district_office": _district_office,
    "city_center": _city_center,
    "filer": lambda order, ctx: ([ctx["request"].unit_id], None),
    "filer_and_district": _filer_and_district,
    "merged_leads": lambda order, ctx: (list(ctx["units"]), None),
}


def _owners(order: WorkOrder, ctx: TellContext) -> list[int]:
    from workorders.lifecycle.assignments import owners_of

    return owners_of(order.lead_unit_id, order.section_id, order.assignee_id)


def _center(order: WorkOrder, ctx: TellContext) -> list[int]:
    from workorders.lifecycle.assignments import center_of

    return center_of(order.lead_unit_id)


# person rules (inside a unit): user ids
USER_RECIPIENTS: dict[str, Callable[[WorkOrder, TellContext], Iterable[int]]] = {
    "owners": _owners,
    "previous_owners": lambda order, ctx: ctx.get("previous_owners", ()),
    "center": _center,
}


def tell(
    name: str,
    order: WorkOrder,
    *,
    to: str,
    title: str,
    body: str = "",
    url: str = "",
    when: str = "",
    **ctx: Unpack[TellContext],
) -> None:
    """Notify the group `to` of action `name`: a Tell of its row (which units or people, which roles,
    the kind are the row's; the transition gives the words and, for a conditional Tell, `when`)."""
    from workorders.notifications.outbox import notify_units, notify_users

    told = next((t for t in ACTIONS[name].tells if t.to == to and t.when == when), None)
    if told is None:
        raise KeyError(f"action {name!r} declares no recipients {to!r} when {when!r}")
    if not url:
        from django.urls import reverse

        url = reverse("order-detail", args=[order.pk])
    if to in USER_RECIPIENTS:
        notify_users(USER_RECIPIENTS[to](order, ctx), kind=told.kind, title=title, body=body, order=order, url=url)
        return
    units, roles = UNIT_RECIPIENTS[to](order, ctx)
    notify_units(units=units, kind=told.kind, title=title, body=body, order=order, url=url, roles=roles)
