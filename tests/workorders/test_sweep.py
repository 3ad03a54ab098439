import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import wait_for
from tests.factories import UserFactory, unit
from workorders.lifecycle import creation, handling, sweep
from workorders.models import Notification, OrderEvent, WorkOrder


def _marks(order):
    return WorkOrder.objects.values(
        "response_warned_at", "resolution_warned_at", "response_overdue_at", "resolution_overdue_at", "escalated_at"
    ).get(pk=order.pk)


@pytest.mark.django_db
def test_it_warns_marks_overdue_and_escalates_once(make_order, xiluoyuan_handler, fengtai_manager):
    # given: one past its 2 h response and 24 h resolution limit, one at 80 % of its limits, one fresh
    late = make_order(tier="T2H", ago=timedelta(hours=25))
    soon = make_order(tier="T2H", ago=timedelta(minutes=100))
    fresh = make_order(tier="T2H")
    # when
    now = timezone.now()
    first = sweep.run(now=now)
    # then (an order found overdue needs no separate warning; escalation waits for the unit first)
    assert first == {
        "response_overdue": 1,
        "resolution_overdue": 1,
        "response_warning": 1,
        "resolution_warning": 0,
        "escalation": 0,
        "internal_overdue": 0,
        "internal_warning": 0,
    }
    late_marks, soon_marks = _marks(late), _marks(soon)
    assert late_marks["resolution_overdue_at"] and late_marks["resolution_warned_at"]
    assert soon_marks["response_warned_at"] and not soon_marks["response_overdue_at"]
    assert not any(_marks(fresh).values())
    assert Notification.objects.filter(user=xiluoyuan_handler, kind="resolution_overdue", order=late).count() == 1
    assert not Notification.objects.filter(kind__endswith="warning", order=late).exists()
    assert Notification.objects.filter(kind="response_warning", order=soon, user=xiluoyuan_handler).exists()
    # when still overdue half an hour later: the district is alerted
    later = sweep.run(now=now + timedelta(minutes=31))
    assert later["escalation"] == 1 and _marks(late)["escalated_at"]
    assert Notification.objects.filter(user=fengtai_manager, kind="escalation", order=late).count() == 1
    events = OrderEvent.objects.count()
    notes = Notification.objects.count()
    # when run again: nothing happens twice
    assert sum(sweep.run(now=now + timedelta(minutes=31)).values()) == 0
    assert OrderEvent.objects.count() == events and Notification.objects.count() == notes


@pytest.mark.django_db
def test_it_ignores_parked_and_closed_orders(make_order, xiluoyuan_handler):
    order = make_order(tier="T2H", ago=timedelta(hours=1))
    handling.order_sign(order, actor=xiluoyuan_handler)
    handling.order_respond(order, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="x")
    handling.order_park(order, actor=xiluoyuan_handler, until=timezone.localdate() + timedelta(days=30), reason="x")
    closed = make_order(tier="T2H", ago=timedelta(hours=1))
    handling.order_sign(closed, actor=xiluoyuan_handler)
    handling.order_respond(closed, actor=xiluoyuan_handler, contacted_at=timezone.now(), method="phone", summary="x")
    handling.order_close(closed, actor=xiluoyuan_handler, result="resolved", result_note="x", action_taken="x")
    # when a day later
    result = sweep.run(now=timezone.now() + timedelta(days=2))
    # then
    assert sum(result.values()) == 0


@pytest.mark.django_db
def test_it_works_in_batches(make_order):
    orders = [make_order(tier="T2H", ago=timedelta(hours=30)) for _ in range(7)]
    assert sweep.run(batch=3)["resolution_overdue"] == 7
    assert all(_marks(o)["resolution_overdue_at"] for o in orders)


@pytest.mark.django_db
def test_an_approved_extension_resets_the_marks(make_order, xiluoyuan_handler, fengtai_manager):
    order = make_order(tier="T2H", ago=timedelta(hours=23))
    handling.order_sign(order, actor=xiluoyuan_handler)
    sweep.run()
    assert _marks(order)["resolution_warned_at"]
    handling.order_request_extension(
        order, actor=xiluoyuan_handler, new_deadline=timezone.now() + timedelta(days=5), reason="x"
    )
    handling.order_rule_extension(order, actor=fengtai_manager, approve=True, ruling="ok")
    assert not _marks(order)["resolution_warned_at"]


# --- with a real worker, twice and concurrently ----------------------------------------------------
@pytest.mark.integration
def test_a_real_worker_sweeps_and_a_second_concurrent_sweep_does_nothing_twice(live_worker, agent):
    from hotline.models import Category
    from tests.factories import CallFactory, division
    from tests.workorders.conftest import ensure_tiers
    from workorders.models import UrgencyTier
    from workorders.tasks import deadline_sweep

    ensure_tiers()
    # given committed orders past their limits, and a handler to notify
    handler = UserFactory(role="street", unit=unit("110106003"))
    category = Category.objects.get_or_create(code="TEST-SWEEP", defaults={"name": "测试", "level": 3})[0]
    past = timezone.now() - timedelta(hours=30)
    orders = [
        creation.order_create(
            call=CallFactory(received_at=past),
            category=category,
            tier=UrgencyTier.objects.get(code="T2H"),
            lead_unit=unit("110106003"),
            actor=agent,
            title=f"超期 {i}",
            street=division("110106003"),
            now=past,
        )
        for i in range(25)
    ]
    # when: the worker sweeps twice while this process sweeps at the same time
    deadline_sweep.delay()
    deadline_sweep.delay()
    here = sweep.run(batch=5)
    # then every order is marked exactly once, whoever got there first
    wait_for(
        lambda: (
            not WorkOrder.objects.filter(pk__in=[o.pk for o in orders], resolution_overdue_at__isnull=True).exists()
        ),
        log=live_worker.log,
    )
    wait_for(lambda: live_worker.log.read_text().count("deadline_sweep") >= 4, log=live_worker.log)
    for o in orders:
        assert OrderEvent.objects.filter(order=o, kind="resolution_overdue").count() == 1
        assert OrderEvent.objects.filter(order=o, kind="response_overdue").count() == 1
        assert Notification.objects.filter(order=o, user=handler, kind="resolution_overdue").count() == 1
    assert here["resolution_overdue"] <= 25


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_on_postgresql_mark_each_order_once(reference_data, agent):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; row locks with SKIP LOCKED need PostgreSQL")
    from hotline.models import Category
    from tests.factories import CallFactory, division
    from tests.workorders.conftest import ensure_tiers
    from workorders.models import UrgencyTier

    ensure_tiers()
    category = Category.objects.get_or_create(code="TEST-SWEEP2", defaults={"name": "测试", "level": 3})[0]
    past = timezone.now() - timedelta(hours=30)
    for i in range(60):
        creation.order_create(
            call=CallFactory(received_at=past),
            category=category,
            tier=UrgencyTier.objects.get(code="T2H"),
            lead_unit=unit("110106003"),
            actor=agent,
            title=f"x{i}",
            street=division("110106003"),
            now=past,
        )
    results, barrier = [], threading.Barrier(3)

    def go():
        barrier.wait()
        try:
            results.append(sweep.run(batch=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["resolution_overdue"] for r in results) == 60
    assert OrderEvent.objects.filter(kind="resolution_overdue").count() == 60
