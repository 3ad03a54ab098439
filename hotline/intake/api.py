"""REST API for call intake: intake itself, the agent form's live look-ups, categories and the
knowledge base. Pages and these endpoints call the same functions (intake.services, intake.selectors)."""

from __future__ import annotations

from dataclasses import asdict

import django_filters
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from districts.communities import community_for
from districts.models import Division
from hotline import access, numbers, refcache
from hotline import privacy as services
from hotline.accounts.login import client_ip
from hotline.errors import AccessDenied
from hotline.intake import selectors
from hotline.intake.dispatch import dispatch_resolve
from hotline.intake.services import (
    IDEMPOTENCY_KEY_RE,
    Action,
    IntakeForm,
    IntakeInvalid,
    call_intake,
    normalize_phone,
)
from hotline.intake.suggest import suggest_categories
from hotline.models import Call, Category, DispatchRule, KnowledgeArticle
from hotline.privacy import mask_phone
from hotline.web.api import form_data, gate


class CallSerializer(serializers.ModelSerializer):
    caller_phone = serializers.SerializerMethodField()
    street_name = serializers.CharField(source="street.name", default=None, read_only=True)
    district_name = serializers.CharField(source="district.name", default=None, read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "received_at",
            "channel",
            "request_type",
            "caller_name",
            "caller_phone",
            "address",
            "confidential",
            "description",
            "district",
            "district_name",
            "street",
            "street_name",
            "agent",
        ]

    def get_caller_phone(self, obj) -> str:
        user = self.context["request"].user
        return obj.caller_phone if access.sees_phone_in_full(user) else mask_phone(obj.caller_phone)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        view = services.caller_view(self.context["request"].user, instance)  # 保密工单
        data.update(caller_name=view.name, caller_phone=view.phone, address=view.address)
        return data


class CallFilter(django_filters.FilterSet):
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="search", label=_("关键词"))
    category = django_filters.CharFilter(field_name="category__code", label=_("分类编码"))

    class Meta:
        model = Call
        fields = ["request_type", "channel", "district", "street", "outcome"]

    def search(self, queryset, name, value):
        # 保密工单: a hidden address is not matched either
        hidden = access.caller_hidden_q(getattr(self.request, "user", None))
        return queryset.filter((Q(address__icontains=value) & ~hidden) | Q(description__icontains=value))


class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Call.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = CallSerializer
    filterset_class = CallFilter
    permission_classes = [gate(access.Cap.CALLS)]

    def get_queryset(self):
        return access.visible_calls(self.request.user).select_related("street", "district")

    @extend_schema(request=None, responses=inline_serializer("RevealedPhone", {"phone": serializers.CharField()}))
    @action(detail=True, methods=["post"], url_path="reveal-phone")
    def reveal_phone(self, request, pk=None):
        call = self.get_object()
        try:
            phone = services.call_reveal_phone(
                call=call, acting_user=request.user, via="api", ip_address=client_ip(request)
            )
        except AccessDenied as exc:
            raise PermissionDenied(exc.message) from None
        return Response({"phone": phone})


TAKE_CALLS = gate(access.Cap.TAKE_CALLS)


# --- serializers ------------------------------------------------------------------------------
class IntakeRequestSerializer(serializers.Serializer):
    """What the intake endpoint accepts (validated by hotline.intake.IntakeForm)."""

    phone = serializers.CharField(required=False, help_text=_("手机 11 位、座机 010-12345678 或 8 位本地号码"))
    no_number = serializers.BooleanField(required=False, help_text=_("来电无号码时为 true"))
    caller_name = serializers.CharField(required=False, max_length=50)
    channel = serializers.ChoiceField(choices=Call.Channel.choices, default=Call.Channel.PHONE)
    request_type = serializers.ChoiceField(choices=Call.RequestType.choices)
    category = serializers.CharField(required=False, help_text=_("三级分类编码，例如 020102（水管爆裂）"))
    tier = serializers.CharField(required=False, help_text=_("时限档编码，留空按分类默认"))
    address = serializers.CharField(required=False, max_length=200)
    district = serializers.CharField(required=False, help_text=_("定位提示：6 位区代码"))
    street = serializers.CharField(
        required=False,
        help_text=_("选定的街乡镇代码（9 位）；留空时取唯一的定位结果。不在定位结果中的街乡镇记为手选地点"),
    )
    community = serializers.CharField(required=False, help_text=_("手选的社区/村代码（12 位），须属于所选街乡镇"))
    description = serializers.CharField(max_length=2000)
    action = serializers.ChoiceField(choices=Action.CHOICES, default=Action.ORDER)
    answer = serializers.CharField(required=False, max_length=2000)
    article = serializers.IntegerField(required=False, help_text=_("知识库文章 id"))
    duplicate_of = serializers.CharField(required=False, help_text=_("要关联的工单编号"))
    link_reason = serializers.CharField(
        required=False, max_length=200, help_text=_("关联到其他区或无关分类的工单时必填：关联理由")
    )
    idempotency_key = serializers.CharField(
        required=False,
        help_text=_(
            "防重复提交键（8–64 位字母、数字、- 或 _；也可用 Idempotency-Key 请求头）：同一键再次提交返回首次的结果"
        ),
    )


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class OrderSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    state_display = serializers.CharField(source="get_state_display")
    category = serializers.CharField(source="category.name")
    address = serializers.CharField()
    lead_unit = UnitRefSerializer()
    dispatched_at = serializers.DateTimeField()
    resolution_deadline = serializers.DateTimeField()
    duplicate_count = serializers.IntegerField()


class IntakeResultSerializer(serializers.Serializer):
    call_id = serializers.IntegerField(source="call.id")
    outcome = serializers.CharField()
    street = serializers.CharField(source="call.street.name", default=None)
    community = serializers.CharField(source="call.community.name", default=None)
    order = OrderSummarySerializer(allow_null=True)
    co_units = serializers.SerializerMethodField()
    dispatch_reason = serializers.CharField(source="dispatch.reason", default=None)
    answer = serializers.CharField(source="call.answer")

    def get_co_units(self, obj) -> list[str]:
        return [u.name for u in obj.dispatch.co_units] if obj.dispatch else []


class HistoryCallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    request_type = serializers.CharField(source="get_request_type_display")
    outcome = serializers.CharField(source="get_outcome_display")
    category = serializers.CharField(source="category.name", default=None)
    address = serializers.CharField()
    description = serializers.CharField()
    street = serializers.CharField(source="street.name", default=None)
    order_number = serializers.SerializerMethodField()
    order_id = serializers.SerializerMethodField()

    def get_order_number(self, obj) -> str | None:
        order = getattr(obj, "order", None) if hasattr(obj, "order") else None
        return order.number if order else None

    def get_order_id(self, obj) -> int | None:
        order = getattr(obj, "order", None) if hasattr(obj, "order") else None
        return order.id if order else None


class CallerHistorySerializer(serializers.Serializer):
    phone = serializers.CharField()
    calls = HistoryCallSerializer(many=True)
    open_orders = OrderSummarySerializer(many=True)


class DispatchPreviewSerializer(serializers.Serializer):
    lead_unit = UnitRefSerializer()
    co_units = UnitRefSerializer(many=True)
    reason = serializers.CharField()
    tier = serializers.CharField(allow_null=True)
    community = serializers.CharField(allow_null=True)


class CategorySerializer(serializers.ModelSerializer):
    path = serializers.CharField(read_only=True)
    default_tier = serializers.CharField(source="default_tier.code", default=None)
    parent = serializers.CharField(source="parent.code", default=None)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "level", "parent", "path", "default_tier", "is_active"]


class KnowledgeArticleSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.code", default=None)
    category_name = serializers.CharField(source="category.name", default=None)

    class Meta:
        model = KnowledgeArticle
        fields = ["id", "title", "body", "keywords", "category", "category_name", "updated_at"]


# The intake answer is built directly (same shape and formats as IntakeResultSerializer, which
# documents it): instantiating nested serializers deep-copies every declared field on each
# request, a measurable share of an intake's CPU at hundreds of intakes per second.
_datetime = serializers.DateTimeField()


def _unit_ref(unit) -> dict:
    return {"id": unit.id, "code": unit.code, "name": unit.name}


def _order_summary(order) -> dict:
    return {
        "id": order.id,
        "number": order.number,
        "state": order.state,
        "state_display": order.get_state_display(),
        "category": order.category.name,
        "address": order.address,
        "lead_unit": _unit_ref(order.lead_unit),
        "dispatched_at": _datetime.to_representation(order.dispatched_at),
        "resolution_deadline": _datetime.to_representation(order.resolution_deadline),
        "duplicate_count": order.duplicate_count,
    }


def intake_result_data(result) -> dict:
    call, dispatch = result.call, result.dispatch
    return {
        "call_id": call.id,
        "outcome": result.outcome,
        "street": call.street.name if call.street_id else None,
        "community": call.community.name if call.community_id else None,
        "order": _order_summary(result.order) if result.order is not None else None,
        "co_units": [u.name for u in dispatch.co_units] if dispatch else [],
        "dispatch_reason": dispatch.reason if dispatch else None,
        "answer": call.answer,
    }


# --- helpers ---------------------------------------------------------------------------------
def _leaf(code: str) -> Category:
    category = refcache.category_by_code(code)
    if category is None or not category.is_active or category.level != 3:
        raise ValidationError({"category": [gettext("请选择到三级分类。")]})
    return category


def _street(code: str) -> Division:
    street = refcache.place_by_code(code)
    if street is None or street.level != Division.Level.STREET:
        raise ValidationError({"street": [gettext("未知的街乡镇。")]})
    return street


def _community(code: str, street: Division) -> Division | None:
    code = (code or "").strip()
    if not code:
        return None
    community = (
        Division.objects.filter(code=code, level=Division.Level.COMMUNITY, parent=street).first()
        if numbers.ascii_digits(code) and len(code) == 12
        else None
    )
    if community is None:
        raise ValidationError({"community": [gettext("未知的社区/村，或不属于所选街乡镇。")]})
    return community


# --- views ----------------------------------------------------------------------------------
class IntakeView(APIView):
    """Register a call and end it: dispatch an order, answer directly, or link to an existing order."""

    permission_classes = [TAKE_CALLS]

    @extend_schema(
        operation_id="intake_create",
        summary=_("受理来电"),
        description=_(
            "校验来电信息后在一个事务中登记来电并办结：派发工单（地址定位 → 街乡镇，派单目录 → 主办单位）、"
            "直接答复（知识库）或关联重复诉求。校验失败返回 400 和逐字段的错误信息，不保存任何内容。"
        ),
        request=IntakeRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_(
                    "防重复提交键：同一键再次提交不再登记，返回首次的结果（响应头 Idempotent-Replayed: true）"
                ),
            )
        ],
        responses={201: IntakeResultSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [gettext("请求体应为 JSON 对象或表单。")]})
        header_key = request.headers.get("Idempotency-Key")
        if header_key is not None and not IDEMPOTENCY_KEY_RE.match(header_key.strip()):
            raise ValidationError({"idempotency_key": [gettext("防重复提交键应为 8–64 位字母、数字、- 或 _。")]})
        try:
            result = call_intake(
                acting_user=request.user,
                data=form_data(request, IntakeForm),
                idempotency_key=header_key.strip() if header_key is not None else None,
            )
        except IntakeInvalid as exc:
            raise ValidationError(exc.errors) from None
        response = Response(intake_result_data(result), status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"  # the same answer as the first request; nothing new
        return response


class CallerHistoryView(APIView):
    """The caller's history. POST, so that the number never appears in a URL (access logs,
    proxies, browser history)."""

    permission_classes = [TAKE_CALLS]

    @extend_schema(
        operation_id="intake_caller_history",
        summary=_("来电人历史"),
        request=inline_serializer("CallerHistoryRequest", {"phone": serializers.CharField()}),
        responses=CallerHistorySerializer,
    )
    def post(self, request):
        phone_raw = request.data.get("phone", "") if isinstance(request.data, dict) else ""
        try:
            phone = normalize_phone(phone_raw if isinstance(phone_raw, str) else "")
        except ValueError:
            raise ValidationError({"phone": [gettext("号码格式不正确。")]}) from None
        history = selectors.caller_history(user=request.user, phone=phone)
        return Response(CallerHistorySerializer({"phone": phone, **history}).data)


class DuplicateCandidateSerializer(OrderSummarySerializer):
    score = serializers.FloatField(help_text=_("描述的相似度，0–1"))
    place = serializers.ChoiceField(choices=["spot", "compound", "street"], help_text=_("地点一致的程度"))
    category_relation = serializers.ChoiceField(choices=["same", "near", "none"])


class DuplicatesRequestSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=2000)
    address = serializers.CharField(required=False, max_length=200)
    category = serializers.CharField(required=False, help_text=_("三级分类编码"))
    street = serializers.CharField(help_text=_("街乡镇代码（9 位）"))
    community = serializers.CharField(required=False, help_text=_("手选的社区/村代码（12 位）"))
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    long = serializers.FloatField(required=False, min_value=-180, max_value=180)


_PLACE_NAMES = {3: "spot", 2: "compound", 1: "street"}


class DuplicatesView(APIView):
    """Orders about the same incident as the call being typed. POST: the description is the caller's
    words and stays out of URLs."""

    permission_classes = [TAKE_CALLS]

    @extend_schema(
        operation_id="intake_duplicates",
        summary=_("可能的重复诉求"),
        description=_(
            "同一事件的工单：同一地点（小区/楼栋/单元或道路门牌，有坐标时按半径）、描述相似、分类相同或相近，"
            "未办结或在时间窗内派发。与来电人是谁无关；来电人的其他工单见来电人历史。"
        ),
        request=DuplicatesRequestSerializer,
        responses=DuplicateCandidateSerializer(many=True),
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [gettext("请求体应为 JSON 对象或表单。")]})
        body = DuplicatesRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        category = _leaf(data["category"]) if data.get("category") else None
        street = _street(data["street"])
        address = data.get("address", "").strip()
        community = _community(data.get("community", ""), street)
        if community is None and address:
            community = community_for(address, street.pk)
        coords = (data["lat"], data["long"]) if "lat" in data and "long" in data else None
        found = selectors.duplicate_candidates(
            user=request.user,
            description=data["description"],
            address=address,
            category=category,
            street=street,
            community=community,
            coords=coords,
        )
        rows = []
        for order, verdict in found:
            row = _order_summary(order)
            row.update(
                score=verdict.score, place=_PLACE_NAMES.get(verdict.place, "street"), category_relation=verdict.category
            )
            rows.append(row)
        return Response(rows)


class DispatchPreviewView(APIView):
    permission_classes = [TAKE_CALLS]

    @extend_schema(
        operation_id="intake_dispatch_preview",
        summary=_("派单预览"),
        description=_("按派单目录给出主办单位、协办单位和理由。"),
        parameters=[
            OpenApiParameter("category", OpenApiTypes.STR, required=True),
            OpenApiParameter("street", OpenApiTypes.STR, required=True),
            OpenApiParameter("address", OpenApiTypes.STR),
            OpenApiParameter("community", OpenApiTypes.STR, description=_("手选的社区/村代码（12 位）")),
        ],
        responses=DispatchPreviewSerializer,
    )
    def get(self, request):
        category = _leaf(request.query_params.get("category", ""))
        street = _street(request.query_params.get("street", ""))
        address = request.query_params.get("address", "").strip()[:200]
        community = _community(request.query_params.get("community", ""), street)
        if community is None:
            community = community_for(address, street.pk) if address else None
        dispatch = dispatch_resolve(category=category, street=street)
        body = {
            "lead_unit": dispatch.lead_unit,
            "co_units": dispatch.co_units,
            "reason": dispatch.reason,
            "tier": category.default_tier.name if category.default_tier else None,
            "community": community.name if community else None,
        }
        return Response(DispatchPreviewSerializer(body).data)


class TodayView(APIView):
    """Today's intake, for the live counter on the home pages (scoped like the call list)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="intake_today",
        summary=_("今日受理"),
        responses=inline_serializer(
            "IntakeToday",
            {k: serializers.IntegerField() for k in ("calls", "orders", "answered", "duplicates")},
        ),
    )
    def get(self, request):
        if access.role_of(request.user) is None:
            return Response({"calls": 0, "orders": 0, "answered": 0, "duplicates": 0})
        return Response(selectors.intake_today(user=request.user))


class CategoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("关键词"))
    parent = django_filters.CharFilter(field_name="parent__code", label=_("上级分类编码"))

    class Meta:
        model = Category
        fields = ["level", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value))


class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The category tree (reference data, readable by every role; maintained in the admin)."""

    queryset = Category.objects.select_related("parent__parent", "default_tier").order_by("sort", "code")
    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    lookup_field = "code"
    pagination_class = None


class KnowledgeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="noop", label=_("关键词（标题、关键词、正文，空格分隔）"))
    category = django_filters.CharFilter(method="noop", label=_("分类编码"))

    class Meta:
        model = KnowledgeArticle
        fields = []

    def noop(self, queryset, name, value):
        return queryset  # the search itself is selectors.knowledge_search


class KnowledgeArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Knowledge-base search (Chinese substring match; title hits first)."""

    serializer_class = KnowledgeArticleSerializer
    filterset_class = KnowledgeFilter
    queryset = KnowledgeArticle.objects.filter(is_active=True).select_related("category")
    pagination_class = None

    def list(self, request, *args, **kwargs):
        query = request.query_params.get("q", "").strip()[:100]
        code = request.query_params.get("category", "").strip()
        category = Category.objects.filter(code=code).first() if code else None
        articles = selectors.knowledge_search(query=query, category=category)
        return Response(self.get_serializer(articles, many=True).data)


class DispatchRuleSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.code")
    category_path = serializers.CharField(source="category.path")
    district = serializers.CharField(source="district.code", default=None)
    street = serializers.CharField(source="street.code", default=None)
    unit = serializers.CharField(source="unit.code", default=None)
    co_units = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = DispatchRule
        fields = [
            "id",
            "category",
            "category_path",
            "district",
            "street",
            "target",
            "department_slug",
            "unit",
            "co_street",
            "co_department_slugs",
            "co_units",
            "priority",
            "is_active",
            "note",
        ]


class DispatchRuleFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__code", label=_("分类编码"))
    district = django_filters.CharFilter(field_name="district__code", label=_("区代码"))
    street = django_filters.CharFilter(field_name="street__code", label=_("街乡镇代码"))

    class Meta:
        model = DispatchRule
        fields = ["target", "is_active"]


class DispatchRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The dispatch catalogue (reference data, readable by every role; edited in the admin)."""

    queryset = (
        DispatchRule.objects.select_related("category__parent__parent", "district", "street", "unit")
        .prefetch_related("co_units")
        .order_by("category__code", "-priority", "id")
    )
    serializer_class = DispatchRuleSerializer
    filterset_class = DispatchRuleFilter


class CategorySuggestionsView(APIView):
    """Top-3 categories for a description (POST: the description is the caller's words and stays
    out of URLs), learned from the center's own history plus the keywords kept per category."""

    permission_classes = [TAKE_CALLS]

    @extend_schema(
        operation_id="intake_category_suggestions",
        summary=_("分类推荐"),
        request=inline_serializer("CategorySuggestionRequest", {"text": serializers.CharField()}),
        responses=inline_serializer(
            "CategorySuggestions",
            {
                "suggestions": inline_serializer(
                    "CategorySuggestion",
                    {
                        "code": serializers.CharField(),
                        "name": serializers.CharField(),
                        "path": serializers.CharField(),
                        "score": serializers.FloatField(),
                    },
                    many=True,
                ),
                "request_type": serializers.CharField(),
            },
        ),
    )
    def post(self, request):
        text = request.data.get("text", "") if isinstance(request.data, dict) else ""
        suggestions, request_type = suggest_categories(text if isinstance(text, str) else "")
        return Response({"suggestions": [asdict(s) for s in suggestions], "request_type": request_type})
