import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.factories import UserFactory, unit
from workorders import notifications
from workorders.models import Notification, WebhookEndpoint

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
    notifications.notify_units(units=[handler.unit], kind="whistle", title="吹哨：测试", body="正文")
    return list(Notification.objects.filter(user=handler).values_list("pk", flat=True))


def test_it_signs_the_webhook_body_with_the_units_secret(receiver):
    # given
    handler = UserFactory(role="street", unit=unit("110106003"), email="")
    WebhookEndpoint.objects.create(name="西罗园", url=receiver.url, secret="s3cret", unit=unit("110106003"))
    WebhookEndpoint.objects.create(name="右安门", url=receiver.url + "/other", secret="x", unit=unit("110106001"))
    ids = _notify(handler)
    # when
    sent = notifications.deliver(ids)
    # then
    assert sent == 1 and len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = hmac.new(b"s3cret", headers["X-Hotline-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Hotline-Signature"] == f"sha256={expected}"
    assert json.loads(body)["title"] == "吹哨：测试"
    # delivering again sends nothing more
    assert notifications.deliver(ids) == 0 and len(receiver.requests) == 1


def test_a_failing_endpoint_raises_for_a_retry_and_marks_nothing_sent():
    failing = _Receiver(status=500)
    try:
        handler = UserFactory(role="street", unit=unit("110106003"))
        WebhookEndpoint.objects.create(name="g", url=failing.url, secret="k")
        ids = _notify(handler)
        with pytest.raises(OSError):
            notifications.deliver(ids)
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
    notifications.deliver([n.pk for n in ids])
    assert [m.to for m in mail.outbox] == [["zhang@example.org"]]
    assert "办结超期" in mail.outbox[0].subject
