"""The self-evaluation link by SMS: recorded on the order, sent by a real Celery worker through the
HTTP gateway backend (a real HTTP server on 127.0.0.1 that fails once, then takes it)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse

from hotline.intake import sms
from hotline.models import SmsMessage
from tests.callbacks.conftest import close, make_order
from tests.conftest import wait_for
from tests.factories import PASSWORD
from workorders.lifecycle import self_evaluations


class Gateway:
    def __init__(self, fail_first: int):
        self.fail_first, self.received = fail_first, []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append((body, self.headers.get("Authorization")))
                self.send_response(503 if len(gateway.received) <= gateway.fail_first else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def gateway(monkeypatch, settings):
    gw = Gateway(fail_first=1)
    for name, value in {
        "SMS_BACKEND": "http",
        "SMS_GATEWAY_URL": gw.url,
        "SMS_GATEWAY_TOKEN": "t0ken",
        "SMS_RETRY_SECONDS": "1",
    }.items():
        monkeypatch.setenv(name, value)
        setattr(settings, name, 1 if name == "SMS_RETRY_SECONDS" else value)
    yield gw
    gw.stop()


@pytest.mark.django_db
def test_a_failed_send_stays_queued_then_the_last_try_records_the_failure(agent, gateway):
    order = close(make_order(agent))
    link = self_evaluations.self_evaluation_link_create(order, actor=agent)
    message = sms.self_evaluation_sms_queue(order=order, link_id=link.pk, url="http://x/e/1/", actor=agent)
    with pytest.raises(sms.SmsError):
        sms.sms_deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 1) and "503" in message.error
    assert sms.sms_deliver(message.pk) == "sent"
    message.refresh_from_db()
    assert message.status == "sent" and message.sent_at is not None
    body, auth = gateway.received[-1]
    assert body["to"] == order.call.caller_phone and "http://x/e/1/" in body["text"] and auth == "Bearer t0ken"
    assert sms.sms_deliver(message.pk) == "gone"  # sent once only


@pytest.mark.django_db
def test_bad_requests_change_nothing(agent, xiluoyuan_handler):
    from hotline.errors import AccessDenied, DomainError

    order = close(make_order(agent))
    link = self_evaluations.self_evaluation_link_create(order, actor=agent)
    with pytest.raises(AccessDenied):
        sms.self_evaluation_sms_queue(order=order, link_id=link.pk, url="u", actor=xiluoyuan_handler)
    with pytest.raises(DomainError):
        sms.self_evaluation_sms_queue(order=order, link_id=link.pk + 999, url="u", actor=agent)
    order.call.caller_phone = "01063521234"  # a landline takes no SMS
    order.call.save()
    with pytest.raises(DomainError):
        sms.self_evaluation_sms_queue(order=order, link_id=link.pk, url="u", actor=agent)
    assert not SmsMessage.objects.exists()


def test_the_agent_sends_the_link_and_the_worker_delivers_it_with_a_retry(client, gateway, live_worker, agent):
    order = close(make_order(agent))
    link = self_evaluations.self_evaluation_link_create(order, actor=agent)
    assert client.login(username=agent.username, password=PASSWORD)
    page = client.get(reverse("callback-detail", args=[order.pk])).content.decode()
    assert 'data-testid="self-link-copy"' in page and 'data-testid="self-link-sms"' in page
    resp = client.post(reverse("self-evaluation-sms", args=[order.pk, link.pk]))
    assert resp.status_code == 302
    message = SmsMessage.objects.get(order=order)
    wait_for(lambda: SmsMessage.objects.get(pk=message.pk).status == "sent", timeout=40, log=live_worker.log)
    message.refresh_from_db()
    assert message.attempts == 2 and len(gateway.received) == 2
    text = gateway.received[-1][0]["text"]
    token = text.split("/e/")[1].rstrip("/")
    assert order.number in text and self_evaluations.self_evaluation_find(token).pk == link.pk
    page = client.get(reverse("callback-detail", args=[order.pk])).content.decode()
    assert 'data-testid="sms"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["xiluoyuan_handler", "fengtai_manager", "water_dept_handler"])
def test_only_callers_back_send(client, request, role, agent):
    order = close(make_order(agent))
    link = self_evaluations.self_evaluation_link_create(order, actor=agent)
    assert client.login(username=request.getfixturevalue(role).username, password=PASSWORD)
    assert client.post(reverse("self-evaluation-sms", args=[order.pk, link.pk])).status_code == 403
    assert not SmsMessage.objects.exists()
