"""Delivery on a hand-set clock: a failing target backs off 30 s, 1 min, 2 min … whichever of its rows
is tried; a killed batch hands back only its own rows, counts an attempt only for the row it was
sending and keeps their place; e-mails carry a Message-ID of their row; /healthz degrades on an old
backlog."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tests.factories import UserFactory, unit
from tests.webhooks import Receiver
from workorders.models import Notification, WebhookEndpoint
from workorders.notifications import delivery, outbox
from workorders.notifications.models import Delivery

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_WEBHOOK_URL = ""
    settings.NOTIFY_WEBHOOK_TIMEOUT = 2
    settings.NOTIFY_RETRY_SECONDS = 30
    settings.NOTIFY_MAX_ATTEMPTS = 8


@pytest.fixture
def hook():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def deliver_now(django_capture_on_commit_callbacks):
    def run():
        outbox.queue_outbound()
        with django_capture_on_commit_callbacks(execute=True):
            delivery.dispatch(publish=delivery.deliver_claimed)

    return run


def _notify(title="吹哨"):
    outbox.notify_units(units=[unit("110106003")], kind="whistle", title=title, body="正文")


def test_a_failing_endpoint_backs_off_on_the_documented_schedule_while_new_rows_keep_coming(hook, deliver_now):
    # given: an endpoint answering 500, a unit of more members than a batch holds (without e-mail),
    # one notification waiting
    hook.status = 500
    for _ in range(delivery.CHUNK + 5):
        UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="down", url=hook.url, secret="k")
    tried_at = []
    with time_machine.travel(START, tick=False) as clock:
        _notify("first")
        # when: beat runs every 5 s for two hours; a new notification arrives every minute
        now = START
        while now < START + timedelta(hours=2):
            before = len(hook.requests)
            deliver_now()
            if len(hook.requests) > before:
                tried_at.append((now - START).total_seconds())
            now += timedelta(seconds=5)
            clock.move_to(now)
            if int((now - START).total_seconds()) % 60 == 0:
                _notify(f"at {now:%H:%M}")
    # then: one request per try, on the schedule 30 s, 1, 2, 4, 8, 16 min, then every 30 min (≤ 10 %
    # jitter, plus beat's 5 s), not every ~35 s
    gaps = [b - a for a, b in itertools.pairwise(tried_at)]
    expected = [30, 60, 120, 240, 480, 960, 1800, 1800]
    assert len(gaps) >= 7
    for gap, base in zip(gaps, expected, strict=False):
        assert base <= gap <= base * 1.1 + 5, (gaps, expected)
    # the first row waited through the 8 tries of its target (about an hour) and failed with the
    # reason; rows written later were not failed with it
    first = Delivery.objects.filter(notification__title="first")
    assert set(first.values_list("status", "attempts")) == {("failed", 8)}
    assert all("HTTP 500" in e for e in first.values_list("last_error", flat=True))
    assert Delivery.objects.filter(status="pending").exists()


def test_a_killed_batch_hands_back_its_own_rows_first_counting_only_the_row_in_flight(hook, deliver_now, settings):
    # given: six rows claimed by a worker that was then killed, two claimed by a live one elsewhere
    settings.NOTIFY_CLAIM_STALE_SECONDS = 30
    UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="ok", url=hook.url, secret="k")
    with time_machine.travel(START, tick=False) as clock:
        for i in range(6):
            _notify(f"early {i}")
        outbox.queue_outbound()
        target = Delivery.objects.first().target
        claimed = delivery.claim(target, "killed")
        assert len(claimed) == 6
        # rows written later wait behind them
        clock.move_to(START + timedelta(seconds=20))
        for i in range(3):
            _notify(f"later {i}")
        # when: the claim is no longer renewed; 31 s later beat runs
        clock.move_to(START + timedelta(seconds=31))
        deliver_now()
    # then: everything went out, the killed batch's rows first, in their order
    titles = [Notification.objects.get(pk=pk).title for pk in hook.notification_ids()]
    assert titles == [f"early {i}" for i in range(6)] + [f"later {i}" for i in range(3)]
    # only the first row of the killed batch counts the interrupted attempt
    attempts = dict(Delivery.objects.filter(pk__in=claimed).values_list("pk", "attempts"))
    assert attempts[min(claimed)] == 2 and {attempts[pk] for pk in claimed if pk != min(claimed)} == {1}


def test_a_running_batch_renews_its_claim_so_it_does_not_go_stale(settings):
    # given: a batch claimed at START
    settings.NOTIFY_CLAIM_STALE_SECONDS = 20
    UserFactory(role="street", unit=unit("110106003"), email="m@example.org")
    with time_machine.travel(START, tick=False) as clock:
        _notify()
        outbox.queue_outbound()
        delivery.claim(delivery.EMAIL_TARGET, "live")
        # when: the worker is still busy with it 15 s later and renews
        clock.move_to(START + timedelta(seconds=15))
        Delivery.objects.filter(claim="live").update(claimed_at=timezone.now())  # what the loop does
        clock.move_to(START + timedelta(seconds=25))
        released = delivery.release_stale()
    # then: nothing is handed back
    assert released == 0 and Delivery.objects.get().claim == "live"


def test_each_email_carries_a_message_id_of_its_delivery_row(deliver_now):
    # given
    UserFactory(role="street", unit=unit("110106003"), email="m@example.org")
    _notify()
    # when
    deliver_now()
    # then: the same on every attempt of this row, different for every other row
    row = Delivery.objects.get(channel="email")
    [message] = mail.outbox
    sent = message.message()
    assert sent["Message-ID"] == delivery.message_id(row)
    assert f"delivery-{row.pk}." in sent["Message-ID"] and sent["X-Hotline-Delivery"] == str(row.pk)


def test_healthz_degrades_with_the_age_of_an_old_backlog(client, settings):
    # given: a delivery due for ten minutes, the threshold at five
    settings.NOTIFY_BACKLOG_DEGRADED_SECONDS = 300
    UserFactory(role="street", unit=unit("110106003"), email="m@example.org")
    _notify()
    outbox.queue_outbound()
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=10))
    # when
    body = client.get("/healthz").json()
    # then
    assert body["status"] == "degraded" and body["ready"] is True
    d = body["deliveries"]
    assert d["behind"] is True and d["due"] == 1 and d["overdue"] == 1 and 600 <= d["oldest_due_seconds"] < 660
    # and a fresh backlog does not degrade it
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert client.get("/healthz").json()["deliveries"]["behind"] is False


def test_the_operators_list_of_deliveries_shows_the_backlogs_age(client, settings):
    from tests.factories import login_to_admin

    # given: a delivery due for ten minutes
    settings.NOTIFY_BACKLOG_DEGRADED_SECONDS = 300
    UserFactory(role="street", unit=unit("110106003"), email="m@example.org")
    _notify()
    outbox.queue_outbound()
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=10))
    login_to_admin(client, UserFactory(role="city", unit=unit("11-center"), is_staff=True))
    # when
    page = client.get("/admin/workorders/delivery/").content.decode()
    # then
    assert "已到期待发送 1 条，最早的已等待 60" in page and "超过 300 秒" in page


def test_a_batch_that_starts_late_renews_its_claim_first_and_sends_each_row_once(hook, deliver_now, settings):
    # given: a batch claimed at START whose message waited 29 s in the queue (stale after 30 s)
    settings.NOTIFY_CLAIM_STALE_SECONDS = 30
    for _ in range(3):
        UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="ok", url=hook.url, secret="k")
    send_one, released = delivery.send_one, []
    with time_machine.travel(START, tick=False) as clock:
        _notify()
        outbox.queue_outbound()
        target = Delivery.objects.first().target
        delivery.claim(target, "late")
        clock.move_to(START + timedelta(seconds=29))

        def slow_send(row, **kw):
            # the first request takes 2 s, and beat's dispatch runs meanwhile
            if not released:
                clock.move_to(START + timedelta(seconds=31))
                released.append(delivery.release_stale())
            return send_one(row, **kw)

        # when
        delivery.send_one = slow_send
        try:
            delivery.deliver_claimed(target, "late")
        finally:
            delivery.send_one = send_one
        deliver_now()
    # then: the claim was renewed before the first send, nothing was handed back, each row went once
    assert released == [0]
    assert sorted(hook.notification_ids()) == sorted(Notification.objects.values_list("pk", flat=True))
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}
