import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_it_reports_database_and_broker_health(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]


def test_it_answers_503_when_the_broker_is_unreachable(client):
    # given: a broker on a port where nothing listens
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={}):
        resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["broker"]["ok"] is False
    assert resp.json()["database"]["ok"] is True


def test_it_needs_no_login(client):
    assert client.get("/healthz").status_code in (200, 503)


def test_it_tells_a_fresh_worker_from_a_stale_one_without_failing_the_web_check(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from hotline.models import WorkerHeartbeat

    assert client.get("/healthz").json()["worker"]["ok"] is False  # never seen
    WorkerHeartbeat.objects.create(name="worker", last_seen=timezone.now() - timedelta(seconds=30))
    assert client.get("/healthz").json()["worker"]["ok"] is True
    WorkerHeartbeat.objects.filter(name="worker").update(
        last_seen=timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS + 60)
    )
    resp = client.get("/healthz")
    assert resp.json()["worker"]["ok"] is False and resp.status_code == 200
