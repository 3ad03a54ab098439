from datetime import datetime

import pytest
from django.utils import timezone

from hotline.errors import AccessDenied, DomainError
from hotline.models import Call, Category
from tests.factories import CallFactory, division, unit
from workorders.lifecycle import creation as transitions
from workorders.lifecycle.deadlines import add_workdays
from workorders.models import ImmutableError, OrderEvent, OrderParticipant, UrgencyTier, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def category():
    return Category.objects.create(code="TEST-ELEV", name="电梯故障", level=3)


def _create(call, category, actor, **kw):
    return transitions.order_create(
        call=call,
        category=category,
        tier=UrgencyTier.objects.get(code="T7D"),
        lead_unit=unit("110106003"),
        actor=actor,
        title="电梯停运",
        street=division("110106003"),
        **kw,
    )


def test_it_creates_and_dispatches_in_one_step_with_a_supervision_copy(agent, category):
    # given
    call = CallFactory()
    # when
    order = _create(call, category, agent)
    # then
    assert order.state == "dispatched" and order.lead_unit.code == "110106003"
    assert order.district.code == "110106"
    assert order.number.startswith(timezone.localdate().strftime("%Y%m%d"))
    assert list(order.participants.values_list("unit__code", "role")) == [("110106", "supervisor")]
    assert list(order.events.values_list("kind", "to_state")) == [("created", "dispatched")]
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.ORDER
    assert order.response_deadline <= order.resolution_deadline


def test_numbers_follow_each_other_within_a_day(agent, category):
    first = _create(CallFactory(), category, agent)
    second = _create(CallFactory(), category, agent)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_a_call_cannot_become_two_orders(agent, category):
    call = CallFactory()
    _create(call, category, agent)
    with pytest.raises(DomainError):
        _create(call, category, agent)
    assert WorkOrder.objects.filter(call=call).count() == 1


def test_a_street_handler_cannot_create_orders(xiluoyuan_handler, category):
    call = CallFactory()
    with pytest.raises(AccessDenied):
        _create(call, category, xiluoyuan_handler)
    assert not WorkOrder.objects.exists()


def test_co_handlers_are_recorded(agent, category):
    order = _create(CallFactory(), category, agent, co_units=[unit("110106-water")])
    assert OrderParticipant.objects.filter(order=order, role="co", unit__code="110106-water").exists()


def test_events_are_immutable(agent, category):
    order = _create(CallFactory(), category, agent)
    event = order.events.get()
    event.note = "changed"
    with pytest.raises(ImmutableError):
        event.save()
    with pytest.raises(ImmutableError):
        event.delete()
    assert OrderEvent.objects.get(pk=event.pk).note == ""


def test_working_days_skip_the_national_day_holiday_and_count_make_up_days():
    # 2026-09-30 (Wed) + 1 working day: 10-01..10-07 are holidays; 2026-10-10 (Sat) is a 调休 working day
    tz = timezone.get_current_timezone()
    start = datetime(2026, 9, 30, 10, 0, tzinfo=tz)
    assert add_workdays(start, 1).date().isoformat() == "2026-10-08"
    assert add_workdays(start, 3).date().isoformat() == "2026-10-10"


def test_the_four_default_tiers_exist():
    assert list(UrgencyTier.objects.values_list("code", flat=True)) == ["T2H", "T24H", "T7D", "T15D"]


def test_new_call_is_only_for_a_call_inserted_as_dispatched_in_the_open_transaction(agent, category):
    pending = CallFactory()  # committed and still pending: it must be claimed, not assumed
    with pytest.raises(RuntimeError):
        transitions.order_create(
            call=pending,
            category=category,
            tier=category.default_tier,
            lead_unit=unit("110106003"),
            actor=agent,
            title="t",
            new_call=True,
        )
    assert not WorkOrder.objects.exists()


def test_default_tiers_leave_admin_edits_alone_and_add_nothing_twice():
    from workorders.lifecycle.tiers import ensure_default_tiers
    from workorders.models import UrgencyTier

    # given: the migration's tiers, one edited in the admin
    UrgencyTier.objects.filter(code="T7D").update(name="一般（改）")
    before = UrgencyTier.objects.count()
    # when
    ensure_default_tiers()
    # then
    assert UrgencyTier.objects.count() == before == 4
    assert UrgencyTier.objects.get(code="T7D").name == "一般（改）"
