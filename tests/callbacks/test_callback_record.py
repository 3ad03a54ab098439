import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hotline.errors import AccessDenied, DomainError
from tests.callbacks.conftest import close, make_order
from tests.factories import UserFactory, unit
from workorders.lifecycle import callbacks, self_evaluations
from workorders.lifecycle.callbacks import Answers
from workorders.lifecycle.deadlines import deadlines_for
from workorders.models import Callback, CallbackAttempt, Notification, OrderEvent, WorkOrder

pytestmark = pytest.mark.django_db

SATISFIED = Answers(contacted=True, solved="resolved", satisfaction="satisfied", comment="修好了")
UNSATISFIED = Answers(contacted=True, solved="unresolved", satisfaction="unsatisfied", comment="电梯还是坏的")


def _snapshot(order: WorkOrder) -> tuple:
    order.refresh_from_db()
    return (
        order.state,
        order.round,
        order.lead_unit_id,
        order.callback_valid,
        order.callback_at,
        order.contacted,
        order.solved,
        order.satisfaction,
        order.assessed_unit_id,
        OrderEvent.objects.filter(order=order).count(),
        Callback.objects.filter(order=order).count(),
        CallbackAttempt.objects.filter(callback__order=order).count(),
    )


def test_it_completes_the_order_on_a_satisfied_and_resolved_callback(agent, closed_order):
    # given
    now = timezone.now()
    # when
    callback = callbacks.callback_record(closed_order, actor=agent, answers=SATISFIED, now=now)
    # then
    closed_order.refresh_from_db()
    assert closed_order.state == "completed" and closed_order.completed_at == now
    assert (callback.status, callback.channel, callback.round, callback.agent) == ("valid", "phone", 1, agent)
    assert closed_order.callback_valid is True and closed_order.callback_at == now
    assert (closed_order.contacted, closed_order.solved, closed_order.satisfaction) == (True, "resolved", "satisfied")
    assert closed_order.assessed_unit.code == "110106003"
    assert list(callback.attempts.values_list("result", flat=True)) == ["reached"]
    event = closed_order.events.last()
    assert (event.kind, event.from_state, event.to_state, event.round) == ("callback_valid", "closed", "completed", 1)
    assert event.data["satisfaction"] == "satisfied"


def test_it_completes_on_basic_satisfaction_when_resolved(agent, closed_order):
    answers = Answers(contacted=False, solved="resolved", satisfaction="basic")
    callbacks.callback_record(closed_order, actor=agent, answers=answers)
    closed_order.refresh_from_db()
    assert closed_order.state == "completed"
    assert (closed_order.contacted, closed_order.satisfaction) == (False, "basic")


def test_it_redispatches_an_unsatisfied_order_as_round_2_with_new_deadlines(agent, closed_order, youanmen_handler):
    # given
    now = timezone.now() + timedelta(days=3)
    # when
    callback = callbacks.callback_record(
        closed_order, actor=agent, answers=UNSATISFIED, redispatch_unit=unit("110106001"), now=now
    )
    # then
    order = WorkOrder.objects.get(pk=closed_order.pk)
    assert (order.state, order.round, order.lead_unit.code) == ("dispatched", 2, "110106001")
    assert order.number == closed_order.number
    assert (order.response_deadline, order.resolution_deadline) == deadlines_for(order.tier, now)
    assert order.dispatched_at == now and order.closed_at is None and order.result == ""
    # the outcome is round 1's answers, counted for round 1's lead unit
    assert order.callback_valid is True and (order.solved, order.satisfaction) == ("unresolved", "unsatisfied")
    assert order.assessed_unit.code == "110106003"
    # round 1's callback stays in the history
    assert callback.round == 1 and callback.status == "valid"
    assert list(Callback.objects.filter(order=order).values_list("round", "status")) == [(1, "valid")]
    event = order.events.last()
    assert (event.kind, event.from_state, event.to_state, event.round) == ("redispatched", "closed", "dispatched", 1)
    assert event.data["new_round"] == 2 and event.data["solved"] == "unresolved"
    assert Notification.objects.filter(user=youanmen_handler, order=order, kind="redispatched").exists()


def test_it_treats_partly_solved_as_not_done_and_redispatches_to_the_same_unit(agent, closed_order):
    # when
    answers = Answers(contacted=True, solved="partly", satisfaction="basic")
    callbacks.callback_record(closed_order, actor=agent, answers=answers)
    # then
    closed_order.refresh_from_db()
    assert (closed_order.state, closed_order.round, closed_order.lead_unit.code) == ("dispatched", 2, "110106003")
    assert closed_order.solved == "partly"


def test_a_later_rounds_valid_callback_overwrites_the_outcome_and_keeps_both_rows(agent, closed_order):
    # given: round 1 unsatisfied → round 2 to 右安门, closed again
    callbacks.callback_record(closed_order, actor=agent, answers=UNSATISFIED, redispatch_unit=unit("110106001"))
    order = close(WorkOrder.objects.get(pk=closed_order.pk))
    # when
    callbacks.callback_record(order, actor=agent, answers=SATISFIED)
    # then
    order.refresh_from_db()
    assert (order.state, order.round) == ("completed", 2)
    assert (order.solved, order.satisfaction, order.assessed_unit.code) == ("resolved", "satisfied", "110106001")
    rows = list(Callback.objects.filter(order=order).order_by("round").values_list("round", "satisfaction"))
    assert rows == [(1, "unsatisfied"), (2, "satisfied")]


def test_saving_twice_records_once_and_returns_the_existing_result(agent, closed_order):
    # given
    first = callbacks.callback_record(closed_order, actor=agent, answers=UNSATISFIED, round=1)
    before = _snapshot(closed_order)
    # when: the same form is posted again (double click), even with other answers
    second = callbacks.callback_record(closed_order, actor=agent, answers=SATISFIED, round=1)
    # then
    assert second.pk == first.pk and second.satisfaction == "unsatisfied"
    assert _snapshot(closed_order) == before


def test_a_second_agent_saving_the_same_round_records_once(agent, closed_order):
    other = UserFactory(role="agent", unit=unit("11-center"))
    callbacks.callback_record(closed_order, actor=agent, answers=SATISFIED, round=1)
    before = _snapshot(closed_order)
    result = callbacks.callback_record(closed_order, actor=other, answers=UNSATISFIED, round=1)
    assert result.agent == agent and result.satisfaction == "satisfied"
    assert _snapshot(closed_order) == before


@pytest.mark.parametrize(
    "answers",
    [
        Answers(contacted=None, solved="resolved", satisfaction="satisfied"),
        Answers(contacted=True, solved="", satisfaction="satisfied"),
        Answers(contacted=True, solved="resolved", satisfaction="happy"),
        Answers(contacted=True, solved="resolved", satisfaction="satisfied", comment="x" * 2001),
    ],
)
def test_incomplete_answers_are_refused_and_change_nothing(agent, closed_order, answers):
    before = _snapshot(closed_order)
    with pytest.raises(DomainError):
        callbacks.callback_record(closed_order, actor=agent, answers=answers)
    assert _snapshot(closed_order) == before


def test_redispatch_to_a_unit_that_cannot_handle_orders_is_refused(agent, closed_order):
    before = _snapshot(closed_order)
    with pytest.raises(DomainError):
        callbacks.callback_record(closed_order, actor=agent, answers=UNSATISFIED, redispatch_unit=unit("11-center"))
    assert _snapshot(closed_order) == before


def test_the_city_may_call_back(city_admin, closed_order):
    callbacks.callback_record(closed_order, actor=city_admin, answers=SATISFIED)
    closed_order.refresh_from_db()
    assert closed_order.state == "completed"


@pytest.mark.parametrize(
    "role_fixture", ["xiluoyuan_handler", "youanmen_handler", "water_dept_handler", "fengtai_manager"]
)
def test_units_and_districts_may_not_call_back(request, role_fixture, closed_order):
    actor = request.getfixturevalue(role_fixture)
    before = _snapshot(closed_order)
    with pytest.raises(AccessDenied):
        callbacks.callback_record(closed_order, actor=actor, answers=SATISFIED)
    with pytest.raises(AccessDenied):
        callbacks.callback_attempt(closed_order, actor=actor, result="no_answer")
    with pytest.raises(AccessDenied):
        self_evaluations.self_evaluation_link_create(closed_order, actor=actor)
    with pytest.raises(AccessDenied):
        callbacks.order_send_back(closed_order, actor=actor, reason="不合格")
    assert _snapshot(closed_order) == before


def test_an_order_still_in_time_cannot_be_called_back(agent):
    order = make_order(agent)
    before = _snapshot(order)
    with pytest.raises(DomainError):
        callbacks.callback_record(order, actor=agent, answers=SATISFIED)
    with pytest.raises(DomainError):
        callbacks.callback_attempt(order, actor=agent, result="no_answer")
    assert _snapshot(order) == before


def test_an_open_order_past_its_resolution_limit_is_called_back(agent):
    # given: dispatched long ago, never closed
    order = make_order(agent, tier="T2H", now=timezone.now() - timedelta(days=2))
    # when
    callbacks.callback_record(order, actor=agent, answers=UNSATISFIED)
    # then
    order.refresh_from_db()
    assert (order.state, order.round) == ("dispatched", 2)
    assert order.resolution_deadline > timezone.now()


# --- attempts and "cannot reach" -------------------------------------------------------------------
def test_it_ends_unreachable_after_n_failures_over_two_days(agent, closed_order, settings):
    # given
    settings.CALLBACK_MAX_FAILED_ATTEMPTS = 3
    day1 = timezone.now()
    callbacks.callback_attempt(closed_order, actor=agent, result="no_answer", now=day1)
    callbacks.callback_attempt(closed_order, actor=agent, result="busy", now=day1 + timedelta(hours=2))
    # when
    callback = callbacks.callback_attempt(closed_order, actor=agent, result="no_answer", now=day1 + timedelta(days=1))
    # then
    closed_order.refresh_from_db()
    assert callback.status == "unreachable" and callback.completed_at is not None
    assert closed_order.state == "completed"
    assert (
        closed_order.callback_valid is False and closed_order.satisfaction == "" and closed_order.assessed_unit is None
    )
    kinds = list(closed_order.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["callback_attempt", "callback_attempt", "callback_unreachable"]


def test_it_is_not_unreachable_within_one_day_however_many_failures(agent, closed_order, settings):
    settings.CALLBACK_MAX_FAILED_ATTEMPTS = 3
    start = timezone.localtime().replace(hour=9, minute=0)
    for i in range(5):
        callback = callbacks.callback_attempt(
            closed_order, actor=agent, result="no_answer", now=start + timedelta(hours=i * 2)
        )
    closed_order.refresh_from_db()
    assert callback.status == "open" and closed_order.state == "closed"
    assert callback.attempts.count() == 5


def test_it_is_not_unreachable_before_n_failures_even_over_days(agent, closed_order, settings):
    settings.CALLBACK_MAX_FAILED_ATTEMPTS = 3
    now = timezone.now()
    callbacks.callback_attempt(closed_order, actor=agent, result="no_answer", now=now)
    callback = callbacks.callback_attempt(closed_order, actor=agent, result="wrong_number", now=now + timedelta(days=2))
    assert callback.status == "open"


def test_a_double_clicked_attempt_is_logged_once(agent, closed_order):
    now = timezone.now()
    callbacks.callback_attempt(closed_order, actor=agent, result="no_answer", now=now)
    callbacks.callback_attempt(closed_order, actor=agent, result="no_answer", now=now + timedelta(seconds=2))
    assert CallbackAttempt.objects.filter(callback__order=closed_order).count() == 1
    assert closed_order.events.filter(kind="callback_attempt").count() == 1


def test_no_attempt_after_the_callback_ended(agent, closed_order):
    callbacks.callback_record(closed_order, actor=agent, answers=SATISFIED)
    with pytest.raises(DomainError):
        callbacks.callback_attempt(closed_order, actor=agent, result="no_answer")


def test_a_reached_caller_after_failed_attempts_gives_a_valid_callback(agent, closed_order):
    now = timezone.now()
    callbacks.callback_attempt(closed_order, actor=agent, result="no_answer", now=now)
    callback = callbacks.callback_record(closed_order, actor=agent, answers=SATISFIED, now=now + timedelta(hours=3))
    assert list(callback.attempts.values_list("result", flat=True)) == ["no_answer", "reached"]
    assert Callback.objects.filter(order=closed_order).count() == 1


# --- send back as inadequate ------------------------------------------------------------------------
def test_the_center_sends_an_inadequate_closing_back_to_the_unit(agent, closed_order, xiluoyuan_handler):
    # when
    callbacks.order_send_back(closed_order, actor=agent, reason="办结说明未写明处理结果")
    # then
    closed_order.refresh_from_db()
    assert (closed_order.state, closed_order.round, closed_order.closed_at) == ("signed", 1, None)
    event = closed_order.events.last()
    assert (event.kind, event.from_state, event.to_state, event.note) == (
        "sent_back",
        "closed",
        "signed",
        "办结说明未写明处理结果",
    )
    assert Notification.objects.filter(user=xiluoyuan_handler, kind="sent_back", order=closed_order).exists()


def test_sending_back_needs_a_reason_and_a_closed_order(agent, closed_order):
    before = _snapshot(closed_order)
    with pytest.raises(DomainError):
        callbacks.order_send_back(closed_order, actor=agent, reason="  ")
    assert _snapshot(closed_order) == before
    open_order = make_order(agent)
    with pytest.raises(DomainError):
        callbacks.order_send_back(open_order, actor=agent, reason="不合格")


# --- two agents at the same moment, on PostgreSQL -----------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_agents_saving_at_the_same_moment_record_once(reference_data):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update) are only meaningful on PostgreSQL; SQLite serialises writers")
    # given
    agents = [UserFactory(role="agent", unit=unit("11-center")) for _ in range(2)]
    order = close(make_order(agents[0]))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def save(actor, answers):
        try:
            barrier.wait(timeout=10)
            results.append(callbacks.callback_record(order.pk, actor=actor, answers=answers, round=1).pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [
        threading.Thread(target=save, args=(agents[0], UNSATISFIED)),
        threading.Thread(target=save, args=(agents[1], UNSATISFIED)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then
    assert errors == []
    assert len(set(results)) == 1
    order.refresh_from_db()
    assert order.round == 2
    assert Callback.objects.filter(order=order).count() == 1
    assert order.events.filter(kind="redispatched").count() == 1
    assert CallbackAttempt.objects.filter(callback__order=order, result="reached").count() == 1
