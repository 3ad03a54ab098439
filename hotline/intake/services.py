"""Call intake (受理): one function for the agent's page, the REST API and Open311.

`call_intake(acting_user=..., data=...)` validates everything first (field-level messages, nothing
written), then in one transaction registers the call and ends it one of three ways:
- "order": route the address to a street (the agent's chosen candidate, or the one unambiguous
  candidate), find the community, look up the dispatch catalogue and create + dispatch the order
  (workorders.lifecycle.creation.order_create);
- "answer": a direct answer (直接答复) from a knowledge-base article or the agent's own words;
- "duplicate": link the call to an existing open order (重复诉求, order_link_duplicate).

An idempotency key (the page renders one per form; API clients send `Idempotency-Key`) makes a
double Ctrl+Enter, a double click or a retried POST one call: the key is stored with the call
(unique per agent) and a second request with it answers with the first one's result.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from districts.alias_proposals import alias_propose
from districts.communities import community_for
from districts.models import Division
from districts.routing import route_address
from hotline import access, numbers, refcache, sqlinsert, textrules
from hotline.errors import DomainError
from hotline.intake.dispatch import Dispatch, dispatch_resolve
from hotline.live.signals import publish
from hotline.models import ApiClient, Call, Category, KnowledgeArticle, User
from workorders.lifecycle import creation as transitions
from workorders.models import WorkOrder

MAX_NAME = 50
MAX_ADDRESS = 200
MAX_DESCRIPTION = 2000
MAX_ANSWER = 2000

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}[2-9]\d{6,7}$")  # area code + 7/8-digit number
LOCAL_RE = re.compile(r"^[2-9]\d{7}$")  # an 8-digit Beijing number said without 010
PHONE_JUNK_RE = re.compile(r"[\s\-()（）]")
# Markup in a short field is never a real name or address: refuse it. Descriptions and answers are
# free text (a citizen may quote anything) and are escaped wherever they are shown.
MARKUP_RE = re.compile(r"<\s*[a-zA-Z/!?]|&#|javascript:", re.IGNORECASE)
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(18)


class Action:
    ORDER = "order"
    ANSWER = "answer"
    DUPLICATE = "duplicate"
    CHOICES = [(ORDER, _("派发工单")), (ANSWER, _("直接答复")), (DUPLICATE, _("关联重复诉求"))]


class IntakeInvalid(DomainError):
    """Field-level validation errors: {field: [message, ...]}; "__all__" for the form as a whole."""

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors.values()))[0] if errors else gettext("请检查填写的内容。")
        super().__init__(first, code="invalid")
        self.errors = errors


def normalize_phone(raw: str) -> str:
    """Digits only: 13811012345, 01063521234; an 8-digit local number gets Beijing's 010. Raises
    ValueError when it is neither a mainland mobile nor a landline."""
    digits = PHONE_JUNK_RE.sub("", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if MOBILE_RE.match(digits) or LANDLINE_RE.match(digits):
        return digits
    if LOCAL_RE.match(digits):
        return "010" + digits
    raise ValueError(raw)


def _clean_text(value: str) -> str:
    return textrules.strip_controls(value)


class IntakeForm(forms.Form):
    phone = forms.CharField(label=_("来电号码"), max_length=30, required=False)
    no_number = forms.BooleanField(label=_("无号码"), required=False)
    caller_name = forms.CharField(label=_("来电人"), max_length=MAX_NAME, required=False)
    channel = forms.ChoiceField(
        label=_("渠道"), choices=Call.Channel.choices, initial=Call.Channel.PHONE, required=False
    )
    # No default: the agent chooses (the page suggests one from the description, never silently 咨询).
    request_type = forms.ChoiceField(
        label=_("诉求类型"),
        choices=Call.RequestType.choices,
        error_messages={"required": _("请选择诉求类型。"), "invalid_choice": _("未知的诉求类型。")},
    )
    category = forms.CharField(label=_("诉求分类"), max_length=20, required=False)
    tier = forms.CharField(label=_("时限档"), max_length=20, required=False)
    address = forms.CharField(label=_("诉求地址"), max_length=MAX_ADDRESS, required=False)
    district = forms.CharField(label=_("区"), max_length=12, required=False)
    street = forms.CharField(label=_("街乡镇"), max_length=12, required=False)
    community = forms.CharField(label=_("社区/村"), max_length=12, required=False)
    description = forms.CharField(label=_("诉求内容"), max_length=MAX_DESCRIPTION)
    action = forms.ChoiceField(label=_("办理方式"), choices=Action.CHOICES, initial=Action.ORDER, required=False)
    answer = forms.CharField(label=_("答复内容"), max_length=MAX_ANSWER, required=False)
    article = numbers.IdField(label=_("知识库文章"), required=False)
    duplicate_of = forms.CharField(label=_("重复的工单"), max_length=30, required=False)
    link_reason = forms.CharField(label=_("关联理由"), max_length=200, required=False)
    idempotency_key = forms.CharField(label=_("防重复提交键"), max_length=64, required=False)

    error_messages = {
        "phone_missing": _("请输入来电号码；来电无号码时请勾选“无号码”。"),
        "phone_invalid": _("号码格式不正确：手机为 1 开头的 11 位数字，座机如 010-12345678 或 8 位本地号码。"),
        "markup": _("不能包含 HTML 标记或脚本。"),
        "category_missing": _("请选择诉求分类。"),
        "category_unknown": _("未知的诉求分类。"),
        "category_not_leaf": _("请选择到三级分类。"),
        "tier_unknown": _("未知的时限档。"),
        "address_missing": _("派发工单必须填写诉求地址。"),
        "address_unroutable": _("地址无法定位到街乡镇，请补充区、街道、社区或小区名称。"),
        "address_ambiguous": _("地址可能属于多个街乡镇（%(names)s），请选择一个。"),
        "street_unknown": _("未知的街乡镇。"),
        "community_unknown": _("未知的社区/村，或不属于所选街乡镇。"),
        "community_without_street": _("选择社区/村前请先选择街乡镇。"),
        "district_unknown": _("区代码应为 6 位的北京市辖区代码，例如 110106。"),
        "answer_missing": _("直接答复必须填写答复内容或选择知识库文章。"),
        "article_unknown": _("知识库文章不存在或已停用。"),
        "duplicate_missing": _("请选择要关联的工单。"),
        "duplicate_unknown": _("工单不存在或您无权查看。"),
        "description_short": _("诉求内容太短，请至少写 5 个字。"),
        "idempotency_key": _("防重复提交键应为 8–64 位字母、数字、- 或 _。"),
    }

    def _err(self, field: str, key: str, **params) -> None:
        message = self.error_messages[key]
        self.add_error(field, forms.ValidationError(message % params if params else message, code=key))

    def __init__(self, *args, acting_user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.acting_user = acting_user

    def clean_channel(self):
        return self.cleaned_data.get("channel") or Call.Channel.PHONE

    def clean_action(self):
        return self.cleaned_data.get("action") or Action.ORDER

    def clean_caller_name(self):
        value = _clean_text(self.cleaned_data.get("caller_name", ""))
        if textrules.has_bidi(value):
            raise forms.ValidationError(textrules.bidi_message(_("来电人")), code="bidi")
        if MARKUP_RE.search(value):
            raise forms.ValidationError(self.error_messages["markup"], code="markup")
        return value

    def clean_address(self):
        value = _clean_text(self.cleaned_data.get("address", ""))
        if textrules.has_bidi(value):
            raise forms.ValidationError(textrules.bidi_message(_("诉求地址")), code="bidi")
        if MARKUP_RE.search(value):
            raise forms.ValidationError(self.error_messages["markup"], code="markup")
        return value

    def clean_description(self):
        value = _clean_text(self.cleaned_data.get("description", ""))
        if textrules.visible_length(value) < 5:
            raise forms.ValidationError(self.error_messages["description_short"], code="description_short")
        return value

    def clean_answer(self):
        return _clean_text(self.cleaned_data.get("answer", ""))

    def clean_link_reason(self):
        return _clean_text(self.cleaned_data.get("link_reason", "")).strip()

    def clean_idempotency_key(self):
        value = (self.cleaned_data.get("idempotency_key") or "").strip()
        if value and not IDEMPOTENCY_KEY_RE.match(value):
            raise forms.ValidationError(self.error_messages["idempotency_key"], code="idempotency_key")
        return value or None

    def clean_category(self):
        code = (self.cleaned_data.get("category") or "").strip()
        if not code:
            return None
        category = refcache.category_by_code(code)
        if category is None or not category.is_active:
            raise forms.ValidationError(self.error_messages["category_unknown"], code="category_unknown")
        if category.level != 3:
            raise forms.ValidationError(self.error_messages["category_not_leaf"], code="category_not_leaf")
        return category

    def clean_tier(self):
        code = (self.cleaned_data.get("tier") or "").strip()
        if not code:
            return None
        tier = refcache.tier_by_code(code)
        if tier is None:
            raise forms.ValidationError(self.error_messages["tier_unknown"], code="tier_unknown")
        return tier

    def clean_district(self):
        code = (self.cleaned_data.get("district") or "").strip()
        place = refcache.place_by_code(code) if code else None
        if code and (place is None or place.level != Division.Level.DISTRICT):
            raise forms.ValidationError(self.error_messages["district_unknown"], code="district_unknown")
        return code

    def clean_street(self):
        code = (self.cleaned_data.get("street") or "").strip()
        if not code:
            return None
        street = refcache.place_by_code(code)
        if street is None or street.level != Division.Level.STREET:
            raise forms.ValidationError(self.error_messages["street_unknown"], code="street_unknown")
        return street

    def clean_community(self):
        code = (self.cleaned_data.get("community") or "").strip()
        if not code:
            return None
        if not numbers.ascii_digits(code) or len(code) != 12:
            raise forms.ValidationError(self.error_messages["community_unknown"], code="community_unknown")
        community = Division.objects.filter(code=code, level=Division.Level.COMMUNITY).first()
        if community is None:
            raise forms.ValidationError(self.error_messages["community_unknown"], code="community_unknown")
        return community

    def clean_article(self):
        pk = self.cleaned_data.get("article")
        if pk is None:
            return None
        article = KnowledgeArticle.objects.filter(pk=pk, is_active=True).first()
        if article is None:
            raise forms.ValidationError(self.error_messages["article_unknown"], code="article_unknown")
        return article

    def clean(self):
        data = super().clean()
        phone_raw = (data.get("phone") or "").strip()
        if phone_raw:
            try:
                data["phone"] = normalize_phone(phone_raw)
            except ValueError:
                self._err("phone", "phone_invalid")
        elif not data.get("no_number"):
            self._err("phone", "phone_missing")
        else:
            data["phone"] = ""

        action = data.get("action")
        article = data.get("article")
        if action == Action.ANSWER and data.get("category") is None and article is not None:
            # a knowledge-base answer is filed under the article's category when it names a leaf
            leaf = refcache.categories.get()["by_id"].get(article.category_id) if article.category_id else None
            if leaf is not None and leaf.level == 3 and leaf.is_active and "category" in data:
                data["category"] = leaf
        if action in (Action.ORDER, Action.ANSWER) and "category" in data and data["category"] is None:
            self._err("category", "category_missing")
        if action == Action.ORDER:
            self._clean_place(data, required=True)
        elif action == Action.ANSWER:
            if not data.get("answer") and data.get("article") is None and "answer" in data:
                self._err("answer", "answer_missing")
            self._clean_place(data, required=False)
        elif action == Action.DUPLICATE:
            self._clean_duplicate(data)
            # the place too: a link across districts needs a reason (order_link_duplicate)
            self._clean_place(data, required=False)
        return data

    def _clean_place(self, data: dict, *, required: bool) -> None:
        """Settle the street (and community) the call is about."""
        if "address" not in data or "street" not in data or "district" not in data:
            return  # the field itself already failed
        if "community" not in data:
            return
        address, street, community = data["address"], data["street"], data["community"]
        data["community"] = None
        data["place_manual"] = False
        if community is not None and street is None:
            self._err("community", "community_without_street")
            return
        if community is not None and community.parent_id != street.pk:
            self._err("community", "community_unknown")
            return
        if required and not address:
            self._err("address", "address_missing")
            return
        candidates = route_address(address, district_code=data["district"] or None) if address else []
        if street is not None:
            # A street the router did not offer for this text was chosen by hand (the address is
            # unknown to it, or it placed it elsewhere): recorded, and proposed as an alias.
            data["place_manual"] = street.code not in {c.street_code for c in candidates}
            if community is not None:
                data["community"] = community
                data["place_manual"] = data["place_manual"] or community_for(address, street.pk) != community
                return
        if street is None and address:
            if not candidates:
                if required:
                    self._err("address", "address_unroutable")
                return
            if len(candidates) > 1 and candidates[0].score == candidates[1].score:
                names = "、".join(f"{c.district_name}{c.street_name}" for c in candidates[:4])
                self._err("street", "address_ambiguous", names=names)
                return
            street = refcache.place_by_code(candidates[0].street_code)
            data["street"] = street
        if street is not None and address:
            data["community"] = community_for(address, street.pk)

    def _clean_duplicate(self, data: dict) -> None:
        number = (data.get("duplicate_of") or "").strip()
        if not number:
            self._err("duplicate_of", "duplicate_missing")
            return

        # an order's id (up to 10 digits) or its number (14); anything else can only be a number
        pk = numbers.parse_id(number) if len(number) <= 10 else None
        lookup = {"number": number} if pk is None else {"pk": pk}
        order = (
            access.visible_orders(self.acting_user, WorkOrder.objects.select_related("category", "street"))
            .filter(**lookup)
            .first()
            if self.acting_user is not None
            else None
        )
        if order is None:
            self._err("duplicate_of", "duplicate_unknown")
            return
        data["duplicate_order"] = order
        if data.get("category") is None and "category" in data:
            data["category"] = order.category


class _SharedFields(dict):
    """IntakeForm only validates (it is never rendered) and nothing changes one of its fields per
    instance, so its instances share the field objects instead of deep-copying all sixteen for
    every call, as Django does by default (a measurable share of an intake's CPU)."""

    def __deepcopy__(self, memo):
        return dict(self)


IntakeForm.base_fields = _SharedFields(IntakeForm.base_fields)


@dataclass(frozen=True)
class IntakeResult:
    call: Call
    outcome: str
    order: object | None = None  # workorders.models.WorkOrder
    dispatch: Dispatch | None = None
    replayed: bool = False  # the same idempotency key again: the first request's result


def _key_of(data, idempotency_key: str | None) -> str | None:
    raw = idempotency_key if idempotency_key is not None else (data.get("idempotency_key") or "")
    raw = raw.strip() if isinstance(raw, str) else ""
    return raw if IDEMPOTENCY_KEY_RE.match(raw) else None


def intake_replay(*, acting_user: User, key: str) -> IntakeResult | None:
    """The result of the call this agent already made with this key, if any."""
    call = (
        Call.objects.filter(agent=acting_user, idempotency_key=key)
        .select_related("street", "community", "linked_order__lead_unit", "linked_order__category")
        .first()
    )
    if call is None:
        return None
    order = None
    if call.outcome == Call.Outcome.ORDER:
        order = WorkOrder.objects.filter(call=call).select_related("lead_unit", "category").first()
    elif call.outcome == Call.Outcome.DUPLICATE:
        order = call.linked_order
    dispatch = None
    if order is not None and call.outcome == Call.Outcome.ORDER and call.category_id and call.street_id:
        dispatch = dispatch_resolve(category=call.category, street=call.street)
    return IntakeResult(call=call, outcome=call.outcome, order=order, dispatch=dispatch, replayed=True)


def intake_validate(*, acting_user: User, data) -> dict:
    """Check the caller's details and the chosen ending; field-level errors, nothing written."""
    access.require(acting_user, access.Cap.TAKE_CALLS)
    form = IntakeForm(data, acting_user=acting_user)
    if not form.is_valid():
        raise IntakeInvalid({field: [str(m) for m in messages] for field, messages in form.errors.items()})
    return form.cleaned_data


def call_intake(
    *,
    acting_user: User,
    data,
    now: datetime | None = None,
    api_client: ApiClient | None = None,
    idempotency_key: str | None = None,
) -> IntakeResult:
    """Register a call and end it (order, direct answer or duplicate) in one transaction. With an
    idempotency key (the form's field, or `idempotency_key=` from the API's header) a second request
    answers with the first one's result and writes nothing."""
    access.require(acting_user, access.Cap.TAKE_CALLS)
    key = _key_of(data, idempotency_key)
    if key is not None and (earlier := intake_replay(acting_user=acting_user, key=key)) is not None:
        return earlier
    try:
        return _call_intake(acting_user=acting_user, data=data, now=now, api_client=api_client, key=key)
    except IntegrityError:
        # The same key committed by a concurrent request (the unique constraint waited for it).
        earlier = intake_replay(acting_user=acting_user, key=key) if key is not None else None
        if earlier is None:
            raise
        return earlier


def _call_intake(
    *, acting_user: User, data, now: datetime | None, api_client: ApiClient | None, key: str | None
) -> IntakeResult:
    cleaned = intake_validate(acting_user=acting_user, data=data)
    now = now or timezone.now()
    if acting_user.unit_id and not User.unit.is_cached(acting_user):
        # The order's event names the actor's unit: take it from the cache, not one more query.
        acting_user.unit = refcache.unit_by_id(acting_user.unit_id) or acting_user.unit
    action = cleaned["action"]
    category: Category | None = cleaned.get("category")
    street: Division | None = cleaned.get("street")
    tier = cleaned.get("tier") or (category.default_tier if category else None)
    if action == Action.ORDER and tier is None:
        raise IntakeInvalid({"tier": [gettext("该分类没有默认时限档，请选择时限档。")]})
    dispatch = dispatch_resolve(category=category, street=street) if action == Action.ORDER else None

    article = cleaned.get("article")
    answer = cleaned.get("answer") or (article.body if article else "")
    with transaction.atomic():
        call = Call(
            caller_phone=cleaned["phone"],
            caller_name=cleaned["caller_name"],
            channel=cleaned["channel"],
            request_type=cleaned["request_type"],
            category=category,
            tier=tier,
            address=cleaned["address"],
            description=cleaned["description"],
            # An order's call is written as dispatched straight away (order_create below, same
            # transaction); a repeat call stays pending until order_link_duplicate links it.
            outcome=INITIAL_OUTCOME[action],
            answer=answer if action == Action.ANSWER else "",
            answer_article=article if action == Action.ANSWER else None,
            community=cleaned.get("community"),
            street=street,
            district=refcache.place_by_id(street.district_id) if street else None,
            agent=acting_user,
            place_chosen_by=acting_user if cleaned.get("place_manual") else None,
            api_client=api_client,
            received_at=now,
            idempotency_key=key,
        )
        sqlinsert.insert(call)
        publish(city=True)  # the hall's today counter, after the commit
        order = None
        if action == Action.ORDER:
            order = call_dispatch(call=call, acting_user=acting_user, dispatch=dispatch, now=now, new_call=True)
        elif action == Action.DUPLICATE:
            order = transitions.order_link_duplicate(
                cleaned["duplicate_order"], call=call, actor=acting_user, reason=cleaned.get("link_reason", "")
            )
        if cleaned.get("place_manual") and call.address and api_client is None:
            alias_propose(address=call.address, division=call.community or street, user=acting_user)
    call.outcome = OUTCOME_OF_ACTION[action]  # the transitions saved it on their locked copy
    return IntakeResult(call=call, outcome=call.outcome, order=order, dispatch=dispatch)


INITIAL_OUTCOME = {
    Action.ORDER: Call.Outcome.ORDER,
    Action.ANSWER: Call.Outcome.DIRECT_ANSWER,
    Action.DUPLICATE: Call.Outcome.PENDING,
}
OUTCOME_OF_ACTION = {
    Action.ORDER: Call.Outcome.ORDER,
    Action.ANSWER: Call.Outcome.DIRECT_ANSWER,
    Action.DUPLICATE: Call.Outcome.DUPLICATE,
}


def call_dispatch(
    *,
    call: Call,
    acting_user: User,
    dispatch: Dispatch | None = None,
    now: datetime | None = None,
    new_call: bool = False,
):
    """Create and dispatch the order for a registered call (category, tier and street set).
    `new_call`: the call was just inserted, already marked "order", in the open transaction."""

    if call.category_id is None or call.street_id is None:
        raise DomainError(gettext("派发工单需要诉求分类和所属街乡镇。"), code="incomplete_call")
    dispatch = dispatch or dispatch_resolve(category=call.category, street=call.street)
    return transitions.order_create(
        call=call,
        category=call.category,
        tier=call.tier or call.category.default_tier,
        lead_unit=dispatch.lead_unit,
        actor=acting_user,
        title=f"{call.category.name}：{call.description[:60]}",
        street=call.street,
        community=call.community,
        co_units=dispatch.co_units,
        now=now,
        new_call=new_call,
    )


def call_answer(*, call: Call, acting_user: User, answer: str = "", article: KnowledgeArticle | None = None) -> Call:
    """Close a pending call as a direct answer (used for calls registered before they were ended)."""
    access.require(acting_user, access.Cap.TAKE_CALLS)
    answer = _clean_text(answer) or (article.body if article else "")
    if not answer:
        raise DomainError(gettext("直接答复必须填写答复内容或选择知识库文章。"), code="answer_missing")
    updated = Call.objects.filter(pk=call.pk, outcome=Call.Outcome.PENDING).update(
        outcome=Call.Outcome.DIRECT_ANSWER, answer=answer[:MAX_ANSWER], answer_article=article
    )
    if updated != 1:
        raise DomainError(gettext("该来电已处理。"), code="call_done")
    call.refresh_from_db()
    return call
