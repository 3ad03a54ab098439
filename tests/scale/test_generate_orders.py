"""generate_orders: a realistic year, resumable, refusing what the disk cannot hold."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hotline.models import Call
from workorders.management.commands import generate_orders as gen
from workorders.models import Callback, CallbackAttempt, OrderEvent, OrderParticipant, WorkOrder

pytestmark = pytest.mark.django_db(transaction=True)


def _run(**kwargs):
    call_command("generate_orders", **{"seed": 7, "reserve_gb": 0, **kwargs})


def test_a_year_has_seasons_callbacks_participants_and_ends_swept(reference_data):
    _run(orders=1200, year=True, chunk=400)
    assert WorkOrder.objects.count() == Call.objects.count() == 1200
    orders = list(WorkOrder.objects.values("id", "title", "created_at", "state", "district_id"))
    winter = [o for o in orders if gen.heating_season(o["created_at"].date())]
    summer = [o for o in orders if o["created_at"].month in (6, 7, 8)]
    heat = lambda rows: sum(o["title"] == "暖气不热" for o in rows) / max(1, len(rows))  # noqa: E731
    assert heat(winter) > 0.15 > 0.01 > heat(summer)
    # every order has its creation event; completed orders their callback and its attempts
    assert OrderEvent.objects.filter(kind="created").count() == 1200
    completed = WorkOrder.objects.filter(state="completed")
    assert completed.exists()
    assert Callback.objects.count() == completed.count()
    assert CallbackAttempt.objects.filter(result="reached").count() == Callback.objects.filter(status="valid").count()
    assert OrderParticipant.objects.filter(role="supervisor").count() >= 1100
    # some are still open, with their due marks set as the sweep would have
    open_orders = WorkOrder.objects.exclude(state__in=["closed", "completed"])
    assert 0 < open_orders.count() < 200
    from workorders.lifecycle import sweep

    assert sum(sweep.run().values()) == 0  # steady state: nothing left for the next sweep
    numbers = list(WorkOrder.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)


def test_a_run_that_stops_continues_where_it_stopped(reference_data, monkeypatch):
    calls = {"n": 0}
    real = gen.assessment_fact_rows

    def stop_on_third_chunk(orders, callbacks):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(orders, callbacks)

    monkeypatch.setattr(gen, "assessment_fact_rows", stop_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        _run(orders=900, months=2, chunk=200)
    part = WorkOrder.objects.count()
    assert 0 < part < 900
    # other arguments are refused while a run is part-way, and write nothing
    with pytest.raises(CommandError, match="other arguments"):
        _run(orders=500, months=2, chunk=200)
    assert WorkOrder.objects.count() == part
    monkeypatch.setattr(gen, "assessment_fact_rows", real)
    _run(orders=900, months=2, chunk=200)
    assert WorkOrder.objects.count() == 900
    numbers = list(WorkOrder.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 900


def test_a_size_the_disk_cannot_hold_is_refused_before_writing(reference_data, capsys):
    with pytest.raises(CommandError, match="refused"):
        call_command("generate_orders", orders=10**11, reserve_gb=0)
    assert WorkOrder.objects.count() == 0
    call_command("generate_orders", orders=25_000_000, estimate=True)
    out = capsys.readouterr().out
    assert "25,000,000 orders need about" in out and WorkOrder.objects.count() == 0


def test_season_rules():
    assert gen.heating_season(date(2026, 1, 10)) and gen.heating_season(date(2026, 11, 15))
    assert not gen.heating_season(date(2026, 3, 16)) and not gen.heating_season(date(2026, 7, 1))
    assert gen.day_volume(date(2026, 12, 7)) > gen.day_volume(date(2026, 10, 4))
    assert connection.vendor in ("sqlite", "postgresql")


def test_a_run_stopped_in_its_steady_state_finishes_it_and_adds_no_orders(reference_data, monkeypatch):
    from assessment import facts
    from assessment.models import CallbackFact
    from workorders.lifecycle import sweep

    real = facts.backfill

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(facts, "backfill", stop)
    with pytest.raises(KeyboardInterrupt):
        _run(orders=300, months=1, chunk=100)
    assert WorkOrder.objects.count() == 300 and CallbackFact.objects.count() == 0
    monkeypatch.setattr(facts, "backfill", real)
    _run(orders=300, months=1, chunk=100)  # the same command: only the steady state is left
    assert WorkOrder.objects.count() == 300
    assert CallbackFact.objects.count() > 0
    assert sum(sweep.run().values()) == 0
    _run(orders=300, months=1, chunk=100)  # once finished, the same command adds another run
    assert WorkOrder.objects.count() == 600
