import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.factories import UserFactory, unit
from workorders.models import Notification, WebhookEndpoint
from workorders.notifications import delivery, outbox

pytestmark = pytest.mark.django_db


class _Receiver:
    def __init__(self, status=200):
        self.requests, self.status = [], status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = _Receiver()
    yield r
    r.close()


def _notify(handler):
    outbox.notify_units(units=[handler.unit], kind="whistle", title="吹哨：测试", body="正文")
    return list(Notification.objects.filter(user=handler).values_list("pk", flat=True))


def test_it_signs_the_webhook_body_with_the_units_secret(receiver):
    # given
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="西罗园", url=receiver.url, secret="s3cret", unit=unit("110106003"))
    WebhookEndpoint.objects.create(name="右安门", url=receiver.url + "/other", secret="x", unit=unit("110106001"))
    ids = _notify(handler)
    # when
    sent = delivery.deliver(ids)
    # then
    assert sent == 1 and len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = hmac.new(b"s3cret", headers["X-Hotline-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Hotline-Signature"] == f"sha256={expected}"
    assert json.loads(body)["title"] == "吹哨：测试"
    # delivering again sends nothing more
    assert delivery.deliver(ids) == 0 and len(receiver.requests) == 1


def test_a_failing_endpoint_raises_for_a_retry_and_marks_nothing_sent():
    failing = _Receiver(status=500)
    try:
        handler = UserFactory(role="street", unit=unit("110106003"))
        WebhookEndpoint.objects.create(name="g", url=failing.url, secret="k")
        ids = _notify(handler)
        with pytest.raises(OSError):
            delivery.deliver(ids)
        assert not Notification.objects.filter(pk__in=ids, sent_at__isnull=False).exists()
    finally:
        failing.close()


def test_email_goes_to_members_with_an_address(settings):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    handler = UserFactory(role="street", unit=unit("110106003"), email="zhang@example.org")
    UserFactory(role="street", unit=unit("110106003"), email="")
    ids = list(
        Notification.objects.bulk_create([Notification(user=handler, kind="overdue", title="办结超期：X", url="/o/1/")])
    )
    delivery.deliver([n.pk for n in ids])
    assert [m.to for m in mail.outbox] == [["zhang@example.org"]]
    assert "办结超期" in mail.outbox[0].subject


def test_notify_units_writes_one_row_per_active_member_in_one_statement(django_assert_num_queries):
    xiluoyuan = unit("110106003")
    active = UserFactory(role="street", unit=xiluoyuan)
    gone = UserFactory(role="street", unit=xiluoyuan, is_active=False)
    elsewhere = UserFactory(role="street", unit=unit("110106001"))
    with django_assert_num_queries(1):
        count = outbox.notify_units(units=[xiluoyuan], kind="whistle", title="吹哨：" + "长" * 300, body="正文")
    assert count == 1
    note = Notification.objects.get()
    assert note.user == active and note.kind == "whistle" and note.body == "正文"
    assert len(note.title) == 200 and note.queued_at is None and note.sent_at is None
    assert not Notification.objects.filter(user__in=[gone, elsewhere]).exists()


def test_notify_units_can_keep_to_some_roles():
    fengtai = unit("110106")
    manager = UserFactory(role="district", unit=fengtai)
    assert outbox.notify_units(units=[fengtai], kind="escalated", title="升级", roles=["street"]) == 0
    assert outbox.notify_units(units=[fengtai], kind="escalated", title="升级", roles=["district"]) == 1
    assert Notification.objects.get().user == manager


def test_queueing_looks_at_each_notification_once_and_skips_those_with_nowhere_to_go(settings):
    settings.NOTIFY_WEBHOOK_URL = ""
    with_mail = UserFactory(role="street", unit=unit("110106003"), email="li@example.org")
    without = UserFactory(role="street", unit=unit("110106003"), email="")
    outbox.notify_units(units=[unit("110106003")], kind="new_order", title="新工单")
    assert outbox.queue_outbound() == 2
    assert not Notification.objects.filter(queued_at__isnull=True).exists()
    # nothing left to claim, and nothing was sent from the request's side
    assert outbox.queue_outbound() == 0
    assert not Notification.objects.filter(user__in=[with_mail, without], sent_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_new_notifications_by_email_after_the_queue_task(live_worker):
    from tests.conftest import wait_for
    from workorders import tasks

    with_mail = UserFactory(role="street", unit=unit("110106003"), email="wang@example.org")
    without = UserFactory(role="street", unit=unit("110106003"), email="")
    outbox.notify_units(units=[unit("110106003")], kind="new_order", title="新工单 X：测试")
    tasks.queue_outbound.delay()
    sent = wait_for(
        lambda: Notification.objects.filter(user=with_mail, sent_at__isnull=False).first(), log=live_worker.log
    )
    assert sent.queued_at is not None and sent.sent_at >= sent.queued_at
    other = Notification.objects.get(user=without)
    assert other.queued_at is not None and other.sent_at is None
    assert "wang@example.org" in live_worker.log.read_text()


def test_recipients_by_unit_follows_the_same_rule_as_notify_units():
    xiluoyuan, fengtai = unit("110106003"), unit("110106")
    handler = UserFactory(role="street", unit=xiluoyuan)
    UserFactory(role="street", unit=xiluoyuan, is_active=False)
    manager = UserFactory(role="district", unit=fengtai)
    assert outbox.recipients_by_unit([xiluoyuan.pk, fengtai.pk]) == {
        xiluoyuan.pk: [handler.pk],
        fengtai.pk: [manager.pk],
    }
    assert outbox.recipients_by_unit([xiluoyuan.pk, fengtai.pk], roles=["district"]) == {fengtai.pk: [manager.pk]}
