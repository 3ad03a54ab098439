"""Outbound delivery: e-mail and signed webhooks, one outbox row (`Delivery`) per notification ×
target, each with its own state.

- `dispatch` (beat, every few seconds) re-opens claims whose worker vanished, then claims a chunk
  of due rows for every target that has no batch in flight, and publishes one task per target
  after commit. A target is the unit of isolation: a dead or hanging webhook holds at most one
  worker thread, for at most one timeout per retry, and nobody else's rows wait behind it.
- `deliver_claimed` (the task) sends the rows still holding its claim token, marks each one sent
  the moment it went out (e-mail: all over one SMTP connection, each with a Message-ID derived
  from its row), renews its claim while it works, and keeps claiming its target's next chunk until
  its time budget is spent. A transient failure (timeout, refused connection, 5xx) backs the whole
  target off — 30 s, 1 min, 2 min … by the target's count of failed tries, whichever row was tried;
  after NOTIFY_MAX_ATTEMPTS tries of the target a row is failed. A permanent problem (URL not
  allowed, redirect, 4xx, payload that cannot be serialised, address refused) fails the row at
  once with the reason. Failed rows are listed in the admin ("外发记录"), where a city
  administrator retries them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import random
import smtplib
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from workorders.models import Notification
from workorders.notifications.models import Delivery

CHUNK = 50
GLOBAL_TARGET = "webhook:global"
EMAIL_TARGET = "email"


def webhook_timeout() -> float:
    return float(settings.NOTIFY_WEBHOOK_TIMEOUT)


def max_attempts() -> int:
    return int(settings.NOTIFY_MAX_ATTEMPTS)


def claim_stale_seconds() -> int:
    return int(settings.NOTIFY_CLAIM_STALE_SECONDS)


def renew_seconds() -> float:
    """How often a running batch renews its claim: well inside the stale time, so only a batch
    whose worker is gone (or hangs past every timeout) goes stale."""
    return max(1.0, claim_stale_seconds() / 4)


def backoff(attempts: int) -> timedelta:
    """NOTIFY_RETRY_SECONDS (30 s), doubling after each failure, capped at 30 min; up to 10 % jitter."""
    first = int(settings.NOTIFY_RETRY_SECONDS)
    base = min(first * 2 ** max(attempts - 1, 0), 1800)
    return timedelta(seconds=base * (1 + random.random() / 10))


class PermanentError(Exception):
    """Sending this row again cannot succeed: it is failed at once, with the reason."""


class RedirectRefused(PermanentError):
    """The endpoint answered with a redirect: never followed (it could lead anywhere)."""


# --- webhook URLs ---------------------------------------------------------------------------------
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1", "testserver", "*", ""}


def own_hosts() -> list[str]:
    """The application's public host names (ALLOWED_HOSTS without loopback and wildcard)."""
    return [h.lower() for h in settings.ALLOWED_HOSTS if h.lower() not in _LOOPBACK_NAMES]


def _matches(host: str, pattern: str) -> bool:
    if pattern.startswith("."):
        return host == pattern[1:] or host.endswith(pattern)
    return host == pattern


def webhook_url_problem(url: str, *, request_host: str = "") -> str | None:
    """Why `url` may not receive notifications, or None. Refused: anything but http(s), no host,
    credentials in the URL, and the application itself (one of its public host names, or the host
    and port the administrator is using right now)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return _("推送地址格式不正确。")
    if parts.scheme not in ("http", "https"):
        return _("推送地址必须以 http:// 或 https:// 开头。")
    host = (parts.hostname or "").lower()
    if not host:
        return _("推送地址缺少主机名。")
    if parts.username or parts.password:
        return _("推送地址不能包含用户名或密码。")
    if any(_matches(host, pattern) for pattern in own_hosts()):
        return _("推送地址指向本系统自身。")
    if request_host:
        own = urlsplit("//" + request_host.lower())
        default = 443 if parts.scheme == "https" else 80
        try:
            own_port = own.port
        except ValueError:
            own_port = None
        if own.hostname and _same_host(own.hostname, host) and (port or default) == (own_port or default):
            return _("推送地址指向本系统自身。")
    return None


def _same_host(a: str, b: str) -> bool:
    if a == b:
        return True
    loop = {"localhost", "127.0.0.1", "::1"}
    try:
        return (a in loop or ipaddress.ip_address(a).is_loopback) and (b in loop or ipaddress.ip_address(b).is_loopback)
    except ValueError:
        return False


def global_webhook() -> tuple[str, str] | None:
    url = settings.NOTIFY_WEBHOOK_URL
    secret = settings.NOTIFY_WEBHOOK_SECRET
    return (url, secret) if url and secret else None


# --- what is sent -----------------------------------------------------------------------------------
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


def encode(body: dict) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise PermanentError(_("内容无法序列化：%(error)s") % {"error": exc}) from exc


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise RedirectRefused(
            _("推送地址返回重定向（%(code)s → %(url)s），已拒绝。") % {"code": code, "url": newurl[:120]}
        )


_opener = urllib.request.build_opener(_NoRedirects)


def post_webhook(url: str, secret: str, data: bytes, *, delivery_id: int | None = None, timeout: float | None = None):
    """POST the signed body. Returns on 2xx; raises PermanentError for what a retry cannot fix
    (URL not allowed, redirect, 4xx other than 408/429) and OSError for the rest."""
    problem = webhook_url_problem(url)
    if problem:
        raise PermanentError(problem)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Hotline-Timestamp": timestamp,
        "X-Hotline-Signature": sign(secret, timestamp, data),
    }
    if delivery_id is not None:
        # The same for every attempt of this row: receivers drop a repeat they already processed.
        headers["X-Hotline-Delivery"] = str(delivery_id)
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with _opener.open(request, timeout=timeout or webhook_timeout()) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise RedirectRefused(_("推送地址返回重定向（%(code)s），已拒绝。") % {"code": exc.code}) from exc
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise PermanentError(f"HTTP {exc.code}") from exc
        raise OSError(f"HTTP {exc.code}") from exc
    if not 200 <= status < 300:
        raise PermanentError(f"HTTP {status}")
    return status


def probe_redirect(url: str, secret: str, *, timeout: float = 3) -> str | None:
    """When an endpoint is configured: send it a signed ping and return why it is refused if it
    answers with a redirect (deliveries never follow one). An endpoint that is down or slow is not
    refused here — it may be set up before its receiver runs."""
    try:
        post_webhook(url, secret or "-", encode({"kind": "ping"}), timeout=timeout)
    except RedirectRefused as exc:
        return str(exc)
    except (PermanentError, OSError):
        return None
    return None


def message_id(row: Delivery) -> str:
    """The same on every attempt of this row (like X-Hotline-Delivery for webhooks): a receiver, or
    the mail server, recognises a repeat after an interrupted batch and drops it."""
    domain = (own_hosts() or ["hotline.invalid"])[0].lstrip(".")
    return f"<delivery-{row.pk}.notification-{row.notification_id}@{domain}>"


def email_for(row: Delivery, mail_connection=None) -> EmailMessage:
    n = row.notification
    return EmailMessage(
        subject=f"[12345] {n.title}",
        body=f"{n.body}\n\n{n.url}".strip(),
        to=[n.user.email],
        headers={"Message-ID": message_id(row), "X-Hotline-Delivery": str(row.pk)},
        connection=mail_connection,
    )


def send_one(row: Delivery, *, mail_connection=None) -> None:
    n = row.notification
    if row.channel == Delivery.Channel.EMAIL:
        if not n.user.email:
            raise PermanentError(_("收件人没有电子邮件地址。"))
        try:
            if mail_connection is not None:
                mail_connection.open()  # no-op once open: one connection for the whole batch
            email_for(row, mail_connection).send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(_("邮件地址被拒收。")) from exc
        except UnicodeError as exc:
            raise PermanentError(_("内容无法序列化：%(error)s") % {"error": exc}) from exc
        except smtplib.SMTPException as exc:
            raise OSError(str(exc)) from exc
        return
    if row.target == GLOBAL_TARGET:
        glob = global_webhook()
        if glob is None:
            raise PermanentError(_("全局推送地址已取消。"))
        url, secret = glob
    else:
        if row.endpoint is None or not row.endpoint.is_active:
            raise PermanentError(_("推送地址已停用。"))
        url, secret = row.endpoint.url, row.endpoint.secret
    post_webhook(url, secret, encode(payload(n)), delivery_id=row.pk)


# --- outbox rows ------------------------------------------------------------------------------------
def rows_for(notifications: list[tuple[int, int | None, str]], endpoints: list, now: datetime) -> list[Delivery]:
    """The outbox rows for claimed notifications, given as (id, user's unit id, user's e-mail)."""
    email_on = settings.NOTIFY_EMAIL_ENABLED
    glob = global_webhook()
    rows = []
    for pk, unit_id, email in notifications:
        if email_on and email:
            rows.append(Delivery(notification_id=pk, channel="email", target=EMAIL_TARGET, next_attempt_at=now))
        for e in endpoints:
            if e.unit_id in (None, unit_id):
                rows.append(
                    Delivery(
                        notification_id=pk,
                        channel="webhook",
                        target=f"webhook:{e.pk}",
                        endpoint_id=e.pk,
                        next_attempt_at=now,
                    )
                )
        if glob:
            rows.append(Delivery(notification_id=pk, channel="webhook", target=GLOBAL_TARGET, next_attempt_at=now))
    return rows


def release_stale(now: datetime | None = None) -> int:
    """Claims not renewed for NOTIFY_CLAIM_STALE_SECONDS belong to a worker that died (or hung past
    every timeout): hand the rows back. Only the first row of each such batch was (maybe) being
    sent: it counts the attempt (failed at the cap); the untried rest counts nothing. All keep
    their due time, so they go out before the backlog written since."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=now - timedelta(seconds=claim_stale_seconds())
    )
    in_flight = [
        row["first"] for row in stale.values("claim").annotate(first=Min("id")).order_by() if row["first"] is not None
    ]
    reason = _("发送进程中断，重新排队。")
    tried = stale.filter(pk__in=in_flight)  # still stale: a batch that renewed just now keeps its rows
    tried.filter(attempts__gte=max_attempts() - 1).update(
        status=Delivery.Status.FAILED, claim="", attempts=F("attempts") + 1, last_error=reason
    )
    tried.update(status=Delivery.Status.PENDING, claim="", attempts=F("attempts") + 1, last_error=reason)
    return stale.update(status=Delivery.Status.PENDING, claim="") + len(in_flight)


def claim(target: str, token: str, now: datetime | None = None) -> list[int]:
    """Claim up to CHUNK due rows of one target (oldest first; concurrent claimers skip each other)."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(target=target, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:CHUNK]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING).update(
                status=Delivery.Status.SENDING, claim=token, claimed_at=now
            )
    return ids


def batches_per_target(target: str) -> int:
    """Batches of one target in flight at once. E-mail: NOTIFY_EMAIL_BATCHES, each over its own SMTP
    connection — one connection waits on a round trip per command, so a surge needs a few side by
    side; a webhook: one, so a dead or slow receiver holds at most one worker thread."""
    return int(settings.NOTIFY_EMAIL_BATCHES) if target == EMAIL_TARGET else 1


def dispatch(now: datetime | None = None, publish=None) -> int:
    """Re-open stale claims, then start batches for every target with due rows, up to its number of
    batches in flight. `publish(target, token)` runs after the claim committed. Returns rows
    claimed."""
    now = now or timezone.now()
    release_stale(now)
    in_flight = Counter(
        dict(
            Delivery.objects.filter(status=Delivery.Status.SENDING)
            .values_list("target")
            .annotate(batches=Count("claim", distinct=True))
            .order_by()
        )
    )
    # A target backing off after a failure waits as a whole, also for rows written since.
    busy = set(
        Delivery.objects.filter(status=Delivery.Status.PENDING, attempts__gt=0, next_attempt_at__gt=now)
        .values_list("target", flat=True)
        .distinct()
    )
    due = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .exclude(target__in=busy)
        .values_list("target", flat=True)
        .distinct()
    )
    total = 0
    for target in list(due):
        for _batch in range(batches_per_target(target) - in_flight[target]):
            token = uuid.uuid4().hex
            with transaction.atomic():
                ids = claim(target, token, now)
                if ids and publish is not None:
                    # robust: a broker refusing one publish leaves that claim to go stale and be
                    # dispatched again; the other targets are still started.
                    transaction.on_commit(lambda t=target, k=token: publish(t, k), robust=True)
            total += len(ids)
            if not ids:
                break
    return total


def _fail_target(target: str, token: str, row: Delivery, reason: str) -> None:
    """A transient failure: the target is down for every row waiting for it now (this batch and its
    other due rows): each counts the attempt and waits for the backoff, those at the cap fail. One
    dead endpoint is tried once per retry, not once per row, and a long outage fails its backlog
    after NOTIFY_MAX_ATTEMPTS rounds instead of row after row."""
    now = timezone.now()
    waiting = Delivery.objects.filter(target=target).filter(
        Q(claim=token, status=Delivery.Status.SENDING) | Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
    )
    # The target's count of failed tries is carried by the rows that waited through them: the
    # schedule goes on from there even when the row tried was written since (it used to restart
    # at 30 s whenever a new row came first, so a dead endpoint was tried every ~35 s).
    tries = (waiting.aggregate(most=Max("attempts"))["most"] or 0) + 1
    retry_at = now + backoff(tries)
    counted = {"claim": "", "attempts": F("attempts") + 1, "last_error": reason[:300]}
    waiting.filter(attempts__gte=max_attempts() - 1).update(status=Delivery.Status.FAILED, **counted)
    waiting.update(status=Delivery.Status.PENDING, next_attempt_at=retry_at, **counted)


# A batch hands its untried rows back after this long, so a surge on one target is re-dispatched in
# turns (the claim is renewed meanwhile; the budget is about turns, not about liveness).
BUDGET_SECONDS = 60.0


def deliver_claimed(target: str, token: str) -> int:
    """Send the rows of `target` holding `token`, then keep claiming the target's next due rows with
    the same token until the time budget is spent. Returns how many rows went out."""
    started = time.monotonic()
    if target != EMAIL_TARGET:
        return _deliver_claimed(target, token, started, None)
    # One SMTP connection for the whole run, opened with the first message (a refusal is then a
    # transient failure of the e-mail target like any other).
    mail_connection = get_connection()
    try:
        return _deliver_claimed(target, token, started, mail_connection)
    finally:
        mail_connection.close()


def _mark_sent(row: Delivery, token: str) -> bool:
    """The row went out: marked at once, so a batch killed after it does not send it again. On
    PostgreSQL without waiting for the WAL flush (synchronous_commit off for this one transaction):
    the update is visible to every other process as soon as it returns, only a crash of the
    database server itself within a fraction of a second could forget it — then the row is sent
    once more, with the same Message-ID / X-Hotline-Delivery. That wait was most of the time per
    e-mail (16–33 a second)."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        marked = Delivery.objects.filter(pk=row.pk, claim=token).update(
            status=Delivery.Status.SENT, claim="", attempts=F("attempts") + 1, sent_at=now, last_error=""
        )
        Notification.objects.filter(pk=row.notification_id, sent_at__isnull=True).update(sent_at=now)
    return bool(marked)


def _deliver_claimed(target: str, token: str, started: float, mail_connection) -> int:
    sent = 0
    # Renewed before the first send: the message may have waited in the queue for most of the stale
    # time, and a claim handed back while its rows are being sent makes every one of them a repeat.
    renewed = -math.inf
    while True:
        rows = list(
            Delivery.objects.filter(target=target, claim=token, status=Delivery.Status.SENDING)
            .select_related("notification__user__unit", "notification__order", "endpoint")
            .order_by("id")
        )
        if not rows:
            return sent
        for row in rows:
            if time.monotonic() - started > BUDGET_SECONDS:
                # Out of time: hand the untried rest back for the next dispatch.
                Delivery.objects.filter(target=target, claim=token, status=Delivery.Status.SENDING).update(
                    status=Delivery.Status.PENDING, claim=""
                )
                return sent
            if time.monotonic() - renewed > renew_seconds():
                # Still alive: only a batch whose worker is gone goes stale.
                mine = Delivery.objects.filter(pk__gte=row.pk, claim=token, status=Delivery.Status.SENDING)
                if not mine.update(claimed_at=timezone.now()):
                    return sent  # handed back already (this worker was stalled past the stale time)
                renewed = time.monotonic()
            try:
                send_one(row, mail_connection=mail_connection)
            except PermanentError as exc:
                Delivery.objects.filter(pk=row.pk, claim=token).update(
                    status=Delivery.Status.FAILED, claim="", attempts=F("attempts") + 1, last_error=str(exc)[:300]
                )
                continue
            except Exception as exc:  # noqa: BLE001 - any other failure is transient for this target
                _fail_target(target, token, row, f"{exc.__class__.__name__}: {exc}")
                return sent
            if not _mark_sent(row, token):
                return sent  # the claim was handed back meanwhile: the rest is someone else's now
            sent += 1
        claim(target, token)
        renewed = time.monotonic()


def retry_failed(ids) -> int:
    """An operator's retry: failed rows start again from zero attempts, due now."""
    return Delivery.objects.filter(pk__in=list(ids), status=Delivery.Status.FAILED).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), claim="", last_error=""
    )


def prune_sent(*, days: int = 30, batch: int = 5000) -> int:
    """Delivered rows are kept `days` for investigations, then deleted in batches (failed and
    waiting rows stay until an operator has dealt with them)."""
    cutoff = timezone.now() - timedelta(days=days)
    total = 0
    while ids := list(
        Delivery.objects.filter(status=Delivery.Status.SENT, sent_at__lt=cutoff).values_list("pk", flat=True)[:batch]
    ):
        total += Delivery.objects.filter(pk__in=ids).delete()[0]
    return total
