import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_it_reports_database_and_broker_health(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["ready"] is True
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["deliveries"] == {
        "failed": 0,
        "overdue": 0,
        "due": 0,
        "oldest_due_seconds": 0,
        "behind": False,
        "degraded_after_seconds": 300,
    }


def test_the_broker_being_down_is_reported_without_failing_the_web_tier(client):
    # given: a broker on a port where nothing listens
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={}):
        resp = client.get("/healthz")
        live = client.get("/healthz/live")
    # then: the web tier is ready (the database is), the broker's state is in the body
    assert resp.status_code == 200
    body = resp.json()
    assert body["broker"]["ok"] is False and body["database"]["ok"] is True
    assert body["ready"] is True and body["status"] == "degraded"
    assert live.status_code == 200


def test_it_needs_no_login(client):
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/healthz/live").status_code == 200
    assert client.get("/healthz/ready").status_code in (200, 503)


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


def test_intake_works_and_the_web_tier_stays_ready_while_the_broker_is_down(client, agent):
    from rest_framework.test import APIClient

    from hotline.config.celery import app
    from tests.intake.conftest import intake_data
    from workorders.models import WorkOrder

    dead = "redis://127.0.0.1:1/0"  # nothing listens there
    saved = (app.conf.broker_url, app.conf.broker_connection_timeout, app.conf.task_publish_retry, app._pool)
    app.conf.broker_url, app.conf.broker_connection_timeout, app.conf.task_publish_retry = dead, 1, False
    app._pool = None  # any publish from the request would now fail
    try:
        api = APIClient()
        api.force_authenticate(agent)
        with override_settings(CELERY_BROKER_URL=dead, CELERY_BROKER_TRANSPORT_OPTIONS={}):
            resp = api.post("/api/v1/intake/", intake_data(), format="json")
            health = client.get("/healthz")
    finally:
        app.conf.broker_url, app.conf.broker_connection_timeout, app.conf.task_publish_retry, app._pool = saved
    assert resp.status_code == 201, resp.content
    assert WorkOrder.objects.filter(number=resp.json()["order"]["number"]).exists()
    assert health.status_code == 200 and health.json()["broker"]["ok"] is False
