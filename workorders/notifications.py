"""In-app notifications, and their outbound channels.

Call `notify_units` from inside the transaction that caused them: the rows commit with it, and
outbound delivery (e-mail, signed webhook) is queued on commit and done by a Celery task with
retries — never inside a request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from hotline.models import User
from workorders.models import Notification, WebhookEndpoint, WorkOrder


def notify_units(
    *,
    units: Iterable,
    kind: str,
    title: str,
    body: str = "",
    order: WorkOrder | None = None,
    url: str = "",
    roles: Iterable[str] | None = None,
) -> int:
    """One notification for every active member of each unit (optionally only some roles)."""
    members = User.objects.filter(unit__in=list(units), is_active=True)
    if roles is not None:
        members = members.filter(role__in=list(roles))
    recipients = list(members.values_list("id", "email"))
    rows = [
        Notification(user_id=uid, kind=kind, title=str(title)[:200], body=body, order=order, url=url)
        for uid, _email in recipients
    ]
    created = Notification.objects.bulk_create(rows, batch_size=500)
    if created and outbound_wanted(any(email for _uid, email in recipients)):
        ids = [n.pk for n in created if n.pk is not None]
        if ids:
            transaction.on_commit(lambda: _queue_delivery(ids))
    return len(rows)


def outbound_wanted(any_email: bool) -> bool:
    email = getattr(settings, "NOTIFY_EMAIL_ENABLED", True) and any_email
    return bool(email or global_webhook() or WebhookEndpoint.objects.filter(is_active=True).exists())


def _queue_delivery(ids: list[int]) -> None:
    from workorders.tasks import deliver_notifications

    deliver_notifications.delay(ids)


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
        from django.core.mail import send_mail

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
    from django.utils import timezone

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
