"""One idempotency key sent by several requests at the same moment (a double click that reached two
web workers): one call, and every request answers with it. On PostgreSQL (SQLite serialises writers)."""

import threading

import pytest
from django.db import connection, connections

from hotline.intake.services import call_intake
from hotline.models import Call
from tests.factories import UserFactory, unit
from tests.intake.conftest import intake_data
from workorders.models import WorkOrder

THREADS = 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_the_same_key_at_the_same_moment_makes_one_call(intake_reference):
    # given
    agent = UserFactory(role="agent", unit=unit("11-center"))
    barrier = threading.Barrier(THREADS)
    results, errors = [], []

    def send() -> None:
        try:
            barrier.wait()
            results.append(call_intake(acting_user=agent, data=intake_data(idempotency_key="double-click-0001")))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert errors == []
    assert Call.objects.count() == 1 and WorkOrder.objects.count() == 1
    assert {r.call.pk for r in results} == {Call.objects.get().pk}
    assert sum(not r.replayed for r in results) == 1
