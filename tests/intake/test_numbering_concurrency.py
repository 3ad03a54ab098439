"""Order numbers under concurrency, on PostgreSQL (SQLite serialises writers anyway)."""

import threading

import pytest
from django.db import connection, connections

from hotline.intake.services import call_intake
from tests.factories import UserFactory, unit
from tests.intake.conftest import intake_data
from workorders.models import WorkOrder

THREADS = 8
PER_THREAD = 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_agents_saving_at_the_same_moment_get_unique_consecutive_numbers(intake_reference):
    # given
    agents = [UserFactory(role="agent", unit=unit("11-center")) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    errors: list[Exception] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            for n in range(PER_THREAD):
                call_intake(
                    acting_user=agents[i],
                    data=intake_data(phone=f"1381{i:03d}{n:04d}", description=f"第{i}号话务员第{n}个来电：电梯停运"),
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert errors == []
    numbers = list(WorkOrder.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == THREADS * PER_THREAD
    sequence = sorted(int(n[-6:]) for n in numbers)
    assert sequence == list(range(sequence[0], sequence[0] + THREADS * PER_THREAD))
