"""Outages of the parts around delivery, with real processes: a Redis of the test's own (its own port,
stopped and started by the test — never the shared one), `celery beat` and the notifier as in
docker-compose.yml, a real local SMTP server and webhook receivers. PostgreSQL + Redis only (CI's
second run), each bounded to well under a minute."""

# ruff: noqa: F811 - fixtures imported from the fault tests are arguments of the tests here

import os
import shutil
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.db import connection

from tests.conftest import ROOT, _database_url_of_test_db
from tests.redis_server import own_redis  # noqa: F401
from tests.webhooks import wait_until

# The fault tests' fixtures (processes on a queue pair of their own, webhook receivers, an SMTP server).
from tests.workorders.test_delivery_faults import _notifications, receivers, smtp, stack  # noqa: F401
from workorders.models import WebhookEndpoint
from workorders.notifications.models import Delivery

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_and_redis_only():
    if connection.vendor != "postgresql" or not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        pytest.skip("fault tests run on PostgreSQL + Redis")
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")


def _start(s, tmp_path, name: str, *args: str):
    """A process exactly as docker-compose.yml runs it (gossip, mingle and heartbeats on)."""
    env = dict(os.environ)
    env.update(s.env, DATABASE_URL=_database_url_of_test_db(), CELERY_QUEUE=s.queue, PYTHONUNBUFFERED="1")
    log = tmp_path / f"{name}.log"
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    cmd = [celery, "-A", "hotline", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    s.procs[name] = (proc, log)
    return proc


def _start_beat(s, tmp_path):
    return _start(s, tmp_path, "beat", "beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule"))


def _start_notifier(s, tmp_path):
    proc = _start(
        s,
        tmp_path,
        "notifier",
        "worker",
        "--loglevel",
        "INFO",
        "--pool",
        "threads",
        "--concurrency",
        "16",
        "--queues",
        f"{s.queue}.notify",
        "--hostname",
        f"notifier-{s.queue}@%h",
    )
    log = s.procs["notifier"][1]
    if not wait_until(lambda: "ready." in log.read_text() or proc.poll() is not None, timeout=60) or proc.poll():
        raise RuntimeError(log.read_text())
    return proc


def test_the_notifier_and_beat_survive_redis_dying_mid_delivery_and_deliver_everything(
    stack,
    receivers,
    smtp,
    own_redis,
    tmp_path,
):
    # given: beat and the notifier on a Redis of our own; a webhook that holds each request 3 s, so a
    # batch is in flight when Redis dies; e-mail to a local SMTP server
    s = stack(
        CELERY_BROKER_URL=own_redis.url,
        NOTIFY_QUEUE_SECONDS=1,
        NOTIFY_CLAIM_STALE_SECONDS=6,
        NOTIFY_WEBHOOK_TIMEOUT=10,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=smtp.port,
    )
    hook = receivers(hang=3)
    WebhookEndpoint.objects.create(name="slow", url=hook.url, secret="k")
    notes = _notifications(6, email=True)
    notifier = _start_notifier(s, tmp_path)
    beat = _start_beat(s, tmp_path)
    assert wait_until(lambda: len(hook.requests) >= 1, timeout=30), s.logs()
    # when: Redis is killed while the notifier holds the batch, and comes back empty 4 s later
    own_redis.stop()
    time.sleep(4)
    own_redis.start()
    hook.hang = 0
    hook.release.set()
    notes += _notifications(6, email=True)  # written while the notifier reconnects
    # then: without anyone touching them, both processes are still running and every notification,
    # those written after the outage too, reaches the webhook and the mail server
    ids = {n.pk for n in notes}
    subjects = {f"[12345] {n.title}" for n in notes}
    assert wait_until(lambda: set(hook.notification_ids()) >= ids and set(smtp.subjects) >= subjects, timeout=45), (
        s.logs()
    )
    assert notifier.poll() is None and beat.poll() is None, s.logs()
    assert wait_until(lambda: not Delivery.objects.exclude(status="sent").exists(), timeout=10), s.logs()
    # a repeat is only the request in flight when Redis died, and carries the same delivery key
    assert sum(Counter(hook.notification_ids()).values()) <= len(ids) + 1
    s.stop()  # before the fixture takes Redis away again
