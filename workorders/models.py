"""Work orders: the order, its participants and its immutable history.

The state of an order changes only through `workorders.transitions`; nothing else writes `state`,
the deadlines or the outcome fields.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.localnames import localized


class UrgencyTier(models.Model):
    """A time-limit tier (2020 city opinion): 2 hours, 24 hours, 7 days, 15 days. Limits are data.

    Hour limits run on the clock; day limits count China's working days (holidays and 调休)."""

    class Unit(models.TextChoices):
        MINUTES = "minutes", _("分钟（演示、测试用）")
        HOURS = "hours", _("小时（自然时间）")
        WORKDAYS = "workdays", _("工作日")

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True, default="")
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
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language (English when given and the UI is English)."""
        return localized(self.name, self.name_en)


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
    # 并单: merged into another order of the same incident (WorkOrder.merged_into); out of every
    # inbox, clock and callback queue until the center undoes the merge.
    MERGED = "merged", _("已并单")


# States in which the clock runs (parking suspends it; closing stops it).
CLOCK_STATES = ("dispatched", "signed", "return_requested")
# States in which the order is still with a unit.
OPEN_STATES = ("dispatched", "signed", "return_requested", "parked")


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
    # FK indexes that a composite index below already starts with are left out (each one costs
    # every insert and every sweep update): category, street, district, lead_unit.
    category = models.ForeignKey(
        "hotline.Category", verbose_name=_("诉求分类"), on_delete=models.PROTECT, db_index=False
    )
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
        db_index=False,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        "districts.Division",
        verbose_name=_("区"),
        db_index=False,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The unit that holds the order now (主办). Co-handlers and the district's supervision copy are
    # OrderParticipant rows.
    lead_unit = models.ForeignKey(
        "districts.Unit",
        verbose_name=_("主办单位"),
        on_delete=models.PROTECT,
        related_name="lead_orders",
        db_index=False,
    )
    state = models.CharField(_("状态"), max_length=20, choices=OrderState.choices, default=OrderState.DISPATCHED)
    # 二次派单: the lead unit's internal owner now (a section/community committee and/or a person),
    # and the internal due time of that assignment. Written only by lifecycle/assignments.py; the
    # history of assignments is the Assignment rows and the order's events.
    section = models.ForeignKey(
        "districts.Section",
        verbose_name=_("内部承办科室/社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("内部承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    internal_due_at = models.DateTimeField(_("内部办理时限"), null=True, blank=True)
    internal_warn_at = models.DateTimeField(_("内部预警点"), null=True, blank=True)
    round = models.PositiveSmallIntegerField(_("派单轮次"), default=1)
    # 并单: the surviving order this one was merged into, when, and the state to return to on undo.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入工单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_orders",
    )
    merged_at = models.DateTimeField(_("并单时间"), null=True, blank=True)
    merged_from_state = models.CharField(_("并单前状态"), max_length=20, blank=True)
    # 拆单: a child order split from another call with several problems (its own call is a copy of
    # the caller's details with this problem's text); the orders of one parent call see each other.
    parent_call = models.ForeignKey(
        "hotline.Call",
        verbose_name=_("拆单来源来电"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="split_orders",
    )
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
    # When the sweep should warn (tier.warn_ratio of the time used): stored so the sweep is an
    # indexed comparison, recomputed with the deadlines.
    response_warn_at = models.DateTimeField(_("响应预警点"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(_("办结预警点"), null=True, blank=True)
    parked_until = models.DateField(_("挂账计划完成日期"), null=True, blank=True)
    parked_at = models.DateTimeField(_("挂账时间"), null=True, blank=True)

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
            # (the warning point as a last key column: the tab counts are an index-only scan; a key column
            # rather than INCLUDE, which SQLite lacks)
            models.Index(
                fields=["lead_unit", "state", "resolution_deadline", "resolution_warn_at"],
                name="order_unit_state_due",
            ),
            models.Index(
                fields=["district", "state", "resolution_deadline", "resolution_warn_at"],
                name="order_district_state_due",
            ),
            # open orders of a unit / district by deadline, whatever the open state (tabs in progress,
            # due soon, overdue read the first page straight off the index)
            models.Index(
                fields=["lead_unit", "resolution_deadline"],
                name="order_unit_open_due",
                condition=models.Q(state__in=OPEN_STATES),
            ),
            models.Index(
                fields=["district", "resolution_deadline"],
                name="order_district_open_due",
                condition=models.Q(state__in=OPEN_STATES),
            ),
            # the closed tab, newest first
            models.Index(fields=["lead_unit", "-dispatched_at"], name="order_unit_recent"),
            models.Index(fields=["district", "-dispatched_at"], name="order_district_recent"),
            models.Index(fields=["street", "-dispatched_at"], name="order_street_recent"),
            models.Index(fields=["category", "community", "-dispatched_at"], name="order_duplicate_lookup"),
            # a section member's inbox: their sub-unit's / their own orders by state and deadline
            models.Index(
                fields=["section", "state", "resolution_deadline", "resolution_warn_at"],
                name="order_section_state_due",
                condition=models.Q(section__isnull=False),
            ),
            models.Index(
                fields=["assignee", "state", "resolution_deadline", "resolution_warn_at"],
                name="order_assignee_state_due",
                condition=models.Q(assignee__isnull=False),
            ),
            # the unit center's internal load: open orders per section, an index-only GROUP BY
            models.Index(
                fields=["lead_unit", "section", "state", "resolution_deadline", "internal_due_at"],
                name="order_unit_open_owner",
                condition=models.Q(state__in=OPEN_STATES),
            ),
            models.Index(fields=["-dispatched_at"], name="order_recent"),
            # the tab counts of a city-wide inbox (agents, the city): an index-only scan of the open
            # orders alone, whatever the history
            models.Index(
                fields=["state", "resolution_deadline", "resolution_warn_at"],
                name="order_open_state_due",
                condition=models.Q(state__in=OPEN_STATES),
            ),
            # governance "repeated requests": the few orders with linked repeat calls, most first
            models.Index(
                fields=["-duplicate_count", "-dispatched_at"],
                name="order_repeated",
                condition=models.Q(duplicate_count__gte=2),
            ),
            # assessment: valid callbacks per unit and period
            models.Index(fields=["callback_at", "assessed_unit"], name="order_assessment"),
            # The callback queue, oldest waiting first (closed: since closing; still open: since the
            # resolution limit ran out). Same expression as callback_selectors.callback_queue orders by.
            models.Index(
                models.Case(
                    models.When(state="closed", then=models.F("closed_at")),
                    default=models.F("resolution_deadline"),
                ),
                models.F("id"),
                name="order_callback_queue",
                condition=models.Q(state__in=["closed", "dispatched", "signed"]),
            ),
            # The deadline sweep: partial indexes hold only the orders still to act on, so a sweep
            # costs in proportion to the due orders, not the table.
            models.Index(
                fields=["resolution_deadline"],
                name="sweep_resolution_due",
                condition=models.Q(state__in=CLOCK_STATES, resolution_overdue_at__isnull=True),
            ),
            models.Index(
                fields=["response_deadline"],
                name="sweep_response_due",
                condition=models.Q(state__in=CLOCK_STATES, responded_at__isnull=True, response_overdue_at__isnull=True),
            ),
            models.Index(
                fields=["resolution_warn_at"],
                name="sweep_resolution_warn",
                condition=models.Q(state__in=CLOCK_STATES, resolution_warned_at__isnull=True),
            ),
            models.Index(
                fields=["response_warn_at"],
                name="sweep_response_warn",
                condition=models.Q(state__in=CLOCK_STATES, responded_at__isnull=True, response_warned_at__isnull=True),
            ),
            models.Index(
                fields=["resolution_overdue_at"],
                name="sweep_escalate",
                condition=models.Q(
                    state__in=CLOCK_STATES, resolution_overdue_at__isnull=False, escalated_at__isnull=True
                ),
            ),
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

    # hotline.sqlinsert may insert new events directly: save() below only refuses updates.
    plain_insert_ok = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ImmutableError("order events are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("order events are immutable")

    def clean(self):
        if self.pk is not None:
            raise ValidationError(_("工单事件不可修改。"))


# What each notification kind is called on the page (the kind itself is a code for webhooks and
# filters). A kind missing here shows as a plain "通知", never as its code.
NOTIFICATION_KINDS = {
    "new_order": _("新工单"),
    "co_handling": _("协办"),
    "duplicate_linked": _("重复诉求"),
    "redispatched": _("再派件"),
    "sent_back": _("办结退回"),
    "approval_needed": _("待审批"),
    "ruling": _("审批结果"),
    "whistle": _("吹哨报到"),
    "whistle_reported": _("已报到"),
    "exclusion_requested": _("剔除申请"),
    "exclusion_pending_city": _("剔除待市级审核"),
    "exclusion_approved": _("剔除已批准"),
    "exclusion_rejected": _("剔除被驳回"),
    "exclusion_revoked": _("剔除已撤销"),
    "response_warning": _("响应预警"),
    "resolution_warning": _("办结预警"),
    "response_overdue": _("响应超期"),
    "resolution_overdue": _("办结超期"),
    "escalation": _("升级督办"),
    "surge": _("爆单预警"),
    "provisional": _("临时考核结果"),
    "frozen": _("考核结果冻结"),
    "merged": _("并单"),
    "unmerged": _("撤销并单"),
    "confidential": _("保密工单"),
}


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
    # Outbound delivery (e-mail, webhook) done by a Celery task; set once it went out.
    sent_at = models.DateTimeField(_("外发时间"), null=True, blank=True)
    # Set when notifications.queue_outbound has looked at the row (queued it for delivery or found
    # no channel for it); the partial index holds only the few seconds' worth not yet looked at.
    queued_at = models.DateTimeField(_("外发排队时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox"),
            models.Index(fields=["id"], name="notification_to_queue", condition=models.Q(queued_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self) -> str:
        return str(NOTIFICATION_KINDS.get(self.kind, _("通知")))


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


# --- Handling (办理): attachments, whistles, requests, outbound channels ------------------------
def attachment_path(instance, filename: str) -> str:
    # The stored name is random: the original name is kept in a column, never trusted as a path.

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"orders/{instance.order_id}/{uuid.uuid4().hex}.{ext}"


class OrderAttachment(models.Model):
    """A photo or file attached to a handling record. Stored under MEDIA_ROOT and served only by an
    access-checked view."""

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(OrderEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小"))
    content_type = models.CharField(_("类型"), max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("districts.Unit", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Whistle(models.Model):
    """街乡吹哨、部门报到: a street calls a department in; the department reports and records."""

    class Level(models.TextChoices):
        DAILY = "daily", _("日常吹哨")
        HARD = "hard", _("疑难吹哨")
        EMERGENCY = "emergency", _("应急吹哨")

    class State(models.TextChoices):
        OPEN = "open", _("待报到")
        REPORTED = "reported", _("已报到")

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="whistles")
    from_unit = models.ForeignKey("districts.Unit", on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(
        "districts.Unit", verbose_name=_("报到部门"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(_("吹哨级别"), max_length=20, choices=Level.choices)
    reason = models.TextField(_("吹哨事由"))
    report_by = models.DateTimeField(_("报到时限"))
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("吹哨时间"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    report_note = models.TextField(_("报到及处置情况"), blank=True)

    class Meta:
        verbose_name = _("吹哨")
        verbose_name_plural = _("吹哨")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["to_unit", "state", "report_by"], name="whistle_unit_open")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.to_unit_id} {self.get_level_display()}"


class OrderRequest(models.Model):
    """A request that waits for a ruling: a return (退单) or an extension (延期)."""

    class Kind(models.TextChoices):
        RETURN = "return", _("退单")
        EXTENSION = "extension", _("延期")

    class ReturnReason(models.TextChoices):
        NOT_OURS = "not_ours", _("非本单位职责/辖区")
        WRONG_CATEGORY = "wrong_category", _("分类错误")
        DUPLICATE = "duplicate", _("重复工单")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已同意")
        REJECTED = "rejected", _("已驳回")

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(_("申请类型"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PENDING)
    unit = models.ForeignKey("districts.Unit", verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    reason_code = models.CharField(_("退单原因"), max_length=20, choices=ReturnReason.choices, blank=True)
    reason = models.TextField(_("申请理由"))
    # extension: the deadline asked for; return: the state to go back to if rejected
    requested_deadline = models.DateTimeField(_("申请延期至"), null=True, blank=True)
    previous_state = models.CharField(max_length=20, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    ruling = models.TextField(_("审批意见"), blank=True)
    reroute_unit = models.ForeignKey(
        "districts.Unit",
        verbose_name=_("改派单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("退单/延期申请")
        verbose_name_plural = _("退单/延期申请")
        ordering = ["requested_at", "id"]
        constraints = [
            # One request under way per order: a double click cannot file two.
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(state="pending"), name="order_request_one_pending"
            ),
        ]
        indexes = [
            models.Index(fields=["requested_at"], name="order_request_pending", condition=models.Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_kind_display()} {self.get_state_display()}"


class WebhookEndpoint(models.Model):
    """Where notifications are also sent as signed JSON (HMAC-SHA256 over timestamp + body). No unit
    means every notification; otherwise those for the unit's members."""

    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("地址"), max_length=300)
    secret = models.CharField(_("签名密钥"), max_length=200)
    unit = models.ForeignKey(
        "districts.Unit", verbose_name=_("单位"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("推送地址")
        verbose_name_plural = _("推送地址")

    def __str__(self) -> str:
        return self.name


# --- Dispatch inside a unit (二次派单) ------------------------------------------------------------
class Assignment(models.Model):
    """One assignment of an order by its lead unit's center to a section/community committee and/or
    a person. A new assignment ends the previous one (reassigned); taking the order back, closing it,
    or the order leaving the unit ends it too. The internal scorecard is computed from these rows."""

    class End(models.TextChoices):
        REASSIGNED = "reassigned", _("转派")
        TAKEN_BACK = "taken_back", _("收回")
        CLOSED = "closed", _("办结")
        LEFT_UNIT = "left_unit", _("工单离开本单位")

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey("districts.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    section = models.ForeignKey(
        "districts.Section",
        verbose_name=_("科室/社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("派发时间"))
    note = models.TextField(_("派发说明"), blank=True)
    due_at = models.DateTimeField(_("内部办理时限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("内部预警点"), null=True, blank=True)
    warned_at = models.DateTimeField(_("内部预警时间"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("内部超期时间"), null=True, blank=True)
    # The sub-unit's first handling (contact, note or proposal) after the assignment.
    responded_at = models.DateTimeField(_("内部响应时间"), null=True, blank=True)
    response_seconds = models.PositiveIntegerField(_("内部响应用时（秒）"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    end = models.CharField(_("结束方式"), max_length=20, choices=End.choices, blank=True)

    class Meta:
        verbose_name = _("内部派发")
        verbose_name_plural = _("内部派发")
        ordering = ["assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(ended_at__isnull=True), name="assignment_one_current"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "section", "assigned_at"], name="assignment_unit_section"),
            models.Index(
                fields=["warn_at"],
                name="assignment_warn_due",
                condition=models.Q(ended_at__isnull=True, warned_at__isnull=True, warn_at__isnull=False),
            ),
            models.Index(
                fields=["due_at"],
                name="assignment_overdue_due",
                condition=models.Q(ended_at__isnull=True, overdue_at__isnull=True, due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.section_id or ''}/{self.assignee_id or ''}"


class CloseProposal(models.Model):
    """The sub-unit proposes closing (拟办结); the unit's center accepts it (the order is closed to
    the hotline with this result) or sends it back with a reason."""

    class State(models.TextChoices):
        PENDING = "pending", _("待中心审核")
        ACCEPTED = "accepted", _("已同意办结")
        SENT_BACK = "sent_back", _("已退回")

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="close_proposals")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="proposals")
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("提交时间"))
    result = models.CharField(_("办理结果"), max_length=20, choices=Result.choices)
    result_note = models.TextField(_("答复市民"))
    action_taken = models.TextField(_("办理情况"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reason = models.TextField(_("退回理由"), blank=True)

    class Meta:
        verbose_name = _("拟办结申请")
        verbose_name_plural = _("拟办结申请")
        ordering = ["proposed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(state="pending"), name="close_proposal_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_state_display()}"


class SavedFilter(models.Model):
    """A user's named inbox filter (the query string of the inbox), shown as a link on the inbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("名称"), max_length=40)
    query = models.CharField(_("筛选条件"), max_length=500)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("常用筛选")
        verbose_name_plural = _("常用筛选")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self) -> str:
        return self.name


# The outbox rows of notifications live beside their delivery code.
from workorders.notifications.models import Delivery  # noqa: E402,F401
