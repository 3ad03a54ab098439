"""Faults on the outbound side, with the production layout: a worker for the default queue (sweep,
reports) and a threaded worker for the delivery queue, real local webhook receivers and a real SMTP
server. Runs on PostgreSQL + Redis (CI's second run); bounded in time."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from tests.conftest import ROOT, _database_url_of_test_db
from tests.factories import UserFactory, unit
from tests.webhooks import Receiver, SmtpSink, wait_until
from workorders import tasks
from workorders.models import Notification, WebhookEndpoint, WorkOrder
from workorders.notifications.models import Delivery

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_and_redis_only():
    if connection.vendor != "postgresql" or not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        pytest.skip("fault tests run on PostgreSQL + Redis")


class Stack:
    """The two workers of docker-compose.yml on a queue pair of their own."""

    def __init__(self, tmp_path, env: dict):
        self.queue = f"test-{uuid.uuid4().hex[:10]}"
        self.tmp_path, self.env, self.procs = tmp_path, env, {}

    def start(self, name: str, *, queues: str, pool: str, concurrency: int = 1):
        env = dict(os.environ)
        env.update(self.env, DATABASE_URL=_database_url_of_test_db(), CELERY_QUEUE=self.queue, PYTHONUNBUFFERED="1")
        log = self.tmp_path / f"{name}-{len(self.procs)}.log"
        celery = str(os.path.join(os.path.dirname(sys.executable), "celery"))
        cmd = [celery, "-A", "hotline", "worker", "--pool", pool, "--concurrency", str(concurrency)]
        cmd += ["--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        cmd += ["--hostname", f"{name}-{uuid.uuid4().hex[:6]}@%h", "--queues", queues]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        if not wait_until(lambda: "ready." in log.read_text() or proc.poll() is not None, timeout=60):
            raise RuntimeError(log.read_text())
        if proc.poll() is not None:
            raise RuntimeError(log.read_text())
        self.procs[name] = (proc, log)
        return proc

    def start_default(self):
        return self.start("default", queues=self.queue, pool="solo")

    def start_notifier(self):
        return self.start("notifier", queues=f"{self.queue}.notify", pool="threads", concurrency=4)

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{log.read_text()[-4000:]}" for n, (_p, log) in self.procs.items())

    def stop(self):
        for proc, _log in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc, _log in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def stack(reference_data, tmp_path):
    from hotline.config.celery import app

    made = []

    def make(**env):
        s = Stack(tmp_path, {k: str(v) for k, v in env.items()})
        app.conf.task_default_queue = s.queue
        made.append(s)
        return s

    old_queue = app.conf.task_default_queue
    yield make
    app.conf.task_default_queue = old_queue
    for s in made:
        s.stop()


@pytest.fixture
def receivers():
    made = []

    def make(*args, **kwargs):
        made.append(Receiver(*args, **kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def smtp():
    sink = SmtpSink()
    yield sink
    sink.close()


def _notifications(n: int, *, email: bool) -> list[Notification]:
    """n notifications with distinct titles, one per member of 西罗园 (with or without e-mail)."""
    users = [
        UserFactory(role="street", unit=unit("110106003"), email=f"m{i}@example.org" if email else "") for i in range(n)
    ]
    return Notification.objects.bulk_create(
        [Notification(user=u, kind="whistle", title=f"吹哨 {uuid.uuid4().hex[:8]}") for u in users]
    )


def _tick(seconds: float, every: float = 0.5, also=None):
    """What beat does, faster: queue outbound every `every` seconds (and whatever `also` does)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tasks.queue_outbound.apply_async(expires=5)
        if also:
            also()
        time.sleep(every)


def test_a_500_webhook_beside_a_healthy_one_and_email_each_get_every_notification_once(stack, receivers, smtp):
    # given: fast retries and a cap of 3, one healthy and one failing webhook for everyone, e-mail on
    s = stack(NOTIFY_RETRY_SECONDS=1, NOTIFY_MAX_ATTEMPTS=3, EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp.port)
    healthy, failing = receivers(), receivers(status=500)
    WebhookEndpoint.objects.create(name="ok", url=healthy.url, secret="k")
    WebhookEndpoint.objects.create(name="bad", url=failing.url, secret="k")
    notes = _notifications(12, email=True)
    s.start_default()
    s.start_notifier()
    # when: beat keeps queueing while the failing endpoint is retried up to its cap
    _tick(4)
    done = wait_until(
        lambda: (
            not Delivery.objects.filter(status__in=["pending", "sending"]).exists()
            or (tasks.queue_outbound.apply_async(expires=5) and False)
        ),
        timeout=40,
        interval=0.5,
    )
    assert done, s.logs()
    _tick(2)
    # then: exactly once each to the healthy webhook and by e-mail
    ids = [n.pk for n in notes]
    assert Counter(healthy.notification_ids()) == Counter(ids), s.logs()
    assert Counter(smtp.subjects) == Counter(f"[12345] {n.title}" for n in notes)
    # the failing endpoint: tried once per round, 3 rounds, then every row failed with the reason
    bad = Delivery.objects.filter(endpoint__name="bad")
    assert set(bad.values_list("status", "attempts")) == {("failed", 3)}
    assert all("HTTP 500" in e for e in bad.values_list("last_error", flat=True))
    assert len(failing.requests) <= 3 * 2  # rounds, not rows (12 rows × 3 attempts would be 36)


def test_a_hanging_webhook_delays_neither_the_sweep_nor_the_other_endpoints(stack, receivers, make_order):
    # given: an endpoint that never answers (2 s timeout) and a healthy one
    s = stack(NOTIFY_WEBHOOK_TIMEOUT=2, NOTIFY_RETRY_SECONDS=1)
    hanging, healthy = receivers(hang=120), receivers()
    WebhookEndpoint.objects.create(name="hangs", url=hanging.url, secret="k")
    WebhookEndpoint.objects.create(name="ok", url=healthy.url, secret="k")
    notes = _notifications(30, email=False)
    s.start_default()
    s.start_notifier()
    late_orders = []

    def beat_sweep():
        tasks.deadline_sweep.apply_async(expires=3)  # beat's sweep, every second here

    # when: orders go overdue one after another while deliveries to the hanging endpoint pile up
    for _ in range(4):
        late_orders.append((time.monotonic(), make_order(tier="T2H", ago=timedelta(hours=25))))
        _tick(3, also=beat_sweep)
    # then: each was marked overdue by a sweep within seconds
    for created, order in late_orders:
        assert wait_until(
            lambda o=order: WorkOrder.objects.filter(pk=o.pk, resolution_overdue_at__isnull=False).exists(),
            timeout=max(0.5, created + 15 - time.monotonic()),
        ), s.logs()
    # and the healthy endpoint received every notification (those of the new orders too), once
    expected = set(Notification.objects.values_list("pk", flat=True))
    assert wait_until(lambda: set(healthy.notification_ids()) == expected, timeout=15), s.logs()
    assert len(healthy.notification_ids()) == len(expected) and {n.pk for n in notes} <= expected
    # the hanging endpoint held one connection at a time, not one per row
    assert len(hanging.requests) <= 12


def test_a_worker_killed_while_holding_deliveries_is_replaced_and_each_goes_out_once(stack, receivers):
    # given: a receiver that holds the first request until told, claims stale after 5 s
    s = stack(NOTIFY_CLAIM_STALE_SECONDS=5, NOTIFY_WEBHOOK_TIMEOUT=60)
    hook = receivers(hang=60)
    WebhookEndpoint.objects.create(name="slow", url=hook.url, secret="k")
    notes = _notifications(8, email=False)
    s.start_default()
    notifier = s.start_notifier()
    _tick(1)
    assert wait_until(lambda: len(hook.requests) == 1, timeout=20), s.logs()
    assert Delivery.objects.filter(status="sending").count() == 8
    # when: the delivery worker is killed outright while it holds all eight
    os.kill(notifier.pid, signal.SIGKILL)
    notifier.wait(timeout=10)
    killed_at = time.monotonic()
    hook.hang = 0
    hook.release.set()
    s.start_notifier()
    assert wait_until(
        lambda: (
            Delivery.objects.filter(status="sent").count() == 8
            or (tasks.queue_outbound.apply_async(expires=5) and False)
        ),
        timeout=40,
        interval=0.5,
    ), s.logs()
    # then: within seconds of the claim going stale, every notification went out; the only repeat is
    # the one request that was in flight when the worker died, with the same delivery key
    assert time.monotonic() - killed_at < 30
    received = Counter(hook.notification_ids())
    assert set(received) == {n.pk for n in notes}
    assert sum(received.values()) <= len(notes) + 1
    keys = Counter(h["X-Hotline-Delivery"] for h, _body in hook.requests)
    assert len(keys) == len(notes) and sum(1 for c in keys.values() if c > 1) <= 1
