from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.errors import DomainError
from hotline.models import User
from workorders.lifecycle import actions
from workorders.lifecycle.callbacks import DONE_CALLBACK, Answers, callback_record
from workorders.lifecycle.machinery import Ev, lock, record
from workorders.models import (
    Callback,
    OrderState,
    SelfEvaluationLink,
    WorkOrder,
)

SELF_EVALUATION_SALT = "workorders.callbacks.self-evaluation"


# --- Citizen self-evaluation ---------------------------------------------------------------------
class LinkRefused(DomainError):
    """The self-evaluation link cannot be used (tampered, expired, used, or the callback is done)."""


def self_evaluation_token(link: SelfEvaluationLink) -> str:
    return signing.dumps(link.nonce, salt=SELF_EVALUATION_SALT, compress=False)


def self_evaluation_url(link: SelfEvaluationLink) -> str:
    return reverse("self-evaluation", args=[self_evaluation_token(link)])


def self_evaluation_link_create(
    order: WorkOrder | int, *, actor: User, now: datetime | None = None
) -> SelfEvaluationLink:
    """A one-time link for the citizen (as if sent by SMS) for the order's current round."""
    now = now or timezone.now()
    with transaction.atomic():
        order = lock(order)
        actions.check(order, actor, "self_evaluation_link", now=now)
        link = SelfEvaluationLink.objects.create(
            order=order,
            round=order.round,
            nonce=secrets.token_hex(16),
            expires_at=now + timedelta(hours=settings.SELF_EVALUATION_LINK_HOURS),
        )
        record(
            order,
            kind=Ev.SELF_EVALUATION_LINK,
            actor=actor,
            data={"link": link.pk, "expires_at": link.expires_at.isoformat()},
            at=now,
        )
    return link


def self_evaluation_find(token: str, *, now: datetime | None = None) -> SelfEvaluationLink:
    """The link behind a token, or LinkRefused with a plain message for the citizen."""
    now = now or timezone.now()
    try:
        nonce = signing.loads(token, salt=SELF_EVALUATION_SALT)
    except signing.BadSignature:
        raise LinkRefused(_("链接无效，请核对短信中的链接。"), code="link_invalid") from None
    link = SelfEvaluationLink.objects.select_related("order").filter(nonce=str(nonce)).first()
    if link is None:
        raise LinkRefused(_("链接无效，请核对短信中的链接。"), code="link_invalid")
    if link.used_at is not None:
        raise LinkRefused(_("该链接已使用过，感谢您的评价。"), code="link_used")
    if link.expires_at <= now:
        raise LinkRefused(_("该链接已过期。如需反映情况，请拨打12345。"), code="link_expired")
    order = link.order
    done = Callback.objects.filter(order=order, round=link.round, status__in=DONE_CALLBACK).exists()
    if done or order.round != link.round or order.state == OrderState.COMPLETED:
        raise LinkRefused(_("本次回访已完成，感谢您的配合。"), code="link_done")
    return link


def self_evaluation_submit(token: str, *, answers: Answers, now: datetime | None = None) -> Callback:
    """The citizen answers through the link: a valid callback with channel "self". The link is
    spent in the same transaction (a conditional UPDATE, so a second submit changes nothing)."""
    now = now or timezone.now()
    answers = answers.clean()
    with transaction.atomic():
        link = self_evaluation_find(token, now=now)
        order = lock(link.order_id)
        spent = SelfEvaluationLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
        if spent != 1:
            raise LinkRefused(_("该链接已使用过，感谢您的评价。"), code="link_used")
        # Re-checked under the order lock: an agent may have finished the callback meanwhile.
        done = Callback.objects.filter(order=order, round=link.round, status__in=DONE_CALLBACK).exists()
        if done or order.round != link.round or order.state == OrderState.COMPLETED:
            raise LinkRefused(_("本次回访已完成，感谢您的配合。"), code="link_done")
        return callback_record(
            order, actor=None, answers=answers, round=link.round, channel=Callback.Channel.SELF, now=now
        )


SELF_EVALUATION_LINK_KEEP_DAYS = 30


def self_evaluation_links_purge(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete links that expired unused more than SELF_EVALUATION_LINK_KEEP_DAYS ago, in batches; used
    links stay (they show how a callback was made). Safe to run twice or in parallel."""
    cutoff = (now or timezone.now()) - timedelta(days=SELF_EVALUATION_LINK_KEEP_DAYS)
    total = 0
    while True:
        ids = list(
            SelfEvaluationLink.objects.filter(expires_at__lt=cutoff, used_at__isnull=True).values_list("pk", flat=True)[
                :batch
            ]
        )
        if not ids:
            return total
        deleted, _rows = SelfEvaluationLink.objects.filter(pk__in=ids, used_at__isnull=True).delete()
        total += deleted
