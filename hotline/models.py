from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.localnames import localized


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
    # 二次派单: a member of one of the unit's sections or community committees; empty for the
    # unit's center (which sees and assigns all of the unit's orders).
    section = models.ForeignKey(
        "districts.Section",
        verbose_name=_("内设科室/社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def clean(self):

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
        if self.section_id and self.section.unit_id != self.unit_id:
            raise ValidationError({"section": _("内设科室/社区必须属于用户所在单位。")})

    @property
    def display_name(self) -> str:
        # Chinese names are family name first, without a space: 王芳.
        if self.last_name and self.first_name and not (self.last_name + self.first_name).isascii():
            return f"{self.last_name}{self.first_name}"
        return self.get_full_name() or self.username


class Category(models.Model):
    """The three-level category tree (城乡建设 → 物业管理 → 电梯故障). Each category carries the
    urgency tier an order gets by default; the agent may raise it."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True, default="")
    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(_("层级"), choices=[(1, _("一级")), (2, _("二级")), (3, _("三级"))])
    default_tier = models.ForeignKey(
        "workorders.UrgencyTier", verbose_name=_("默认时限档"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    keywords = models.CharField(
        _("关键词"),
        max_length=300,
        blank=True,
        help_text=_("用空格或逗号分隔；受理时诉求内容含这些词，就推荐此分类（与历史工单学到的一起）"),
    )

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language (English when given and the UI is English)."""
        return localized(self.name, self.name_en)

    @property
    def path(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "→".join(reversed(names))

    @property
    def display_path(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.display_name)
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
    answer_article = models.ForeignKey(
        "KnowledgeArticle",
        verbose_name=_("答复依据"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_client = models.ForeignKey(
        "ApiClient",
        verbose_name=_("接入应用"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
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
    # Set when the agent chose the street/community by hand (the router could not place the
    # address, or placed it elsewhere): who chose it. Empty when routing placed it.
    place_chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("手选地点的话务员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("来电时间"), db_index=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    # 保密工单 (GB/T 33358): the caller asked that handling units not learn who they are. Name, phone
    # and address are then shown only to the hotline (agents, the city); the rule is
    # hotline.access.sees_caller, read by every page, export, notification and API.
    confidential = models.BooleanField(_("保密"), default=False)
    # One key per rendered intake form (or per API request that sends Idempotency-Key): a double
    # Ctrl+Enter, a retried POST or a double click finds the call already made and answers with it.
    idempotency_key = models.CharField(_("防重复提交键"), max_length=64, null=True, blank=True)
    # A repeat call (outcome "duplicate"): the order it was counted on, and why the agent linked it
    # across districts or unrelated categories.
    linked_order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("关联的工单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    link_reason = models.CharField(_("关联理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("来电记录")
        verbose_name_plural = _("来电记录")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["street", "-received_at"], name="call_street_recent"),
            models.Index(fields=["district", "-received_at"], name="call_district_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="call_agent_idempotency_key",
            )
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


# --- Intake: dispatch catalogue, knowledge base, Open311 clients ----------------------------------
class DispatchRule(models.Model):
    """One line of the dispatch catalogue (派单目录): orders of this category (any level) in this
    place (city-wide, a district or a street) go to this lead unit, with these co-handlers.
    The most specific rule wins: deeper category first, then narrower place, then priority."""

    class Target(models.TextChoices):
        STREET = "street", _("地址所在街乡镇")
        DEPARTMENT = "department", _("地址所在区的部门（无则市级部门）")
        UNIT = "unit", _("指定单位")

    category = models.ForeignKey(
        Category, verbose_name=_("诉求分类"), on_delete=models.CASCADE, related_name="dispatch_rules"
    )
    district = models.ForeignKey(
        "districts.Division",
        verbose_name=_("适用区"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": 2},
        help_text=_("留空表示全市"),
    )
    street = models.ForeignKey(
        "districts.Division",
        verbose_name=_("适用街乡镇"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": 3},
        help_text=_("只对此街乡镇生效；留空表示全区或全市"),
    )
    target = models.CharField(_("主办单位"), max_length=20, choices=Target.choices, default=Target.STREET)
    department_slug = models.CharField(
        _("部门类别"),
        max_length=40,
        blank=True,
        help_text=_("部门单位编码的后缀，例如 water（区水务局）、water-group（市自来水集团）"),
    )
    unit = models.ForeignKey(
        "districts.Unit",
        verbose_name=_("指定单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    co_street = models.BooleanField(_("地址所在街乡镇协办"), default=False)
    co_department_slugs = models.CharField(
        _("协办部门类别"), max_length=200, blank=True, help_text=_("多个用逗号分隔，例如 water-group,housing")
    )
    co_units = models.ManyToManyField("districts.Unit", verbose_name=_("指定协办单位"), blank=True, related_name="+")
    priority = models.IntegerField(_("优先级"), default=0, help_text=_("同样具体的规则，数值大的优先"))
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单目录")
        ordering = ["category__code", "-priority", "id"]
        indexes = [models.Index(fields=["category", "is_active"], name="dispatchrule_category")]

    def __str__(self) -> str:
        return f"{self.category} → {self.get_target_display()}"

    def clean(self):

        errors = {}
        if self.target == self.Target.DEPARTMENT and not self.department_slug:
            errors["department_slug"] = _("主办为部门时必须填写部门类别。")
        if self.target == self.Target.UNIT and self.unit_id is None:
            errors["unit"] = _("主办为指定单位时必须选择单位。")
        if self.street_id and self.district_id and self.street.district_id != self.district_id:
            errors["street"] = _("街乡镇不在所选区内。")
        if errors:
            raise ValidationError(errors)


class KnowledgeArticle(models.Model):
    """A policy answer the agent can read out and close a consultation with (直接答复)."""

    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("答复口径"))
    keywords = models.CharField(_("关键词"), max_length=200, blank=True, help_text=_("用空格或逗号分隔"))
    category = models.ForeignKey(
        Category, verbose_name=_("诉求分类"), null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("知识库文章")
        verbose_name_plural = _("知识库")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ApiClient(models.Model):
    """A third-party application allowed to submit Open311 requests. Only a hash of its key is
    stored; the key is shown once, when the client is created in the admin."""

    name = models.CharField(_("名称"), max_length=100)
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受理账号"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("以哪个话务账号的名义受理此应用提交的诉求"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 接入应用")
        verbose_name_plural = _("Open311 接入应用")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class AdminSecondFactor(models.Model):
    """A city administrator's authenticator app (TOTP, RFC 6238): the admin asks for its current
    six-digit code once per session. Created unconfirmed when the administrator first opens the
    admin; confirmed by the first good code. Deleting it (another administrator, in the admin) makes
    its owner enrol again."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="second_factor", verbose_name=_("用户")
    )
    secret = models.CharField(_("密钥"), max_length=64)
    confirmed_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    # The last time step accepted: a code is good once (no replay within its 30 s window).
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("管理后台二次验证")
        verbose_name_plural = _("管理后台二次验证")

    def __str__(self) -> str:
        return str(self.user)


class SmsMessage(models.Model):
    """One text message to a caller (e.g. the self-evaluation link), recorded on the order: queued
    by the agent, sent by a Celery task with retries through the configured SMS backend."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    class Purpose(models.TextChoices):
        SELF_EVALUATION = "self_evaluation", _("市民自评链接")
        MERGED = "merged", _("并单告知")

    order = models.ForeignKey(
        "workorders.WorkOrder", verbose_name=_("工单"), on_delete=models.PROTECT, related_name="sms_messages"
    )
    purpose = models.CharField(_("用途"), max_length=30, choices=Purpose.choices)
    phone = models.CharField(_("号码"), max_length=20)
    text = models.TextField(_("短信内容"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    backend = models.CharField(_("发送通道"), max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发送人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = _("短信")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M}"


class Open311Request(models.Model):
    """What an Open311 app was given for a request it submitted: an unguessable public id (never the
    sequential order number, so nobody can enumerate the city's requests) and the coordinates it
    sent, if any. Reads without a key find a request only by this id."""

    call = models.OneToOneField(Call, verbose_name=_("来电记录"), on_delete=models.PROTECT, related_name="open311")
    public_id = models.CharField(_("公开编号"), max_length=40, unique=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 诉求")
        verbose_name_plural = _("Open311 诉求")

    def __str__(self) -> str:
        return self.public_id
