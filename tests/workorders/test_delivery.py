"""Outbound delivery: one outbox row per notification × target, each sent once, a failing target
backing off alone, a cap with a visible failed state, and URLs that may not receive anything."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, login_to_admin, unit
from tests.webhooks import Receiver
from workorders.models import Notification, WebhookEndpoint
from workorders.notifications import delivery, outbox
from workorders.notifications.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_WEBHOOK_URL = ""
    settings.NOTIFY_WEBHOOK_TIMEOUT = 2


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
def deliver_now(django_capture_on_commit_callbacks):
    """What beat + the delivery worker do, in this process: write outbox rows, dispatch, send."""

    def run():
        outbox.queue_outbound()
        with django_capture_on_commit_callbacks(execute=True):
            delivery.dispatch(publish=delivery.deliver_claimed)

    return run


def _notify(handler, title="吹哨：测试"):
    outbox.notify_units(units=[handler.unit], kind="whistle", title=title, body="正文")
    return list(Notification.objects.filter(user=handler).values_list("pk", flat=True))


def _make_due(**filters):
    Delivery.objects.filter(**filters).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_it_signs_the_webhook_body_with_the_units_secret_and_sends_it_once(receivers, deliver_now):
    # given
    hook = receivers()
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="西罗园", url=hook.url, secret="s3cret", unit=unit("110106003"))
    WebhookEndpoint.objects.create(name="右安门", url=hook.url + "/other", secret="x", unit=unit("110106001"))
    [note] = _notify(handler)
    # when
    deliver_now()
    # then
    assert len(hook.requests) == 1
    headers, body = hook.requests[0]
    expected = hmac.new(b"s3cret", headers["X-Hotline-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Hotline-Signature"] == f"sha256={expected}"
    row = Delivery.objects.get()
    assert headers["X-Hotline-Delivery"] == str(row.pk)
    assert json.loads(body)["title"] == "吹哨：测试"
    assert row.status == "sent" and row.attempts == 1 and Notification.objects.get(pk=note).sent_at is not None
    # delivering again sends nothing more
    _make_due()
    deliver_now()
    assert len(hook.requests) == 1


def test_a_500_webhook_beside_a_healthy_one_and_email_duplicates_nothing(receivers, deliver_now):
    # given: three members with e-mail, one healthy and one failing webhook for everyone
    healthy, failing = receivers(), receivers(status=500)
    for _ in range(3):
        UserFactory(role="street", unit=unit("110106003"), email="m@example.org")
    WebhookEndpoint.objects.create(name="ok", url=healthy.url, secret="k")
    WebhookEndpoint.objects.create(name="bad", url=failing.url, secret="k")
    outbox.notify_units(units=[unit("110106003")], kind="whistle", title="吹哨")
    notes = sorted(Notification.objects.values_list("pk", flat=True))
    # when: delivered, then every retry forced due again and again
    deliver_now()
    for _ in range(3):
        _make_due(status="pending")
        deliver_now()
    # then: the healthy webhook and e-mail got each notification exactly once
    assert sorted(healthy.notification_ids()) == notes
    assert len(mail.outbox) == 3
    # the failing one was tried once per round (not once per row), and its rows wait with the reason
    assert len(failing.requests) == 4
    bad = Delivery.objects.filter(endpoint__name="bad")
    assert set(bad.values_list("status", flat=True)) == {"pending"}
    assert all("HTTP 500" in r.last_error for r in bad)
    assert set(bad.values_list("attempts", flat=True)) == {4}
    assert all(r.next_attempt_at > timezone.now() for r in bad)


def test_rows_fail_visibly_at_the_cap_and_an_operator_retries_them(receivers, deliver_now, settings, client):
    # given
    settings.NOTIFY_MAX_ATTEMPTS = 2
    hook = receivers(status=503)
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="bad", url=hook.url, secret="k")
    [note] = _notify(handler)
    deliver_now()
    _make_due()
    deliver_now()
    row = Delivery.objects.get()
    assert row.status == "failed" and row.attempts == 2 and "HTTP 503" in row.last_error
    # no more tries once failed
    _make_due()
    deliver_now()
    assert len(hook.requests) == 2
    # when: the endpoint is fixed and a city administrator retries from the admin's list of failures
    hook.status = 200
    admin = UserFactory(role="city", unit=unit("11-center"), is_staff=True)
    login_to_admin(client, admin)
    changelist = reverse("admin:workorders_delivery_changelist")
    page = client.get(changelist + "?status__exact=failed").content.decode()
    assert "HTTP 503" in page
    resp = client.post(changelist, {"action": "retry", "_selected_action": [row.pk]})
    assert resp.status_code == 302
    deliver_now()
    # then
    row.refresh_from_db()
    assert row.status == "sent" and hook.notification_ids() == [note, note, note]


@pytest.mark.parametrize("who", ["agent", "xiluoyuan_handler", "fengtai_manager"])
def test_other_roles_cannot_see_or_retry_deliveries(request, client, who):
    user = request.getfixturevalue(who)
    user.is_staff = True
    user.save()
    client.force_login(user)
    resp = client.get(reverse("admin:workorders_delivery_changelist"))
    assert resp.status_code == 302 and "login" in resp.url


def test_a_404_a_redirect_and_a_disabled_endpoint_fail_at_once_with_the_reason(receivers, deliver_now):
    missing, moving = receivers(status=404), receivers(status=302, location="http://example.org/elsewhere")
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="404", url=missing.url, secret="k")
    WebhookEndpoint.objects.create(name="302", url=moving.url, secret="k")
    off = WebhookEndpoint.objects.create(name="off", url=missing.url + "/x", secret="k")
    _notify(handler)
    outbox.queue_outbound()
    off.is_active = False  # switched off after the rows were written
    off.save()
    deliver_now()
    rows = {r.endpoint.name: r for r in Delivery.objects.select_related("endpoint")}
    assert {r.status for r in rows.values()} == {"failed"}
    assert rows["404"].last_error == "HTTP 404"
    assert "302" in rows["302"].last_error and len(moving.requests) == 1
    assert rows["off"].attempts == 1 and rows["off"].last_error
    _make_due()
    deliver_now()
    assert len(missing.requests) == 1 and len(moving.requests) == 1


def test_a_payload_that_cannot_be_serialised_is_failed_with_the_reason_not_retried(receivers):
    hook = receivers()
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="ok", url=hook.url, secret="k")
    _notify(handler)
    outbox.queue_outbound()
    row = Delivery.objects.get()
    assert delivery.claim(row.target, "t1") == [row.pk]
    row.refresh_from_db()
    row.notification.body = "坏\ud800"  # a lone surrogate: no UTF-8 encoding exists
    with pytest.raises(delivery.PermanentError, match="序列化"):
        delivery.send_one(row)
    assert hook.requests == []  # refused before anything went out; the task fails such a row at once


def test_a_claim_whose_worker_vanished_is_dispatched_again_and_the_old_message_does_nothing(
    receivers, deliver_now, settings
):
    # given: rows claimed by a worker that died before sending
    settings.NOTIFY_CLAIM_STALE_SECONDS = 60
    hook = receivers()
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="ok", url=hook.url, secret="k")
    [note] = _notify(handler)
    outbox.queue_outbound()
    row = Delivery.objects.get()
    delivery.claim(row.target, "dead-worker")
    # not stale yet: nobody else takes it
    deliver_now()
    assert hook.requests == []
    Delivery.objects.update(claimed_at=timezone.now() - timedelta(seconds=61))
    # when
    deliver_now()
    # then: sent once; the dead worker's message, redelivered by the broker later, sends nothing
    assert hook.notification_ids() == [note]
    assert delivery.deliver_claimed(row.target, "dead-worker") == 0
    assert hook.notification_ids() == [note]
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2


def test_queueing_writes_one_row_per_target_and_only_once():
    settings_url = "http://127.0.0.1:9/hook"
    member = UserFactory(role="street", unit=unit("110106003"), email="a@example.org")
    UserFactory(role="street", unit=unit("110106001"), email="")
    WebhookEndpoint.objects.create(name="all", url=settings_url, secret="k")
    mine = WebhookEndpoint.objects.create(name="mine", url=settings_url, secret="k", unit=unit("110106003"))
    WebhookEndpoint.objects.create(name="off", url=settings_url, secret="k", is_active=False)
    outbox.notify_units(units=[unit("110106003"), unit("110106001")], kind="whistle", title="吹哨")
    outbox.queue_outbound()
    outbox.queue_outbound()
    note = Notification.objects.get(user=member)
    assert sorted(Delivery.objects.filter(notification=note).values_list("target", flat=True)) == sorted(
        ["email", f"webhook:{mine.pk}", f"webhook:{WebhookEndpoint.objects.get(name='all').pk}"]
    )
    assert Delivery.objects.count() == 4  # the other member: the endpoint for everyone only


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.org/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://user:pw@hooks.example.org/",
        "https://hotline.example.gov.cn/api/v1/",
        "http://testserver/healthz",
    ],
)
def test_the_admin_refuses_a_webhook_url_that_may_not_receive_notifications(client, settings, url):
    settings.ALLOWED_HOSTS = ["hotline.example.gov.cn", "localhost", "testserver"]
    admin = UserFactory(role="city", unit=unit("11-center"), is_staff=True)
    login_to_admin(client, admin)
    resp = client.post(
        reverse("admin:workorders_webhookendpoint_add"), {"name": "x", "url": url, "secret": "k", "is_active": "on"}
    )
    assert resp.status_code == 200 and resp.context["adminform"].form.errors.get("url")
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_accepts_another_hosts_url_after_a_signed_ping(client, receivers):
    hook = receivers()
    admin = UserFactory(role="city", unit=unit("11-center"), is_staff=True)
    login_to_admin(client, admin)
    resp = client.post(
        reverse("admin:workorders_webhookendpoint_add"),
        {"name": "x", "url": hook.url, "secret": "k", "is_active": "on"},
    )
    assert resp.status_code == 302
    assert WebhookEndpoint.objects.get().url == hook.url
    [(headers, body)] = hook.requests
    assert json.loads(body) == {"kind": "ping"} and headers["X-Hotline-Signature"].startswith("sha256=")


def test_the_admin_refuses_an_endpoint_that_answers_with_a_redirect_to_another_host(client, receivers):
    moving = receivers(status=301, location="https://elsewhere.example.org/hook")
    admin = UserFactory(role="city", unit=unit("11-center"), is_staff=True)
    login_to_admin(client, admin)
    resp = client.post(
        reverse("admin:workorders_webhookendpoint_add"),
        {"name": "x", "url": moving.url, "secret": "k", "is_active": "on"},
    )
    assert resp.status_code == 200
    assert "elsewhere.example.org" in str(resp.context["adminform"].form.errors["url"])
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_that_is_down_when_configured_is_accepted(client):
    admin = UserFactory(role="city", unit=unit("11-center"), is_staff=True)
    login_to_admin(client, admin)
    resp = client.post(
        reverse("admin:workorders_webhookendpoint_add"),
        {"name": "x", "url": "http://127.0.0.1:9/hook", "secret": "k", "is_active": "on"},
    )
    assert resp.status_code == 302 and WebhookEndpoint.objects.exists()


def test_a_global_webhook_pointing_at_the_application_is_refused_when_sent(settings, deliver_now):
    settings.ALLOWED_HOSTS = ["hotline.example.gov.cn", "localhost"]
    settings.NOTIFY_WEBHOOK_URL, settings.NOTIFY_WEBHOOK_SECRET = "https://hotline.example.gov.cn/hook", "k"
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    _notify(handler)
    deliver_now()
    row = Delivery.objects.get()
    assert row.target == "webhook:global" and row.status == "failed" and "自身" in row.last_error


def test_delivered_rows_are_pruned_after_30_days_and_failed_ones_kept(deliver_now, receivers):
    hook = receivers()
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="ok", url=hook.url, secret="k")
    _notify(handler, title="一")
    _notify(handler, title="二")
    deliver_now()
    old, recent = Delivery.objects.order_by("id")
    Delivery.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=31))
    failed = Delivery.objects.create(
        notification=old.notification, channel="email", target="email", status="failed", next_attempt_at=timezone.now()
    )
    Delivery.objects.filter(pk=failed.pk).update(created_at=timezone.now() - timedelta(days=90))
    assert delivery.prune_sent() == 1
    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent.pk, failed.pk}


def test_an_smtp_outage_backs_off_the_email_rows_only_and_one_connection_sends_the_batch(
    settings, receivers, deliver_now
):
    from tests.webhooks import SmtpSink

    # given: e-mail over real SMTP, at first to a port where nothing listens
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    hook = receivers()
    WebhookEndpoint.objects.create(name="ok", url=hook.url, secret="k")
    for i in range(3):
        UserFactory(role="street", unit=unit("110106003"), email=f"u{i}@example.org")
    outbox.notify_units(units=[unit("110106003")], kind="whistle", title="吹哨")
    # when
    deliver_now()
    # then: the webhook got all three; the e-mail rows wait together with the reason
    assert len(hook.requests) == 3
    mails = Delivery.objects.filter(channel="email")
    assert set(mails.values_list("status", "attempts")) == {("pending", 1)}
    # when the mail server is back
    sink = SmtpSink()
    try:
        settings.EMAIL_PORT = sink.port
        _make_due(status="pending")
        deliver_now()
        _make_due(status="pending")
        deliver_now()
    finally:
        sink.close()
    assert sorted(sink.subjects) == ["[12345] 吹哨"] * 3 and sink.connections == 1
    assert set(mails.values_list("status", flat=True)) == {"sent"} and len(hook.requests) == 3
