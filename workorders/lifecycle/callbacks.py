"""Callback (回访), citizen self-evaluation, re-dispatch (再派件) and exclusions (剔除): the "评" of
接→派→办→评 for one order.

The functions in the TRANSITIONS section below change an order's state, round, deadlines or outcome
fields. They are built like every transition (lock the order row, check the action's row in
workorders/lifecycle/actions.py, save with update_fields, one OrderEvent, the row's notifications).

Rules decided here (documented because assessment depends on them):
- A callback belongs to one round of an order (Callback is unique on order+round). The hotline calls
  back orders the unit has closed and, as the law asks, orders still open when their resolution
  limit has run out (dispatched/signed past the deadline; parked orders' clock is suspended, and an
  order waiting for a return ruling is the center's own business).
- A finished callback round (valid, or unreachable) adds one immutable assessment fact
  (assessment.facts.record_callback): the round's answers, for the round's lead unit, at the
  callback time. A later round adds its own fact and never changes an earlier one; the assessment
  reads only facts. The order's outcome fields are a convenience copy of the latest round for lists.
- Saving a round that is already finished writes nothing and returns the recorded callback marked
  `already_recorded` (the page and the API answer another agent's save with 409 and the recorded
  answers; the same agent's double click is answered with the result).
- Satisfied or basically satisfied AND resolved → the order is completed. Unsatisfied, or not fully
  resolved (部分解决 counts as not solved: the citizen still has a problem) → re-dispatch: the same
  order, round + 1, to a unit the agent chooses, with new deadlines from the tier.
- A callback nobody answers ends as "cannot reach" (not valid) after CALLBACK_MAX_FAILED_ATTEMPTS
  failed attempts spread over at least CALLBACK_UNREACHABLE_MIN_DAYS calendar days; a closed order is
  then completed without touching the outcome fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import facts
from districts.models import Unit
from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.models import User
from workorders.lifecycle import actions
from workorders.lifecycle import machinery as transitions
from workorders.lifecycle.machinery import ROUTABLE_KINDS, Ev, lock, record, require_routable
from workorders.models import (
    Callback,
    CallbackAttempt,
    OrderState,
    Result,
    Satisfaction,
    WorkOrder,
)

# Open orders past their resolution limit are called back too (the clock runs in these states).
OVERDUE_CALLBACK_STATES = actions.OVERDUE_CALLBACK_STATES
DONE_CALLBACK = actions.DONE_CALLBACK
FAILED_RESULTS = (
    CallbackAttempt.Result.NO_ANSWER,
    CallbackAttempt.Result.BUSY,
    CallbackAttempt.Result.WRONG_NUMBER,
)
# A second identical attempt by the same agent within this window is a double click, not a call.
ATTEMPT_DEDUP_SECONDS = 30
COMMENT_MAX = 2000


@dataclass(frozen=True)
class Answers:
    """The citizen's three answers (and a comment)."""

    contacted: bool
    solved: str
    satisfaction: str
    comment: str = ""

    def clean(self) -> Answers:
        if not isinstance(self.contacted, bool):
            raise DomainError(_("请选择承办单位是否联系过您。"), code="contacted")
        if self.solved not in Result.values:
            raise DomainError(_("请选择解决情况（解决/部分解决/未解决）。"), code="solved")
        if self.satisfaction not in Satisfaction.values:
            raise DomainError(_("请选择满意度（满意/基本满意/不满意）。"), code="satisfaction")
        comment = (self.comment or "").strip()
        if len(comment) > COMMENT_MAX:
            raise DomainError(_("意见不能超过 %(n)s 字。") % {"n": COMMENT_MAX}, code="comment")
        return Answers(self.contacted, self.solved, self.satisfaction, comment)

    @property
    def needs_redispatch(self) -> bool:
        return self.satisfaction == Satisfaction.UNSATISFIED or self.solved != Result.RESOLVED

    def as_data(self) -> dict[str, object]:
        return {"contacted": self.contacted, "solved": self.solved, "satisfaction": self.satisfaction}


CALLBACK_QUEUE_STATES = (OrderState.CLOSED, *OVERDUE_CALLBACK_STATES)


def awaiting_callback_q(now: datetime) -> Q:
    """Orders the hotline should call back now (before excluding those already called back).

    The leading `state IN (...)` is implied by the rest, but PostgreSQL only matches the queue's
    partial index (bench/bench_callback.py) when the WHERE clause states it outright."""
    return Q(state__in=CALLBACK_QUEUE_STATES) & (
        Q(state=OrderState.CLOSED) | Q(state__in=OVERDUE_CALLBACK_STATES, resolution_deadline__lt=now)
    )


def done_callback_exists() -> Exists:
    """A finished (valid or unreachable) callback for the order's current round."""
    return Exists(Callback.objects.filter(order_id=OuterRef("pk"), round=OuterRef("round"), status__in=DONE_CALLBACK))


def is_callable(order: WorkOrder, now: datetime) -> bool:
    """Closed by its unit, or still open past its resolution limit (the rule is the action table's)."""
    return actions.is_callable(order, now)


def _open_callback(order: WorkOrder, *, actor: User | None) -> Callback:
    """The callback of the order's current round, created if missing. The order row is locked by the
    caller, so two agents cannot both create it; the unique constraint is the backstop."""
    callback = Callback.objects.select_for_update().filter(order=order, round=order.round).first()
    if callback is not None:
        return callback
    try:
        with transaction.atomic():
            return Callback.objects.create(order=order, round=order.round, agent=actor)
    except IntegrityError:
        return Callback.objects.select_for_update().get(order=order, round=order.round)


def answered_by_another(callback: Callback, actor: access.Viewer) -> str | None:
    """When a save found the round already recorded by someone else: the message that says so,
    with the recorded answer (the page and the API answer it with 409). None otherwise (a fresh
    recording, or the same agent's double submit)."""
    if not getattr(callback, "already_recorded", False):
        return None
    if actor is not None and callback.agent_id == getattr(actor, "pk", None):
        return None
    if callback.status == Callback.Status.VALID:
        answer = _("%(contacted)s，%(solved)s，%(satisfaction)s") % {
            "contacted": _("已联系") if callback.contacted else _("未联系"),
            "solved": callback.get_solved_display() if callback.solved else "—",
            "satisfaction": callback.get_satisfaction_display() if callback.satisfaction else "—",
        }
    else:
        answer = callback.get_status_display()
    return _("本轮回访已由%(agent)s于 %(at)s 记录（%(answer)s），您的答复未保存。") % {
        "agent": callback.agent.display_name if callback.agent else _("他人"),
        "at": timezone.localtime(callback.completed_at).strftime("%Y-%m-%d %H:%M") if callback.completed_at else "—",
        "answer": answer,
    }


# =================================================================================================
# TRANSITIONS of the callback stage
# =================================================================================================
def callback_attempt(
    order: WorkOrder | int, *, actor: User, result: str, note: str = "", now: datetime | None = None
) -> Callback:
    """Log one call to the citizen. Failed attempts spread over enough days end the callback as
    "cannot reach"; a closed order is then completed."""
    if result not in CallbackAttempt.Result.values:
        raise DomainError(_("请选择回访结果。"), code="result")
    note = (note or "").strip()[:300]
    now = now or timezone.now()
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "callback_attempt", now=now)
        callback = _open_callback(order, actor=actor)
        last = callback.attempts.order_by("-at", "-id").first()
        if (
            last is not None
            and last.agent_id == actor.pk
            and last.result == result
            and now - last.at < timedelta(seconds=ATTEMPT_DEDUP_SECONDS)
        ):
            return callback  # a double click: the attempt is already logged
        CallbackAttempt.objects.create(callback=callback, at=now, agent=actor, result=result, note=note)
        failed = list(callback.attempts.filter(result__in=FAILED_RESULTS).values_list("at", flat=True))
        days = {timezone.localdate(at) for at in failed}
        unreachable = (
            result in FAILED_RESULTS
            and len(failed) >= settings.CALLBACK_MAX_FAILED_ATTEMPTS
            and len(days) >= settings.CALLBACK_UNREACHABLE_MIN_DAYS
        )
        data = {"callback": callback.pk, "result": result, "failed_attempts": len(failed), "days": len(days)}
        if not unreachable:
            record(order, kind=Ev.CALLBACK_ATTEMPT, actor=actor, note=note, data=data, at=now)
            return callback
        callback.status = Callback.Status.UNREACHABLE
        callback.completed_at = now
        callback.agent = callback.agent or actor
        callback.save(update_fields=["status", "completed_at", "agent"])
        facts.record_callback(
            order,
            round=callback.round,
            at=now,
            valid=False,
            callback=callback,
            invalid_reason="unreachable",
            actor=actor,
        )
        from_state = order.state
        if order.state == OrderState.CLOSED:
            order.state = OrderState.COMPLETED
            order.completed_at = now
            order.save(update_fields=["state", "completed_at"])
        record(
            order,
            kind=Ev.CALLBACK_UNREACHABLE,
            actor=actor,
            from_state=from_state if order.state != from_state else "",
            to_state=order.state if order.state != from_state else "",
            note=note,
            data=data,
            at=now,
        )
    return callback


def callback_record(
    order: WorkOrder | int,
    *,
    actor: User | None,
    answers: Answers,
    round: int | None = None,
    redispatch_unit: Unit | None = None,
    channel: str = Callback.Channel.PHONE,
    now: datetime | None = None,
) -> Callback:
    """Record the citizen's answers: a valid callback. It completes the order, or re-dispatches it
    as a new round (to `redispatch_unit`, default the same lead unit).

    Saving twice (double click, two agents, a retried request) records once: the second call finds
    the finished callback of that round under the order lock and returns it without writing."""
    if channel != Callback.Channel.SELF and not access.may(actor, access.Cap.CALL_BACK):
        raise AccessDenied(str(actions.REFUSALS[actions.CALLER_BACK]))  # before the answers are looked at
    answers = answers.clean()
    now = now or timezone.now()
    with transaction.atomic():
        order = lock(order)
        target_round = order.round if round is None else round
        done = Callback.objects.filter(order=order, round=target_round, status__in=DONE_CALLBACK).first()
        if done is not None:
            # a mark on this instance for answered_by_another, not a model field
            setattr(done, "already_recorded", True)  # noqa: B010
            return done
        if target_round != order.round:
            raise DomainError(_("该工单已进入第 %(n)s 轮，请刷新页面。") % {"n": order.round}, code="stale_round")
        # the citizen's own answer (a self-evaluation link) has no seat: the link was the right to answer
        actions.check(order, actor, "callback_record", now=now, as_citizen=channel == Callback.Channel.SELF)
        if answers.needs_redispatch:
            unit = redispatch_unit or order.lead_unit
            if not unit.is_active or unit.kind not in ROUTABLE_KINDS:
                raise DomainError(_("“%(unit)s”不能承办工单。") % {"unit": unit.name}, code="invalid_unit")
            if unit.pk != order.lead_unit_id:  # back to the same unit is always allowed
                require_routable(order, unit)
        callback = _open_callback(order, actor=actor)
        callback.status = Callback.Status.VALID
        callback.channel = channel
        callback.agent = actor if actor is not None else callback.agent
        callback.contacted = answers.contacted
        callback.solved = answers.solved
        callback.satisfaction = answers.satisfaction
        callback.comment = answers.comment
        callback.completed_at = now
        callback.save(
            update_fields=[
                "status",
                "channel",
                "agent",
                "contacted",
                "solved",
                "satisfaction",
                "comment",
                "completed_at",
            ]
        )
        facts.record_callback(
            order,
            round=callback.round,
            at=now,
            valid=True,
            callback=callback,
            unit_id=order.lead_unit_id,
            contacted=answers.contacted,
            solved=answers.solved,
            satisfaction=answers.satisfaction,
            comment=answers.comment,
            actor=actor,
        )
        if channel == Callback.Channel.PHONE:
            CallbackAttempt.objects.create(
                callback=callback, at=now, agent=actor, result=CallbackAttempt.Result.REACHED
            )
        # The outcome the assessment counts: this round's answers, for this round's lead unit.
        order.callback_valid = True
        order.callback_at = now
        order.contacted = answers.contacted
        order.solved = answers.solved
        order.satisfaction = answers.satisfaction
        order.assessed_unit_id = order.lead_unit_id
        outcome_fields = ["callback_valid", "callback_at", "contacted", "solved", "satisfaction", "assessed_unit"]
        data = {"callback": callback.pk, "channel": channel, **answers.as_data()}
        from_state = order.state
        if not answers.needs_redispatch:
            order.state = OrderState.COMPLETED
            order.completed_at = now
            order.save(update_fields=[*outcome_fields, "state", "completed_at"])
            record(
                order,
                kind=Ev.CALLBACK_VALID,
                actor=actor,
                from_state=from_state,
                to_state=order.state,
                note=answers.comment,
                data=data,
                at=now,
            )
            return callback
        previous_unit = order.lead_unit
        data.update(previous_round=order.round, new_round=order.round + 1, from_unit=previous_unit.pk, to_unit=unit.pk)
        # The event closes round N with its result; the order then starts round N + 1.
        record(
            order,
            kind=Ev.REDISPATCHED,
            actor=actor,
            from_state=from_state,
            to_state=OrderState.DISPATCHED,
            note=answers.comment,
            data=data,
            at=now,
        )
        # A new round with `unit` as lead; the previous round stays in the events and its Callback.
        fields = transitions.start_round(order, unit=unit, now=now)
        order.save(update_fields=[*outcome_fields, *fields])
        actions.tell(
            "callback_record",
            order,
            to="lead_unit",
            when="redispatched",
            title=_("再派件：工单 %(number)s 第 %(round)s 轮") % {"number": order.number, "round": order.round},
            body=_("回访结果：%(solved)s，%(satisfaction)s。%(comment)s")
            % {
                "solved": Result(answers.solved).label,
                "satisfaction": Satisfaction(answers.satisfaction).label,
                "comment": answers.comment,
            },
        )
    return callback


def order_send_back(order: WorkOrder | int, *, actor: User, reason: str, now: datetime | None = None) -> WorkOrder:
    """The center finds a closing inadequate before calling the citizen: back to the unit, same
    round, same deadlines (closed → signed)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写退回理由。"), code="reason")
    now = now or timezone.now()
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "send_back", now=now)
        order.state = OrderState.SIGNED
        order.closed_at = None
        order.save(update_fields=["state", "closed_at"])
        record(
            order,
            kind=Ev.SENT_BACK,
            actor=actor,
            from_state=OrderState.CLOSED,
            to_state=OrderState.SIGNED,
            note=reason,
            at=now,
        )
        actions.tell(
            "send_back",
            order,
            to="lead_unit",
            title=_("办结被退回：工单 %(number)s") % {"number": order.number},
            body=reason,
        )
    return order
