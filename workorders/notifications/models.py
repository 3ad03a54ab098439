"""The outbox: one row per notification × outbound target (e-mail, each webhook).

Each row carries its own state, attempts and next try, so one target failing or hanging never
re-sends or delays what another target already received. Rows are claimed with a token before a
delivery task is published; a task only touches rows still holding its token, so a message that
comes back after its worker died (or is published twice) cannot send twice, and a claim that is
never finished is re-dispatched by the beat after NOTIFY_CLAIM_STALE_SECONDS.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Delivery(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        WEBHOOK = "webhook", _("推送地址")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已送达")
        FAILED = "failed", _("发送失败")

    notification = models.ForeignKey(
        "workorders.Notification", verbose_name=_("通知"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    # "email", "webhook:<endpoint id>" or "webhook:global": what is sent to, and the unit of
    # isolation (one batch in flight per target; a failing target backs off alone).
    target = models.CharField(_("目标"), max_length=40)
    endpoint = models.ForeignKey(
        "workorders.WebhookEndpoint",
        verbose_name=_("推送地址"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        app_label = "workorders"
        verbose_name = _("外发记录")
        verbose_name_plural = _("外发记录")
        constraints = [
            models.UniqueConstraint(fields=["notification", "target"], name="delivery_once_per_target"),
        ]
        indexes = [
            # Only rows still to do are in this index: the dispatcher's scan stays small.
            models.Index(
                fields=["target", "next_attempt_at"],
                name="delivery_to_do",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            # The admin's list of failures, newest first.
            models.Index(fields=["-id"], name="delivery_failed", condition=models.Q(status="failed")),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.target}"
