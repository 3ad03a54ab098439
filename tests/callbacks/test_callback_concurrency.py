"""Callbacks under real concurrency (issue 16), on PostgreSQL: threads, each with its own database
connection, released together by a barrier."""

import threading

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from assessment.models import CallbackFact
from tests.factories import UserFactory, unit
from workorders.models import Callback, CallbackAttempt, OrderEvent

from .conftest import close, make_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pg(reference_data):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; SQLite takes one write lock for the whole database")


def _together(funcs):
    barrier = threading.Barrier(len(funcs))
    results = [None] * len(funcs)

    def run(i, f):
        try:
            barrier.wait(timeout=30)
            results[i] = f()
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(funcs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_two_agents_answering_at_once_one_wins_the_other_gets_409_with_the_recorded_answer(pg):
    agents = [UserFactory(role="agent", unit=unit("11-center")) for _ in range(2)]
    order = close(make_order(agents[0]))
    url = f"/api/v1/callbacks/{order.pk}/answers/"
    bodies = [
        {"round": 1, "contacted": True, "solved": "resolved", "satisfaction": "satisfied"},
        {"round": 1, "contacted": True, "solved": "resolved", "satisfaction": "basic"},
    ]

    def post(agent, body):
        client = APIClient()
        client.force_authenticate(agent)
        resp = client.post(url, body, format="json")
        return resp.status_code, resp.json()

    results = _together([lambda a=a, b=b: post(a, b) for a, b in zip(agents, bodies, strict=True)])
    assert sorted(status for status, _body in results) == [200, 409], results
    (_ok, won), (_c, lost) = sorted(results, key=lambda r: r[0])
    assert lost["code"] == "already_recorded" and lost["recorded"]["id"] == won["id"]
    assert lost["recorded"]["satisfaction"] == won["satisfaction"]
    assert Callback.objects.filter(order=order).count() == 1
    assert CallbackFact.objects.filter(order=order).count() == 1
    assert CallbackFact.objects.get(order=order).satisfaction == won["satisfaction"]
    assert OrderEvent.objects.filter(order=order, kind="callback_valid").count() == 1


def test_the_page_tells_the_second_agent_who_recorded_what(pg):
    agents = [UserFactory(role="agent", unit=unit("11-center")) for _ in range(2)]
    order = close(make_order(agents[0]))
    form = {"round": "1", "contacted": "yes", "solved": "resolved", "satisfaction": "satisfied"}

    def post(agent):
        client = Client()
        client.force_login(agent)
        resp = client.post(f"/callbacks/{order.pk}/record/", form)
        return resp.status_code, resp.content.decode() if resp.status_code == 409 else ""

    results = _together([lambda a=a: post(a) for a in agents])
    statuses = sorted(s for s, _html in results)
    assert statuses == [302, 409], results
    html = next(h for s, h in results if s == 409)
    assert "本轮回访已由" in html and "您的答复未保存" in html
    assert CallbackFact.objects.filter(order=order).count() == 1


def test_fifty_simultaneous_no_answer_clicks_log_one_attempt(pg):
    agent = UserFactory(role="agent", unit=unit("11-center"))
    order = close(make_order(agent))

    def click():
        from workorders.lifecycle import callbacks

        return callbacks.callback_attempt(order.pk, actor=agent, result="no_answer").pk

    results = _together([click] * 50)
    assert all(isinstance(r, int) for r in results), [r for r in results if not isinstance(r, int)][:3]
    # the duplicate-click rule: the same agent, the same result within 30 s → one attempt
    assert CallbackAttempt.objects.filter(callback__order=order, result="no_answer").count() == 1
    assert OrderEvent.objects.filter(order=order, kind="callback_attempt").count() == 1
    assert not CallbackFact.objects.filter(order=order).exists()
