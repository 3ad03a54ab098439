"""Text messages to callers, through a pluggable backend (settings.SMS_BACKEND).

- "console" (default): the message is written to the log (development, demo, tests).
- "http": POST {"to": phone, "text": text} as JSON to SMS_GATEWAY_URL with
  `Authorization: Bearer SMS_GATEWAY_TOKEN`; any 2xx is success.

`self_evaluation_sms_queue()` records the message on the order (SmsMessage, status "queued") and,
once committed, hands it to the Celery task `hotline.tasks.send_sms`, which calls `sms_deliver()`
and retries with backoff while the gateway fails; after the last try the row says "failed".
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline import access
from hotline.errors import DomainError
from hotline.intake.services import MOBILE_RE
from hotline.models import SmsMessage, User
from workorders.models import SelfEvaluationLink, WorkOrder

log = logging.getLogger("hotline.sms")


class SmsError(OSError):
    """The gateway did not take the message (an OSError, so the task's autoretry covers it)."""


class ConsoleBackend:
    name = "console"

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


class HttpGatewayBackend:
    name = "http"

    def __init__(self, url: str, token: str = "", timeout: int = 10):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, text: str) -> None:
        body = json.dumps({"to": phone, "text": text}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                if not 200 <= resp.status < 300:
                    raise SmsError(f"gateway answered {resp.status}")
        except urllib.error.HTTPError as exc:
            raise SmsError(f"gateway answered {exc.code}") from None
        except urllib.error.URLError as exc:
            raise SmsError(f"gateway unreachable: {exc.reason}") from None


def sms_backend():
    if settings.SMS_BACKEND == "http":
        return HttpGatewayBackend(settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_TOKEN, settings.SMS_GATEWAY_TIMEOUT)
    return ConsoleBackend()


def self_evaluation_sms_queue(*, order: WorkOrder, link_id: int, url: str, actor: User) -> SmsMessage:
    """Record the self-evaluation link's text message on the order and queue it for sending."""
    access.require(actor, access.Cap.CALL_BACK)
    if not access.visible_orders(actor).filter(pk=order.pk).exists():
        raise DomainError(_("工单不存在或您无权查看。"), code="not_found")
    link = SelfEvaluationLink.objects.filter(pk=link_id, order=order).first()
    now = timezone.now()
    if link is None or link.used_at is not None or link.expires_at <= now or link.round != order.round:
        raise DomainError(_("该自评链接已使用、已过期或不属于本轮回访。"), code="link_unusable")
    phone = order.call.caller_phone
    if not MOBILE_RE.match(phone or ""):
        raise DomainError(_("来电号码不是手机号，不能发短信；请复制链接用其他方式发送。"), code="not_mobile")
    text = _("【12345】您反映的问题（工单 %(number)s）已办理，请点击链接评价：%(url)s") % {
        "number": order.number,
        "url": url,
    }
    with transaction.atomic():
        message = SmsMessage.objects.create(
            order=order,
            purpose=SmsMessage.Purpose.SELF_EVALUATION,
            phone=phone,
            text=text,
            created_by=actor,
            backend=settings.SMS_BACKEND,
        )
        transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    # By name: the task module imports this one.
    current_app.send_task("hotline.tasks.send_sms", args=[message_id])


def sms_deliver(message_id: int, *, final: bool = False) -> str:
    """Send one queued message; raises SmsError to be retried. `final`: the last try — a failure
    is then recorded as such."""
    message = SmsMessage.objects.filter(pk=message_id, status=SmsMessage.Status.QUEUED).first()
    if message is None:
        return "gone"
    SmsMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
    try:
        sms_backend().send(message.phone, message.text)
    except SmsError as exc:
        SmsMessage.objects.filter(pk=message.pk).update(
            error=str(exc)[:300], status=SmsMessage.Status.FAILED if final else SmsMessage.Status.QUEUED
        )
        raise
    SmsMessage.objects.filter(pk=message.pk, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.SENT, sent_at=timezone.now(), error=""
    )
    return "sent"
