from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("话务员")
    STREET = "street", _("街乡镇承办人")
    DEPARTMENT = "department", _("部门承办人")
    DISTRICT = "district", _("区级管理员")
    CITY = "city", _("市级管理员")


# Which kind of unit each role must belong to.
ROLE_UNIT_KIND = {
    Role.AGENT: "center",
    Role.STREET: "street",
    Role.DEPARTMENT: "department",
    Role.DISTRICT: "district",
    Role.CITY: "center",
}


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, blank=True)
    unit = models.ForeignKey(
        "districts.Unit",
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if not self.role:
            return
        expected = ROLE_UNIT_KIND[Role(self.role)]
        if self.unit is None or self.unit.kind != expected:
            raise ValidationError(
                {
                    "unit": _("角色“%(role)s”必须属于“%(kind)s”类单位。")
                    % {"role": self.get_role_display(), "kind": expected}
                }
            )

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Category(models.Model):
    """The three-level category tree (城乡建设 → 物业管理 → 电梯故障). Each category carries the
    urgency tier an order gets by default; the agent may raise it."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(_("层级"), choices=[(1, _("一级")), (2, _("二级")), (3, _("三级"))])
    default_tier = models.ForeignKey(
        "workorders.UrgencyTier", verbose_name=_("默认时限档"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "→".join(reversed(names))


class Call(models.Model):
    """One contact from a citizen (phone call, web form, app, WeChat)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        WEB = "web", _("网站")
        APP = "app", _("App")
        WECHAT = "wechat", _("微信")

    class RequestType(models.TextChoices):
        CONSULTATION = "consultation", _("咨询")
        HELP = "help", _("求助")
        COMPLAINT = "complaint", _("投诉")
        REPORT = "report", _("举报")
        SUGGESTION = "suggestion", _("建议")
        PRAISE = "praise", _("表扬")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("处理中")
        DIRECT_ANSWER = "direct_answer", _("直接答复")
        ORDER = "order", _("派发工单")
        DUPLICATE = "duplicate", _("重复诉求")

    caller_phone = models.CharField(_("来电号码"), max_length=20, blank=True, db_index=True)
    caller_name = models.CharField(_("来电人"), max_length=50, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    request_type = models.CharField(_("诉求类型"), max_length=20, choices=RequestType.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("诉求分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    tier = models.ForeignKey(
        "workorders.UrgencyTier", verbose_name=_("时限档"), null=True, blank=True, on_delete=models.PROTECT
    )
    address = models.CharField(_("诉求地址"), max_length=200, blank=True)
    description = models.TextField(_("诉求内容"))
    outcome = models.CharField(_("办理方式"), max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    answer = models.TextField(_("答复内容"), blank=True)
    community = models.ForeignKey(
        "districts.Division",
        verbose_name=_("所属社区/村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        "districts.Division",
        verbose_name=_("所属区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        "districts.Division",
        verbose_name=_("所属街乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受理话务员"),
        null=True,
        on_delete=models.PROTECT,
        related_name="calls_taken",
    )
    received_at = models.DateTimeField(_("来电时间"), db_index=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("来电记录")
        verbose_name_plural = _("来电记录")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["street", "-received_at"], name="call_street_recent"),
            models.Index(fields=["district", "-received_at"], name="call_district_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.get_request_type_display()}"


class PersonalDataAccess(models.Model):
    """An audit row for every time someone saw a caller's unmasked personal data."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT)
    call = models.ForeignKey(Call, verbose_name=_("来电记录"), on_delete=models.PROTECT, related_name="+")
    field = models.CharField(_("字段"), max_length=40)
    via = models.CharField(_("途径"), max_length=20)  # "page" or "api"
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user} {self.field} {self.at:%Y-%m-%d %H:%M}"


class LoginFailure(models.Model):
    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        indexes = [
            models.Index(fields=["username", "at"], name="loginfail_user_at"),
            models.Index(fields=["ip_address", "at"], name="loginfail_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


class WorkerHeartbeat(models.Model):
    """One row, touched by a beat-scheduled task, so health checks see the worker consuming."""

    name = models.CharField(max_length=40, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return self.name
