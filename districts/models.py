from django.db import models
from django.utils.translation import gettext_lazy as _


class Division(models.Model):
    """One administrative division with its official statistical code.

    City (2 digits, e.g. 11) → district (6, 110106) → street/township (9, 110106018) →
    community/village (12, 110106018001).
    """

    class Level(models.IntegerChoices):
        CITY = 1, _("市")
        DISTRICT = 2, _("区")
        STREET = 3, _("街道/乡镇")
        COMMUNITY = 4, _("社区/村")

    class Kind(models.TextChoices):
        CITY = "city", _("直辖市")
        DISTRICT = "district", _("区")
        SUBDISTRICT = "subdistrict", _("街道")
        TOWN = "town", _("镇")
        TOWNSHIP = "township", _("乡")
        AREA = "area", _("地区")
        SPECIAL_ZONE = "special_zone", _("功能区")
        COMMUNITY = "community", _("社区")
        VILLAGE = "village", _("村")

    code = models.CharField(_("统计用区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    # The name without the administrative suffix (天竺地区 → 天竺, 多福巷社区居委会 → 多福巷):
    # the part that stays the same when the official suffix drifts.
    core_name = models.CharField(_("简称"), max_length=100, db_index=True)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Denormalised so that "everything in this district" is one indexed filter, not a join chain.
    district = models.ForeignKey(
        "self", verbose_name=_("所属区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["level", "code"], name="division_level_code"),
            models.Index(fields=["district", "level"], name="division_district_level"),
        ]

    def __str__(self) -> str:
        return self.name


# The city's 12345 center (北京市民热线服务中心): agents and city administrators belong to it. Created by
# the data migration districts/0003_city_center_unit, so every installation has it, demo or not.
CENTER_UNIT_CODE = "11-center"
CENTER_UNIT_NAME = "北京市民热线服务中心"


class Unit(models.Model):
    """An organisation that acts on orders: the city center, a district, a street/township office
    or a department. Users belong to exactly one unit."""

    class Kind(models.TextChoices):
        CENTER = "center", _("市民热线服务中心")
        DISTRICT = "district", _("区")
        STREET = "street", _("街道/乡镇")
        DEPARTMENT = "department", _("部门")

    class Sector(models.TextChoices):
        GOVERNMENT = "government", _("委办局")
        UTILITY = "utility", _("公共服务企业")
        PUBLIC_SECURITY = "police", _("公安")

    code = models.CharField(_("单位编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    sector = models.CharField(_("部门类别"), max_length=20, choices=Sector.choices, blank=True)
    division = models.OneToOneField(
        Division,
        verbose_name=_("对应区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="unit",
        help_text=_("区、街道/乡镇单位对应的行政区划"),
    )
    district = models.ForeignKey(
        Division,
        verbose_name=_("所属区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="district_units",
        help_text=_("市级部门留空"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["code"]
        indexes = [models.Index(fields=["district", "kind"], name="unit_district_kind")]

    def __str__(self) -> str:
        return self.name


class Alias(models.Model):
    """A name the center knows a place by that is not in the official list: a residential compound
    (小区), a road, a landmark, or an old or drifted official name. Routing matches aliases like
    official names."""

    class Kind(models.TextChoices):
        COMPOUND = "compound", _("小区")
        ROAD = "road", _("道路")
        LANDMARK = "landmark", _("地标")
        FORMER = "former", _("曾用名/俗称")

    name = models.CharField(_("别名"), max_length=100, db_index=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    division = models.ForeignKey(
        Division,
        verbose_name=_("指向区划"),
        on_delete=models.CASCADE,
        related_name="aliases",
        limit_choices_to={"level__in": [Division.Level.STREET, Division.Level.COMMUNITY]},
        help_text=_("街道/乡镇或社区/村"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # Part of routing's freshness fingerprint: an edit in another process is seen within seconds.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("地名别名")
        verbose_name_plural = _("地名别名")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "division"], name="alias_unique_per_division")]

    def __str__(self) -> str:
        return f"{self.name} → {self.division.name}"


class AliasProposal(models.Model):
    """A place text an agent dispatched to a hand-chosen street/community that routing could not
    place (or placed elsewhere): proposed as an alias until the city center accepts or rejects it.
    Accepting creates the Alias (routing picks it up at once); nothing is ever overwritten — the
    decision is recorded on the proposal."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("待审核")
        ACCEPTED = "accepted", _("已采纳")
        REJECTED = "rejected", _("已驳回")

    name = models.CharField(_("地名文字"), max_length=100)
    division = models.ForeignKey(
        Division, verbose_name=_("指向区划"), on_delete=models.CASCADE, related_name="alias_proposals"
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PROPOSED)
    times = models.PositiveIntegerField(_("手选次数"), default=1)
    proposed_by = models.ForeignKey(
        "hotline.User", verbose_name=_("提议人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(_("提议时间"), auto_now_add=True)
    last_proposed_at = models.DateTimeField(_("最近手选"), auto_now_add=True)
    decided_by = models.ForeignKey(
        "hotline.User", verbose_name=_("审核人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    alias = models.ForeignKey(
        Alias, verbose_name=_("生成的别名"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("别名提议")
        verbose_name_plural = _("别名提议")
        ordering = ["-last_proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "division"],
                condition=models.Q(state="proposed"),
                name="alias_proposal_open_once",
            )
        ]
        indexes = [models.Index(fields=["state", "-last_proposed_at"], name="alias_proposal_queue")]

    def __str__(self) -> str:
        return f"{self.name} → {self.division.name}"


class Section(models.Model):
    """An internal sub-unit of a street or department (二次派单): a section (科室, e.g. 城管办) or a
    community/village committee (社区居委会/村委会, taken from the real division data). The unit's
    center assigns orders to it; its members (users whose `section` is this row) see and handle
    those orders only. Users of the unit without a section are the unit's center."""

    class Kind(models.TextChoices):
        SECTION = "section", _("科室")
        COMMUNITY = "community", _("社区居委会/村委会")

    unit = models.ForeignKey(Unit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="sections")
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.SECTION)
    division = models.ForeignKey(
        Division,
        verbose_name=_("对应社区/村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Division.Level.COMMUNITY},
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("内设科室/社区")
        verbose_name_plural = _("内设科室/社区")
        ordering = ["unit", "kind", "sort", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="section_unique_name"),
            models.UniqueConstraint(
                fields=["unit", "division"], condition=models.Q(division__isnull=False), name="section_unique_division"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.unit_id and self.unit.kind not in (Unit.Kind.STREET, Unit.Kind.DEPARTMENT):
            raise ValidationError({"unit": _("只有街乡镇和部门可以设置内设科室/社区。")})
        if self.division_id:
            if self.division.level != Division.Level.COMMUNITY or self.division.parent_id != self.unit.division_id:
                raise ValidationError({"division": _("只能选择本街乡镇所辖的社区/村。")})
