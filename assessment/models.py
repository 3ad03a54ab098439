"""The monthly exam ("一张考卷"): versioned rules, stored snapshots of every unit's three rates and
ranks, and the proactive-governance records (surge alerts, reports, 每月一题).

Figures are computed in SQL by `assessment.snapshots.services` (formulas from `assessment.rates`)
and stored; pages read the
stored rows. A frozen snapshot is never rewritten: recomputing a frozen month under other rules makes
a new snapshot of kind "recomputed" that lists its differences from the frozen one.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

DEFAULT_COUNTED_TYPES = ["consultation", "help", "complaint", "report", "suggestion"]


class AssessScope(models.TextChoices):
    """How far an order is assessed (分级分类考评)."""

    FULL = "full", _("三率考评")
    RESPONSE = "response", _("只评价响应率")
    NONE = "none", _("不考评")


class Counting(models.TextChoices):
    """Which callback facts of an order count. Default EACH_ROUND: every round's valid callback
    counts in the period of its own callback time (a re-dispatched order answered again in the next
    month counts there too; the earlier month keeps its own answer)."""

    EACH_ROUND = "each_round", _("每轮有效回访各计一次")
    FIRST_VALID = "first_valid", _("只计工单的首次有效回访")


class RuleSet(models.Model):
    """One version of the assessment rules. Rows are never edited: every change by the city is a new
    version (services.ruleset_publish), and exactly one version is active."""

    class PeriodStart(models.IntegerChoices):
        CALENDAR = 1, _("自然月（1日至月末）")
        NINETEENTH = 19, _("上月19日至本月18日")

    version = models.PositiveIntegerField(_("版本"), unique=True)
    is_active = models.BooleanField(_("当前生效"), default=False)
    response_weight = models.DecimalField(
        _("响应率权重"), max_digits=5, decimal_places=4, default=Decimal("0.1"), validators=[MinValueValidator(0)]
    )
    resolution_weight = models.DecimalField(
        _("解决率权重"), max_digits=5, decimal_places=4, default=Decimal("0.5"), validators=[MinValueValidator(0)]
    )
    satisfaction_weight = models.DecimalField(
        _("满意率权重"), max_digits=5, decimal_places=4, default=Decimal("0.4"), validators=[MinValueValidator(0)]
    )
    basic_factor = models.DecimalField(
        _("基本满意系数"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.9"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    period_start_day = models.PositiveSmallIntegerField(
        _("考核周期起始日"), choices=PeriodStart.choices, default=PeriodStart.CALENDAR
    )
    counted_request_types = models.JSONField(_("参与考核的诉求类型"), default=list)
    min_valid_callbacks = models.PositiveIntegerField(_("参与排名的最少有效回访数"), default=10)
    bottom_n = models.PositiveSmallIntegerField(_("末位标记数"), default=3)
    # 末位 marks only ranked units, only in a table with at least this many ranked units, and never
    # more than bottom_n of them (a tie that would cross bottom_n is not marked).
    bottom_min_ranked = models.PositiveSmallIntegerField(_("末位标记所需最少排名单位数"), default=4)
    counting = models.CharField(_("回访计数规则"), max_length=20, choices=Counting.choices, default=Counting.EACH_ROUND)
    # [{"category": code or null, "request_type": type or null, "scope": AssessScope}], no overlaps.
    scope_rules = models.JSONField(_("分级考评范围"), default=list, blank=True)
    default_scope = models.CharField(
        _("默认考评范围"), max_length=20, choices=AssessScope.choices, default=AssessScope.FULL
    )
    freeze_after_days = models.PositiveSmallIntegerField(
        _("次周期第几天后冻结"), default=5, help_text=_("下一周期开始后满此天数，上一周期的结果冻结")
    )
    note = models.CharField(_("修订说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("考核规则")
        verbose_name_plural = _("考核规则")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="ruleset_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class Snapshot(models.Model):
    """The figures of one period as computed at one moment under one rule-set version."""

    class Kind(models.TextChoices):
        PROVISIONAL = "provisional", _("临时")
        FROZEN = "frozen", _("已冻结")
        RECOMPUTED = "recomputed", _("重算")

    period = models.CharField(_("考核周期"), max_length=7)  # "2026-11"
    period_start = models.DateTimeField(_("周期开始"))
    period_end = models.DateTimeField(_("周期结束"))
    ruleset = models.ForeignKey(RuleSet, verbose_name=_("规则版本"), on_delete=models.PROTECT)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    computed_at = models.DateTimeField(_("计算时间"))
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True)
    # A recomputation names the frozen snapshot it differs from, and says why.
    base = models.ForeignKey(
        "self",
        verbose_name=_("对比基准"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recomputations",
    )
    label = models.CharField(_("说明"), max_length=200, blank=True)
    differences = models.JSONField(_("差异"), default=list, blank=True)
    # Dashboard aggregates computed with the snapshot, keyed "city" and by district code.
    stats = models.JSONField(_("看板统计"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("考核快照")
        verbose_name_plural = _("考核快照")
        ordering = ["-period", "-computed_at"]
        indexes = [models.Index(fields=["period", "kind", "-computed_at"], name="snapshot_period_kind")]
        constraints = [
            # One provisional and one frozen result per period; recomputations may be many.
            models.UniqueConstraint(
                fields=["period"], condition=models.Q(kind="provisional"), name="snapshot_one_provisional"
            ),
            models.UniqueConstraint(fields=["period"], condition=models.Q(kind="frozen"), name="snapshot_one_frozen"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.get_kind_display()} v{self.ruleset.version}"

    @property
    def display_label(self) -> str:
        """What the pages call this result in the viewer's language: a frozen result is named from its
        period and rule version (the stored label keeps the words it was frozen with); a
        recomputation shows the reason typed for it."""
        if self.kind == self.Kind.FROZEN:
            return frozen_label(self.period, self.ruleset.version)
        return self.label


def frozen_label(period: str, version: int) -> str:
    return gettext("%(period)s 月度结果（规则 v%(version)s）") % {"period": period, "version": version}


class Scope(models.TextChoices):
    STREET = "street", _("街乡镇")
    DISTRICT = "district", _("区")
    DEPARTMENT = "department", _("部门")


class SnapshotRow(models.Model):
    """One unit's figures in one snapshot. Rates are fractions (0–1); composite is 0–100, rounded to
    two decimals as published, and ranks compare that published value (equal → same rank)."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="rows")
    unit = models.ForeignKey("districts.Unit", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(_("范围"), max_length=20, choices=Scope.choices)
    district = models.ForeignKey(
        "districts.Division", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    total_orders = models.PositiveIntegerField(_("回访工单数"), default=0)
    valid = models.PositiveIntegerField(_("有效回访"), default=0)
    contacted = models.PositiveIntegerField(_("已联系"), default=0)
    valid_full = models.PositiveIntegerField(_("有效回访（三率）"), default=0)
    resolved = models.PositiveIntegerField(_("已解决"), default=0)
    satisfied = models.PositiveIntegerField(_("满意"), default=0)
    basic = models.PositiveIntegerField(_("基本满意"), default=0)
    unsatisfied = models.PositiveIntegerField(_("不满意"), default=0)
    excluded = models.PositiveIntegerField(_("剔除"), default=0)
    response_rate = models.FloatField(_("响应率"), null=True)
    resolution_rate = models.FloatField(_("解决率"), null=True)
    satisfaction_rate = models.FloatField(_("满意率"), null=True)
    composite = models.FloatField(_("综合得分"), null=True)
    rank_in_district = models.PositiveIntegerField(_("区内排名"), null=True)
    rank_citywide = models.PositiveIntegerField(_("全市排名"), null=True)
    movement_in_district = models.IntegerField(_("区内名次变化"), null=True)
    movement_citywide = models.IntegerField(_("全市名次变化"), null=True)
    flagged = models.BooleanField(_("样本不足"), default=False)
    bottom_in_district = models.BooleanField(_("区内末位"), default=False)
    bottom_citywide = models.BooleanField(_("全市末位"), default=False)

    class Meta:
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")
        constraints = [models.UniqueConstraint(fields=["snapshot", "scope", "unit"], name="snapshotrow_unique")]
        indexes = [
            models.Index(fields=["snapshot", "scope", "district", "rank_in_district"], name="snapshotrow_district"),
            models.Index(fields=["snapshot", "scope", "rank_citywide"], name="snapshotrow_city"),
            models.Index(fields=["unit", "scope"], name="snapshotrow_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} {self.unit_id} {self.scope}"


class Alert(models.Model):
    """A surge (爆单) raised for one cluster (category + place) in one detection window. The unique
    key makes the beat task idempotent: a second run in the same window finds the row and notifies
    nobody."""

    class Kind(models.TextChoices):
        SURGE = "surge", _("爆单预警")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.SURGE)
    category = models.ForeignKey("hotline.Category", verbose_name=_("诉求分类"), on_delete=models.PROTECT)
    district = models.ForeignKey(
        "districts.Division", verbose_name=_("区"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        "districts.Division", verbose_name=_("街乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    community = models.ForeignKey(
        "districts.Division",
        verbose_name=_("社区/村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # 0 for "the whole street" so that the unique key also works where NULLs are distinct.
    community_key = models.BigIntegerField(default=0)
    window_start = models.DateTimeField(_("窗口开始"))
    window_end = models.DateTimeField(_("窗口结束"))
    calls = models.PositiveIntegerField(_("来电数"))
    raised_at = models.DateTimeField(_("预警时间"), default=timezone.now)
    notified = models.PositiveIntegerField(_("通知人数"), default=0)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "category", "street", "community_key", "window_start"], name="alert_once_per_window"
            )
        ]
        indexes = [models.Index(fields=["district", "-raised_at"], name="alert_district_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.street_id} {self.window_start:%Y-%m-%d %H:%M}"


class Report(models.Model):
    """A generated daily / weekly / monthly report (日报/周报/月报), citywide or for one district."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("日报")
        WEEKLY = "weekly", _("周报")
        MONTHLY = "monthly", _("月报")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    district = models.ForeignKey(
        "districts.Division", verbose_name=_("区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "city" or the district's code, so that the unique key works where NULLs are distinct.
    scope_key = models.CharField(max_length=12)
    period_start = models.DateTimeField(_("开始"))
    period_end = models.DateTimeField(_("结束"))
    title = models.CharField(_("标题"), max_length=200)
    content = models.JSONField(_("内容"), default=dict)
    file = models.FileField(_("文件"), upload_to="reports/%Y/%m/", blank=True)
    generated_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("报告")
        verbose_name_plural = _("报告")
        ordering = ["-period_start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "scope_key", "period_start"], name="report_once_per_period")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The title in the viewer's language, made from the report's own fields (`title` keeps the
        words it was generated with)."""
        where = self.district.name if self.district_id else gettext("全市")
        return f"{where} {self.get_kind_display()} {timezone.localtime(self.period_start):%Y-%m-%d}"


class MonthlyTopic(models.Model):
    """每月一题: a high-frequency problem the city picks for a month and tracks to the end."""

    period = models.CharField(_("月份"), max_length=7)
    title = models.CharField(_("题目"), max_length=120)
    category = models.ForeignKey("hotline.Category", verbose_name=_("诉求分类"), on_delete=models.PROTECT)
    district = models.ForeignKey(
        "districts.Division",
        verbose_name=_("限定区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("每月一题")
        verbose_name_plural = _("每月一题")
        ordering = ["-period", "id"]
        indexes = [models.Index(fields=["period"], name="topic_period")]

    def __str__(self) -> str:
        return f"{self.period} {self.title}"


class GovernanceList(models.Model):
    """One list of the governance page (hot topics, repeat callers, hot spots) for one scope — the
    city or one district — as the selectors computed it at `computed_at`. Refreshed by the beat task
    (assessment.tasks.refresh_governance_lists) so the page does not group a month of calls on every
    view. A cache of a computation, not a fact: each refresh replaces it. Holds no phone numbers
    (a repeat caller is stored by one of their calls' id; the page masks per viewer)."""

    scope_key = models.CharField(_("范围"), max_length=20)  # "city" or the district's division code
    kind = models.CharField(_("列表"), max_length=20)
    computed_at = models.DateTimeField(_("统计时间"))
    seconds = models.FloatField(_("用时（秒）"), default=0)
    rows = models.JSONField(_("内容"), default=list)

    class Meta:
        verbose_name = _("主动治理统计")
        verbose_name_plural = _("主动治理统计")
        constraints = [models.UniqueConstraint(fields=["scope_key", "kind"], name="governance_list_unique")]

    def __str__(self) -> str:
        return f"{self.scope_key} {self.kind} {self.computed_at:%Y-%m-%d %H:%M}"


# --- Assessment facts ------------------------------------------------------------------------------
class FactImmutable(Exception):
    """Assessment facts are written once; a correction is a new fact that supersedes."""


class FactQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise FactImmutable("assessment facts are immutable")

    def delete(self):
        raise FactImmutable("assessment facts are immutable")


class _Immutable(models.Model):
    objects = FactQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise FactImmutable("assessment facts are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise FactImmutable("assessment facts are immutable")


class CallbackFact(_Immutable):
    """One callback round of one order as the assessment counts it, written by the callback
    transition and never changed: a later round adds its own fact; a correction is a new fact that
    supersedes this one (same order and round) with a reason."""

    order = models.ForeignKey(
        "workorders.WorkOrder", verbose_name=_("工单"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    round = models.PositiveSmallIntegerField(_("轮次"))
    callback = models.ForeignKey(
        "workorders.Callback", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    assessed_unit = models.ForeignKey(
        "districts.Unit",
        verbose_name=_("考核单位"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    district = models.ForeignKey(
        "districts.Division",
        verbose_name=_("区"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    category = models.ForeignKey(
        "hotline.Category", verbose_name=_("诉求分类"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    request_type = models.CharField(_("诉求类型"), max_length=20)
    callback_at = models.DateTimeField(_("回访时间"))
    valid = models.BooleanField(_("有效回访"))
    invalid_reason = models.CharField(_("无效原因"), max_length=40, blank=True)
    contacted = models.BooleanField(_("已联系"), null=True)
    solved = models.CharField(_("解决情况"), max_length=20, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=20, blank=True)
    comment = models.TextField(_("市民意见"), blank=True)
    # The scope under the rule version active when the fact was written (figures apply their own
    # rule version's scopes to category + request type).
    scope = models.CharField(_("考评范围"), max_length=20, choices=AssessScope.choices)
    ruleset_version = models.PositiveIntegerField(_("记录时规则版本"), null=True)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("更正的事实"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    reason = models.CharField(_("更正理由"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("考核事实（回访）")
        verbose_name_plural = _("考核事实（回访）")
        ordering = ["callback_at", "id"]
        constraints = [
            # One original fact per round: a double submit cannot count twice.
            models.UniqueConstraint(
                fields=["order", "round"], condition=models.Q(supersedes__isnull=True), name="fact_one_per_round"
            ),
        ]
        indexes = [
            models.Index(fields=["callback_at", "assessed_unit"], name="fact_window"),
            models.Index(fields=["order", "round"], name="fact_order_round"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.round} {self.callback_at:%Y-%m-%d}"


class ExclusionFact(_Immutable):
    """An exclusion approved, or its revocation, at its own time. An approval excludes the order's
    callback facts (`excludes`: the fact current when approved); a revocation points at the approval."""

    class Kind(models.TextChoices):
        APPROVED = "approved", _("批准剔除")
        REVOKED = "revoked", _("撤销剔除")

    order = models.ForeignKey(
        "workorders.WorkOrder", verbose_name=_("工单"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    request = models.ForeignKey(
        "workorders.ExclusionRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("时间"))
    excludes = models.ForeignKey(
        CallbackFact, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    revokes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="revoked_by")
    note = models.TextField(_("说明"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("考核事实（剔除）")
        verbose_name_plural = _("考核事实（剔除）")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="exclfact_order_at")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.at:%Y-%m-%d}"


class SnapshotMember(models.Model):
    """Frozen membership: one counted fact of a frozen (or recomputed) snapshot, with the sets it
    was counted in and its answers (rates.BIT_*). The fact itself never changes: its values are the
    values as counted. Written in (district, unit, callback time) order, so one unit's members sit
    together on disk."""

    # Written only by one INSERT … SELECT from the facts, in the transaction that creates the
    # snapshot; facts are never deleted and a snapshot's members go with it (the ORM's CASCADE). No
    # database-level foreign keys: their per-row checks at commit took 105 s for 2 M members.
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    fact = models.ForeignKey(
        CallbackFact, on_delete=models.PROTECT, related_name="memberships", db_index=False, db_constraint=False
    )
    # Copied from the fact, whose own foreign keys hold them.
    unit = models.ForeignKey(
        "districts.Unit", null=True, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    district = models.ForeignKey(
        "districts.Division",
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    callback_at = models.DateTimeField()  # the fact's, so that a drill-down page is an index range
    bits = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("冻结成员")
        verbose_name_plural = _("冻结成员")
        indexes = [
            models.Index(fields=["snapshot", "unit", "callback_at", "fact"], name="member_unit"),
            models.Index(fields=["snapshot", "district", "callback_at", "fact"], name="member_district"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.fact_id}"
