from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from workorders.models import Notification, WebhookEndpoint

DELIVERY_CHUNK = 200


# --- channels -----------------------------------------------------------------------------------
def global_webhook() -> tuple[str, str] | None:
    url = getattr(settings, "NOTIFY_WEBHOOK_URL", "")
    secret = getattr(settings, "NOTIFY_WEBHOOK_SECRET", "")
    return (url, secret) if url and secret else None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex. The receiver recomputes it and rejects old
    timestamps, so a captured request cannot be replayed later."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def payload(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "order": notification.order.number if notification.order_id else None,
        "user": notification.user.username,
        "unit": notification.user.unit.code if notification.user.unit_id else None,
        "created_at": notification.created_at.isoformat(),
    }


def post_webhook(url: str, secret: str, body: dict, *, timeout: float = 10) -> int:
    data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Hotline-Timestamp": timestamp,
            "X-Hotline-Signature": sign(secret, timestamp, data),
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


class EmailChannel:
    def send(self, notifications: list[Notification]) -> None:

        for n in notifications:
            if n.user.email:
                send_mail(
                    subject=f"[12345] {n.title}",
                    message=f"{n.body}\n\n{n.url}".strip(),
                    from_email=None,
                    recipient_list=[n.user.email],
                )


class WebhookChannel:
    def send(self, notifications: list[Notification]) -> None:
        endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
        glob = global_webhook()
        for n in notifications:
            body = payload(n)
            targets = [(e.url, e.secret) for e in endpoints if e.unit_id in (None, n.user.unit_id)]
            if glob:
                targets.append(glob)
            for url, secret in targets:
                post_webhook(url, secret, body)


CHANNELS = [EmailChannel(), WebhookChannel()]


def deliver(ids: list[int]) -> int:
    """Send the not-yet-sent notifications among `ids` through every channel, then mark them sent.
    A failure raises (the task retries); those already marked are never sent again."""

    pending = list(Notification.objects.filter(pk__in=ids, sent_at__isnull=True).select_related("user__unit", "order"))
    if not pending:
        return 0
    for channel in CHANNELS:
        if channel is CHANNELS[0] and not getattr(settings, "NOTIFY_EMAIL_ENABLED", True):
            continue
        channel.send(pending)
    return Notification.objects.filter(pk__in=[n.pk for n in pending], sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
