"""Work orders: the order, its participants and its immutable history.

The state of an order changes only through `workorders.transitions`; nothing else writes `state`,
the deadlines or the outcome fields.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class UrgencyTier(models.Model):
    """A time-limit tier (2020 city opinion): 2 hours, 24 hours, 7 days, 15 days. Limits are data.

    Hour limits run on the clock; day limits count China's working days (holidays and 调休)."""

    class Unit(models.TextChoices):
        HOURS = "hours", _("小时（自然时间）")
        WORKDAYS = "workdays", _("工作日")

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    response_limit = models.PositiveIntegerField(_("响应时限"))
    response_unit = models.CharField(_("响应时限单位"), max_length=10, choices=Unit.choices)
    resolution_limit = models.PositiveIntegerField(_("办结时限"))
    resolution_unit = models.CharField(_("办结时限单位"), max_length=10, choices=Unit.choices)
    warn_ratio = models.DecimalField(
        _("预警比例"),
        max_digits=3,
        decimal_places=2,
        default=0.75,
        help_text=_("已用时间占时限的比例达到此值时预警，例如 0.75"),
    )
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("时限档")
        verbose_name_plural = _("时限档")
        ordering = ["sort"]

    def __str__(self) -> str:
        return self.name


class OrderSequence(models.Model):
    """The last order number handed out per day; incremented under a row lock."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class OrderState(models.TextChoices):
    DISPATCHED = "dispatched", _("待签收")
    SIGNED = "signed", _("办理中")
    RETURN_REQUESTED = "return_requested", _("退单待审")
    PARKED = "parked", _("挂账")
    CLOSED = "closed", _("已办结待回访")
    COMPLETED = "completed", _("已完成")


class Result(models.TextChoices):
    RESOLVED = "resolved", _("已解决")
    PARTLY = "partly", _("部分解决")
    UNRESOLVED = "unresolved", _("未解决")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class WorkOrder(models.Model):
    number = models.CharField(_("工单编号"), max_length=20, unique=True)
    call = models.OneToOneField("hotline.Call", verbose_name=_("来电"), on_delete=models.PROTECT, related_name="order")
    category = models.ForeignKey("hotline.Category", verbose_name=_("诉求分类"), on_delete=models.PROTECT)
    request_type = models.CharField(_("诉求类型"), max_length=20)  # copied from the call, for filters
    tier = models.ForeignKey(UrgencyTier, verbose_name=_("时限档"), on_delete=models.PROTECT)
    title = models.CharField(_("标题"), max_length=120)
    address = models.CharField(_("诉求地址"), max_length=200, blank=True)
    community = models.ForeignKey(
        "districts.Division",
        verbose_name=_("社区/村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        "districts.Division",
        verbose_name=_("街乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        "districts.Division",
        verbose_name=_("区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The unit that holds the order now (主办). Co-handlers and the district's supervision copy are
    # OrderParticipant rows.
    lead_unit = models.ForeignKey(
        "districts.Unit", verbose_name=_("主办单位"), on_delete=models.PROTECT, related_name="lead_orders"
    )
    state = models.CharField(_("状态"), max_length=20, choices=OrderState.choices, default=OrderState.DISPATCHED)
    round = models.PositiveSmallIntegerField(_("派单轮次"), default=1)
    duplicate_count = models.PositiveIntegerField(_("重复诉求数"), default=0)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("派单人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatched_at = models.DateTimeField(_("派单时间"))
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    # Deadlines of the current round: stored, indexed, recomputed on extension/parking/re-routing.
    response_deadline = models.DateTimeField(_("响应时限"))
    resolution_deadline = models.DateTimeField(_("办结时限"))
    # When the sweep last acted, so it never acts twice.
    response_warned_at = models.DateTimeField(_("响应预警时间"), null=True, blank=True)
    resolution_warned_at = models.DateTimeField(_("办结预警时间"), null=True, blank=True)
    response_overdue_at = models.DateTimeField(_("响应超期时间"), null=True, blank=True)
    resolution_overdue_at = models.DateTimeField(_("办结超期时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("升级督办时间"), null=True, blank=True)
    parked_until = models.DateField(_("挂账计划完成日期"), null=True, blank=True)

    result = models.CharField(_("办理结果"), max_length=20, choices=Result.choices, blank=True)
    result_note = models.TextField(_("答复市民"), blank=True)
    action_taken = models.TextField(_("办理情况"), blank=True)

    # Outcome for the assessment, kept consistent by the transitions (so rankings are an aggregate).
    responded_in_time = models.BooleanField(_("按时响应"), null=True)
    callback_valid = models.BooleanField(_("有效回访"), default=False)
    callback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    contacted = models.BooleanField(_("联系市民"), null=True)
    solved = models.CharField(_("解决情况"), max_length=20, choices=Result.choices, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=20, choices=Satisfaction.choices, blank=True)
    excluded = models.BooleanField(_("剔除考核"), default=False)
    # The unit the outcome is counted for (the lead unit of the round that was called back).
    assessed_unit = models.ForeignKey(
        "districts.Unit",
        verbose_name=_("考核单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessed_orders",
    )

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-dispatched_at", "-id"]
        indexes = [
            # inbox tabs: a unit's orders in a state, by deadline
            models.Index(fields=["lead_unit", "state", "resolution_deadline"], name="order_unit_state_due"),
            models.Index(fields=["district", "state", "resolution_deadline"], name="order_district_state_due"),
            models.Index(fields=["street", "-dispatched_at"], name="order_street_recent"),
            models.Index(fields=["category", "community", "-dispatched_at"], name="order_duplicate_lookup"),
            models.Index(fields=["-dispatched_at"], name="order_recent"),
            # assessment: valid callbacks per unit and period
            models.Index(fields=["callback_at", "assessed_unit"], name="order_assessment"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(response_deadline__lte=models.F("resolution_deadline")),
                name="order_response_before_resolution",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderParticipant(models.Model):
    """A unit other than the lead that sees the order: co-handler (协办), a department answering a
    whistle (吹哨报到), or the district's supervision copy (督办)."""

    class Role(models.TextChoices):
        CO_HANDLER = "co", _("协办")
        WHISTLED = "whistled", _("吹哨报到")
        SUPERVISOR = "supervisor", _("督办")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="participants")
    unit = models.ForeignKey("districts.Unit", on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    added_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("参与单位")
        verbose_name_plural = _("参与单位")
        constraints = [
            models.UniqueConstraint(fields=["order", "unit", "role"], name="participant_unique"),
        ]
        indexes = [models.Index(fields=["unit", "role", "order"], name="participant_unit")]

    def __str__(self) -> str:
        return f"{self.order} {self.unit} {self.get_role_display()}"


class ImmutableError(Exception):
    pass


class OrderEvent(models.Model):
    """One row per thing that happened to an order. Written once, never changed or deleted."""

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"), db_index=True)
    kind = models.CharField(_("事件"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_unit = models.ForeignKey(
        "districts.Unit", verbose_name=_("操作单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(_("原状态"), max_length=20, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, blank=True)
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("工单事件")
        verbose_name_plural = _("工单事件")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="event_order_at")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ImmutableError("order events are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("order events are immutable")

    def clean(self):
        if self.pk is not None:
            raise ValidationError(_("工单事件不可修改。"))


class Notification(models.Model):
    """An in-app notification for one user (new order, warning, overdue, whistle, approval needed,
    ruling, surge …). Outbound channels (e-mail, webhook) are sent from Celery, never in a request."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=30)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    order = models.ForeignKey(WorkOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return self.title


# --- Callback (回访), self-evaluation and exclusions (剔除) --------------------------------------
class Callback(models.Model):
    """The hotline calling the citizen back about one round of an order. Attempts are logged; the
    callback ends valid (the citizen answered the three questions) or unreachable (not valid)."""

    class Status(models.TextChoices):
        OPEN = "open", _("回访中")
        VALID = "valid", _("有效回访")
        UNREACHABLE = "unreachable", _("无法联系")

    class Channel(models.TextChoices):
        PHONE = "phone", _("电话回访")
        SMS = "sms", _("短信")
        SELF = "self", _("市民自评")

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="callbacks")
    round = models.PositiveSmallIntegerField(_("轮次"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN)
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contacted = models.BooleanField(_("承办单位是否联系"), null=True)
    solved = models.CharField(_("解决情况"), max_length=20, choices=Result.choices, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=20, choices=Satisfaction.choices, blank=True)
    comment = models.TextField(_("市民意见"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["-created_at"]
        constraints = [
            # One callback per round: a double click or a second agent cannot record it twice.
            models.UniqueConstraint(fields=["order", "round"], name="callback_one_per_round"),
        ]
        indexes = [models.Index(fields=["status", "completed_at"], name="callback_status_done")]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.round} {self.get_status_display()}"


class CallbackAttempt(models.Model):
    class Result(models.TextChoices):
        REACHED = "reached", _("已接通")
        NO_ANSWER = "no_answer", _("无人接听")
        BUSY = "busy", _("占线/拒接")
        WRONG_NUMBER = "wrong_number", _("号码错误")

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField(_("时间"))
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(_("结果"), max_length=20, choices=Result.choices)
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("回访尝试")
        verbose_name_plural = _("回访尝试")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.callback_id} {self.result} {self.at:%Y-%m-%d %H:%M}"


class SelfEvaluationLink(models.Model):
    """A one-time, expiring link (as if sent by SMS) for the citizen to answer the three questions.
    The URL carries a signed token; this row makes it single-use."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="self_evaluation_links")
    round = models.PositiveSmallIntegerField(_("轮次"))
    nonce = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("市民自评链接")
        verbose_name_plural = _("市民自评链接")

    def __str__(self) -> str:
        return f"{self.order_id}#{self.round}"


class ExclusionRequest(models.Model):
    """A unit asks that an order not count in its assessment; the district, then the city, decide.
    Approved exclusions stay visible and can be reversed by the city, with a record."""

    class Reason(models.TextChoices):
        UNREASONABLE = "unreasonable", _("不合理诉求")
        MALICIOUS = "malicious", _("恶意重复来电")
        OUTSIDE_DUTY = "outside_duty", _("超出政府职责范围")
        FORCE_MAJEURE = "force_majeure", _("不可抗力/政策限制")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        PENDING_DISTRICT = "pending_district", _("待区级审核")
        PENDING_CITY = "pending_city", _("待市级审核")
        APPROVED = "approved", _("已批准剔除")
        REJECTED = "rejected", _("已驳回")
        REVOKED = "revoked", _("已撤销剔除")

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="exclusion_requests")
    unit = models.ForeignKey("districts.Unit", verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("剔除原因"), max_length=20, choices=Reason.choices)
    explanation = models.TextField(_("申请说明"))
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PENDING_DISTRICT)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    district_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district_decided_at = models.DateTimeField(null=True, blank=True)
    district_note = models.TextField(_("区级意见"), blank=True)
    city_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    city_decided_at = models.DateTimeField(null=True, blank=True)
    city_note = models.TextField(_("市级意见"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_note = models.TextField(_("撤销理由"), blank=True)

    class Meta:
        verbose_name = _("剔除申请")
        verbose_name_plural = _("剔除申请")
        ordering = ["-created_at"]
        constraints = [
            # At most one request under way per order.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(state__in=["pending_district", "pending_city"]),
                name="exclusion_one_pending_per_order",
            ),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="exclusion_state")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_reason_display()} {self.get_state_display()}"


def evidence_path(instance, filename: str) -> str:
    return f"exclusions/{instance.request.order_id}/{instance.request_id}/{filename}"


class ExclusionEvidence(models.Model):
    request = models.ForeignKey(ExclusionRequest, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小"))
    content_type = models.CharField(max_length=100)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("剔除证据")
        verbose_name_plural = _("剔除证据")

    def __str__(self) -> str:
        return self.name
