"""Assessment API: rule sets, snapshots, rankings, a unit's rates, the orders behind a figure,
reports. Same selectors and services as the pages, so the same scoping."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from assessment import periods, rates, rulesets
from assessment.governance import services as governance
from assessment.models import Report, RuleSet, Scope, Snapshot, SnapshotRow
from assessment.snapshots import selectors, services
from districts.models import Unit
from hotline import access, numbers
from hotline.errors import AccessDenied
from hotline.web.api import gate

MANAGERS = gate(access.Cap.ASSESSMENT_MANAGE)
ASSESSED = gate(access.Cap.ASSESSMENT)


class RuleSetSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleSet
        fields = ["id", "version", "is_active", *rulesets.RULE_FIELDS, "created_at", "created_by"]
        read_only_fields = ["id", "version", "is_active", "created_at", "created_by"]


class RuleSetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Every version of the rules. POST publishes a new version (city only) from the active one
    plus the fields given; nothing is ever edited in place."""

    queryset = RuleSet.objects.all()
    serializer_class = RuleSetSerializer
    permission_classes = [MANAGERS]

    def create(self, request, *args, **kwargs):
        if not isinstance(request.data, dict):
            raise ValidationError(_("请求体必须是对象。"))
        changes = {k: request.data[k] for k in rulesets.RULE_FIELDS if k in request.data}
        ruleset = rulesets.ruleset_publish(acting_user=request.user, **changes)
        return Response(RuleSetSerializer(ruleset).data, status=201)

    @action(detail=False)
    def active(self, request):
        return Response(RuleSetSerializer(rulesets.ruleset_active()).data)


class SnapshotSerializer(serializers.ModelSerializer):
    ruleset_version = serializers.IntegerField(source="ruleset.version", read_only=True)
    # Plain strings in the schema: "kind" is a choice field in several apps' serializers.
    kind = serializers.CharField(read_only=True, help_text="provisional | frozen | recomputed")

    class Meta:
        model = Snapshot
        fields = [
            "id",
            "period",
            "period_start",
            "period_end",
            "kind",
            "ruleset",
            "ruleset_version",
            "computed_at",
            "frozen_at",
            "base",
            "label",
        ]


class SnapshotDetailSerializer(SnapshotSerializer):
    differences = serializers.SerializerMethodField()

    class Meta(SnapshotSerializer.Meta):
        fields = [*SnapshotSerializer.Meta.fields, "differences"]

    def get_differences(self, obj) -> list[dict]:
        return selectors.snapshot_differences(self.context["request"].user, obj)


class SnapshotActionSerializer(serializers.Serializer):
    period = serializers.CharField()
    action = serializers.ChoiceField(choices=["provisional", "freeze", "recompute"])
    label = serializers.CharField(required=False, allow_blank=True, default="")


class SnapshotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Snapshot.objects.select_related("ruleset").order_by("-period", "-computed_at")
    serializer_class = SnapshotSerializer
    permission_classes = [MANAGERS]
    filterset_fields = ["period", "kind"]

    def get_serializer_class(self):
        return SnapshotDetailSerializer if self.action == "retrieve" else SnapshotSerializer

    @extend_schema(request=SnapshotActionSerializer, responses=SnapshotDetailSerializer)
    @action(detail=False, methods=["post"])
    def compute(self, request):
        """City: `provisional` recomputes an open period, `freeze` freezes a finished one,
        `recompute` makes a labelled recomputation of a frozen one."""
        data = SnapshotActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        snapshot = services.snapshot_run(
            action=data.validated_data["action"],
            period=data.validated_data["period"],
            acting_user=request.user,
            label=data.validated_data["label"],
        )
        return Response(SnapshotDetailSerializer(snapshot, context={"request": request}).data, status=201)


class RowSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    district_code = serializers.CharField(source="district.code", default=None)

    class Meta:
        model = SnapshotRow
        fields = [
            "unit",
            "unit_code",
            "unit_name",
            "scope",
            "district_code",
            "total_orders",
            "valid",
            "valid_full",
            "contacted",
            "resolved",
            "satisfied",
            "basic",
            "unsatisfied",
            "excluded",
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
            "composite",
            "rank_in_district",
            "rank_citywide",
            "movement_in_district",
            "movement_citywide",
            "flagged",
            "bottom_in_district",
            "bottom_citywide",
        ]


def _snapshot_from(request) -> Snapshot:
    snapshot_id = request.query_params.get("snapshot")
    if snapshot_id:
        if numbers.parse_id(snapshot_id) is None:
            raise NotFound()
        return get_object_or_404(selectors.snapshots(with_stats=False), pk=snapshot_id)
    period = request.query_params.get("period") or rulesets.current_period()
    periods.parse(period)
    snapshot = selectors.published_snapshot(period, with_stats=False)
    if snapshot is None:
        raise NotFound(_("该周期尚无考核结果。"))
    return snapshot


PERIOD_PARAMS = [
    OpenApiParameter("period", str, description="YYYY-MM (default: current)"),
    OpenApiParameter("snapshot", int, description="a snapshot id instead of the period's published one"),
]


class RankingView(APIView):
    permission_classes = [MANAGERS]

    @extend_schema(
        parameters=[
            *PERIOD_PARAMS,
            OpenApiParameter("scope", str, enum=Scope.values, description="street | district | department"),
            OpenApiParameter(
                "district",
                str,
                description="streets and departments within this district (code), or `city` for the whole city; "
                "default: a district manager's own district, the whole city for the city center. "
                "The districts table is always the whole city's.",
            ),
        ],
        responses=inline_serializer(
            "Ranking",
            {
                "snapshot": SnapshotSerializer(),
                "min_valid_callbacks": serializers.IntegerField(),
                "rows": RowSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        scope = request.query_params.get("scope", Scope.STREET)
        if scope not in Scope.values:
            raise ValidationError({"scope": _("范围只能是 street、district 或 department。")})
        table = selectors.ranking_for(request.user, scope=scope, district=request.query_params.get("district", ""))
        snapshot = _snapshot_from(request)
        return Response(
            {
                "snapshot": SnapshotSerializer(snapshot).data,
                "min_valid_callbacks": snapshot.ruleset.min_valid_callbacks,
                "rows": RowSerializer(table.rows(snapshot), many=True).data,
            }
        )


class RatesView(APIView):
    """One unit's figures in a period, with its trend and where it lost points."""

    permission_classes = [ASSESSED]

    @extend_schema(
        parameters=[*PERIOD_PARAMS, OpenApiParameter("unit", int, description="default: your unit")],
        responses=inline_serializer(
            "UnitRates",
            {
                "snapshot": SnapshotSerializer(),
                "row": RowSerializer(allow_null=True),
                "lost_points": serializers.DictField(child=serializers.IntegerField()),
                "trend": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        snapshot = _snapshot_from(request)
        unit_id = request.query_params.get("unit") or request.user.unit_id
        if numbers.parse_id(unit_id) is None:
            raise NotFound()
        unit = get_object_or_404(Unit, pk=unit_id)
        if not access.may_view_unit_figures(request.user, unit):
            raise AccessDenied()
        row = selectors.unit_row(snapshot, unit)
        return Response(
            {
                "snapshot": SnapshotSerializer(snapshot).data,
                "row": RowSerializer(row).data if row else None,
                "lost_points": selectors.lost_points(snapshot, unit),
                "trend": selectors.trend(unit, until=snapshot.period),
            }
        )


class BehindOrderSerializer(serializers.Serializer):
    """One callback fact behind a figure, with the values as counted (frozen: as frozen)."""

    id = serializers.IntegerField(source="order_id")
    fact = serializers.IntegerField(source="pk")
    round = serializers.IntegerField()
    number = serializers.CharField(source="order.number")
    callback_at = serializers.DateTimeField()
    request_type = serializers.CharField()
    category = serializers.CharField(source="category.name")
    street = serializers.CharField(source="order.street.name", default=None)
    contacted = serializers.BooleanField(allow_null=True)
    solved = serializers.CharField()
    satisfaction = serializers.CharField()
    comment = serializers.CharField()
    excluded = serializers.SerializerMethodField()
    differs_now = serializers.SerializerMethodField()

    def get_excluded(self, obj) -> bool:
        return bool((obj.counted_bits or 0) & rates.BIT_EXCLUDED)

    def get_differs_now(self, obj) -> list[str]:
        return selectors.differs_now(obj)


class OrdersBehindView(APIView):
    permission_classes = [ASSESSED]

    @extend_schema(
        parameters=[
            *PERIOD_PARAMS,
            OpenApiParameter("unit", int, required=True),
            OpenApiParameter("scope", str, enum=Scope.values),
            OpenApiParameter("measure", str, enum=list(rates.MEASURES)),
        ],
        responses=BehindOrderSerializer(many=True),
    )
    def get(self, request):

        snapshot = _snapshot_from(request)
        unit_id = request.query_params.get("unit", "")
        if numbers.parse_id(unit_id) is None:
            raise ValidationError({"unit": _("请指定单位。")})
        unit = get_object_or_404(Unit, pk=unit_id)
        scope = request.query_params.get("scope") or selectors.scope_of_unit(unit)
        if scope not in Scope.values:
            raise ValidationError({"scope": _("范围只能是 street、district 或 department。")})
        qs = selectors.orders_behind(
            request.user,
            snapshot=snapshot,
            unit=unit,
            scope=scope,
            measure=request.query_params.get("measure", "valid"),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(BehindOrderSerializer(page, many=True).data)


class ReportSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="daily | weekly | monthly")
    district_code = serializers.CharField(source="district.code", default=None)
    download = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "district_code",
            "period_start",
            "period_end",
            "title",
            "content",
            "generated_at",
            "download",
        ]

    def get_download(self, obj) -> str | None:

        return reverse("assessment-report-download", args=[obj.pk]) if obj.file else None


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Report.objects.none()
    serializer_class = ReportSerializer
    permission_classes = [MANAGERS]
    filterset_fields = ["kind"]

    def get_queryset(self):
        return governance.visible_reports(self.request.user).order_by("-period_start", "kind")
