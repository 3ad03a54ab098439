import threading

import pytest
from django.db import connection

from hotline.errors import DomainError
from tests.factories import UserFactory, unit
from workorders.lifecycle import handling as transitions
from workorders.models import OrderEvent, OrderRequest, WorkOrder

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*funcs):
    barrier = threading.Barrier(len(funcs))
    outcomes = [None] * len(funcs)

    def run(i, f):
        barrier.wait()
        try:
            f()
            outcomes[i] = "ok"
        except DomainError as exc:
            outcomes[i] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(funcs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.fixture
def pg(reference_data):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; SQLite takes one write lock for the whole database")


def test_two_handlers_signing_at_once_cannot_both_win(pg, make_order):
    # given
    order = make_order()
    a = UserFactory(role="street", unit=unit("110106003"))
    b = UserFactory(role="street", unit=unit("110106003"))
    # when
    outcomes = _race(*[lambda u=u: transitions.order_sign(order, actor=u) for u in (a, b, a, b)])
    # then
    assert sorted(outcomes) == ["invalid_state"] * 3 + ["ok"]
    assert OrderEvent.objects.filter(order=order, kind="signed").count() == 1
    assert WorkOrder.objects.get(pk=order.pk).state == "signed"


def test_close_and_return_at_once_cannot_both_win(pg, responded_order, xiluoyuan_handler):
    outcomes = _race(
        lambda: transitions.order_close(
            responded_order, actor=xiluoyuan_handler, result="resolved", result_note="x", action_taken="x"
        ),
        lambda: transitions.order_request_return(
            responded_order, actor=xiluoyuan_handler, reason_code="other", reason="x"
        ),
    )
    assert outcomes.count("ok") == 1
    order = WorkOrder.objects.get(pk=responded_order.pk)
    assert (order.state == "closed") == (not OrderRequest.objects.exists())


def test_two_extension_requests_at_once_file_one(pg, signed_order, xiluoyuan_handler):
    new = signed_order.resolution_deadline.replace(year=signed_order.resolution_deadline.year + 1)
    outcomes = _race(
        *[
            lambda: transitions.order_request_extension(
                signed_order, actor=xiluoyuan_handler, new_deadline=new, reason="x"
            )
            for _ in range(3)
        ]
    )
    assert outcomes.count("ok") == 1 and OrderRequest.objects.count() == 1
