"""REST API of the callback stage: the same functions as the pages (workorders.callbacks), scoped
through hotline.access. Domain errors become 400/403 in hotline.api.exception_handler."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from districts.models import Unit
from hotline import access, numbers
from hotline.web.api import gate
from workorders.callbacks import selectors
from workorders.lifecycle import attachments, callbacks, exclusions, self_evaluations
from workorders.lifecycle.callbacks import Answers
from workorders.lifecycle.machinery import ROUTABLE_KINDS
from workorders.models import (
    Callback,
    CallbackAttempt,
    ExclusionEvidence,
    ExclusionRequest,
    OrderEvent,
    Result,
    Satisfaction,
    SelfEvaluationLink,
    WorkOrder,
)


# --- serializers ----------------------------------------------------------------------------------------
class QueueOrderSerializer(serializers.ModelSerializer):
    lead_unit_name = serializers.CharField(source="lead_unit.name", read_only=True)
    district_name = serializers.CharField(source="district.name", default=None, read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    waiting_since = serializers.DateTimeField(read_only=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "number",
            "title",
            "round",
            "state",
            "state_display",
            "lead_unit",
            "lead_unit_name",
            "district",
            "district_name",
            "closed_at",
            "resolution_deadline",
            "waiting_since",
            "is_overdue",
            "result",
            "result_note",
        ]

    def get_is_overdue(self, obj) -> bool:
        return bool(getattr(obj, "is_overdue", 0))


class AttemptSerializer(serializers.ModelSerializer):
    agent_name = serializers.CharField(source="agent.display_name", default=None, read_only=True)

    class Meta:
        model = CallbackAttempt
        fields = ["at", "result", "agent", "agent_name", "note"]


class CallbackSerializer(serializers.ModelSerializer):
    attempts = AttemptSerializer(many=True, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    is_valid = serializers.SerializerMethodField()

    class Meta:
        model = Callback
        fields = [
            "id",
            "order",
            "round",
            "status",
            "status_display",
            "is_valid",
            "channel",
            "agent",
            "contacted",
            "solved",
            "satisfaction",
            "comment",
            "created_at",
            "completed_at",
            "attempts",
        ]

    def get_is_valid(self, obj) -> bool:
        return obj.status == Callback.Status.VALID


class CallbackEventSerializer(serializers.ModelSerializer):
    actor_unit_name = serializers.CharField(source="actor_unit.name", default=None, read_only=True)

    class Meta:
        model = OrderEvent
        fields = [
            "at",
            "kind",
            "round",
            "from_state",
            "to_state",
            "actor",
            "actor_unit",
            "actor_unit_name",
            "note",
            "data",
        ]


class OutcomeSerializer(serializers.ModelSerializer):
    """The per-order facts the assessment counts."""

    class Meta:
        model = WorkOrder
        fields = [
            "round",
            "responded_in_time",
            "callback_valid",
            "callback_at",
            "contacted",
            "solved",
            "satisfaction",
            "excluded",
            "assessed_unit",
        ]


class CallbackOrderSerializer(serializers.ModelSerializer):
    lead_unit_name = serializers.CharField(source="lead_unit.name", read_only=True)
    outcome = serializers.SerializerMethodField()
    callbacks = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "number",
            "title",
            "state",
            "round",
            "lead_unit",
            "lead_unit_name",
            "closed_at",
            "resolution_deadline",
            "result",
            "result_note",
            "action_taken",
            "outcome",
            "callbacks",
            "events",
        ]

    @extend_schema_field(OutcomeSerializer)
    def get_outcome(self, obj) -> dict:
        return OutcomeSerializer(obj).data

    @extend_schema_field(CallbackSerializer(many=True))
    def get_callbacks(self, obj) -> list[dict]:
        return CallbackSerializer(selectors.callbacks_of(obj), many=True).data

    @extend_schema_field(CallbackEventSerializer(many=True))
    def get_events(self, obj) -> list[dict]:
        return CallbackEventSerializer(selectors.history(obj), many=True).data


class AttemptInput(serializers.Serializer):
    result = serializers.ChoiceField(choices=CallbackAttempt.Result.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class AnswersInput(serializers.Serializer):
    round = serializers.IntegerField(
        min_value=1, required=False, help_text=_("回访针对的轮次（防止重复提交；默认当前轮次）")
    )
    contacted = serializers.BooleanField()
    solved = serializers.ChoiceField(choices=Result.choices)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    redispatch_unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(kind__in=ROUTABLE_KINDS),
        required=False,
        allow_null=True,
        help_text=_("不满意或未完全解决时再派件的承办单位（默认原承办单位）"),
    )


class SelfLinkSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = SelfEvaluationLink
        fields = ["id", "order", "round", "url", "created_at", "expires_at", "used_at"]

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(self_evaluations.self_evaluation_url(obj))


class SendBackInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


# --- callbacks ---------------------------------------------------------------------------------------------
@extend_schema(tags=["callbacks"])
class CallbackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The callback queue (orders closed by their unit or past their resolution limit, oldest first)
    and, per order, the callback of each round with its attempts."""

    queryset = WorkOrder.objects.none()  # for the schema; requests use get_queryset()
    permission_classes = [gate(access.Cap.CALL_BACK)]
    filter_backends = []

    def get_serializer_class(self):
        return CallbackOrderSerializer if self.action == "retrieve" else QueueOrderSerializer

    def get_queryset(self):
        if self.action == "list":
            p = self.request.query_params
            district = p.get("district", "")
            lead_unit = p.get("lead_unit", "")
            return selectors.callback_queue(
                user=self.request.user,
                kind=p.get("kind", "") if p.get("kind", "") in selectors.QUEUE_KINDS else "",
                district=numbers.id_param(district, field="district"),
                lead_unit=numbers.id_param(lead_unit, field="lead_unit"),
                q=p.get("q", "")[:40],
            )
        return access.visible_orders(self.request.user).select_related("lead_unit")

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=list(selectors.QUEUE_KINDS), description="closed | overdue"),
            OpenApiParameter("district", int),
            OpenApiParameter("lead_unit", int),
            OpenApiParameter("q", str, description=_("工单编号前缀或标题关键词")),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=AttemptInput, responses=CallbackSerializer)
    @action(detail=True, methods=["post"])
    def attempts(self, request, pk=None):
        order = self.get_object()
        data = _valid(AttemptInput, request)
        callback = callbacks.callback_attempt(order, actor=request.user, result=data["result"], note=data["note"])
        return Response(CallbackSerializer(callback).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AnswersInput,
        responses={
            200: CallbackSerializer,
            409: inline_serializer(
                "CallbackConflict",
                {"detail": serializers.CharField(), "code": serializers.CharField(), "recorded": CallbackSerializer()},
            ),
        },
        description=_(
            "记录市民答复（有效回访）。同一回访员重复提交同一轮次只记录一次，返回已有结果；"
            "该轮已由其他回访员记录时返回 409 及已记录的答复。"
        ),
    )
    @action(detail=True, methods=["post"])
    def answers(self, request, pk=None):
        order = self.get_object()
        data = _valid(AnswersInput, request)
        callback = callbacks.callback_record(
            order,
            actor=request.user,
            answers=Answers(data["contacted"], data["solved"], data["satisfaction"], data["comment"]),
            round=data.get("round"),
            redispatch_unit=data.get("redispatch_unit"),
        )
        conflict = callbacks.answered_by_another(callback, request.user)
        if conflict:
            # Another agent's answer won: 409 with the answer that was recorded.
            return Response(
                {"detail": conflict, "code": "already_recorded", "recorded": CallbackSerializer(callback).data},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(CallbackSerializer(callback).data)

    @extend_schema(request=None, responses={201: SelfLinkSerializer})
    @action(detail=True, methods=["post"], url_path="self-evaluation-links")
    def self_evaluation_links(self, request, pk=None):
        order = self.get_object()
        link = self_evaluations.self_evaluation_link_create(order, actor=request.user)
        return Response(SelfLinkSerializer(link, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SendBackInput,
        responses=inline_serializer("SentBack", {"id": serializers.IntegerField(), "state": serializers.CharField()}),
    )
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        order = self.get_object()
        data = _valid(SendBackInput, request)
        order = callbacks.order_send_back(order, actor=request.user, reason=data["reason"])
        return Response({"id": order.pk, "state": order.state})


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- exclusions ------------------------------------------------------------------------------------------
class EvidenceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExclusionEvidence
        fields = ["id", "name", "size", "content_type", "uploaded_at", "url"]

    def get_url(self, obj) -> str:

        return reverse("api-exclusion-evidence", args=[obj.request_id, obj.pk])


class ExclusionSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    order_excluded = serializers.BooleanField(source="order.excluded", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = ExclusionRequest
        fields = [
            "id",
            "order",
            "order_number",
            "order_excluded",
            "unit",
            "unit_name",
            "requested_by",
            "reason",
            "reason_display",
            "explanation",
            "state",
            "state_display",
            "created_at",
            "district_decided_by",
            "district_decided_at",
            "district_note",
            "city_decided_by",
            "city_decided_at",
            "city_note",
            "revoked_by",
            "revoked_at",
            "revoke_note",
            "evidence",
        ]


class ExclusionInput(serializers.Serializer):
    order = serializers.IntegerField(help_text=_("工单 id"))
    reason = serializers.ChoiceField(choices=ExclusionRequest.Reason.choices)
    explanation = serializers.CharField(max_length=4000)
    evidence = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text=_("证据文件（可多个）")
    )


class DecisionInput(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RevokeInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


@extend_schema(tags=["exclusions"])
class ExclusionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Exclusion requests (剔除): filed by the order's lead unit, decided by its district, then the
    city; the city may revoke an approved one. Pending requests come first."""

    queryset = ExclusionRequest.objects.none()
    serializer_class = ExclusionSerializer
    permission_classes = [gate(access.Cap.EXCLUSIONS)]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends = []

    def get_queryset(self):
        qs = selectors.exclusion_list(
            user=self.request.user, state=self.request.query_params.get("state", "") if self.action == "list" else ""
        ).prefetch_related("evidence")
        order = self.request.query_params.get("order", "")
        if self.action == "list" and (order_id := numbers.id_param(order, field="order")) is not None:
            qs = qs.filter(order_id=order_id)
        return qs

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=ExclusionRequest.State.values),
            OpenApiParameter("order", int, description=_("只看某工单的剔除申请")),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": ExclusionInput},
        responses={201: ExclusionSerializer},
        operation_id="exclusions_create",
    )
    def create(self, request):
        data = _valid(ExclusionInput, request)
        order = access.visible_orders(request.user).filter(pk=data["order"]).first()
        if order is None:
            raise Http404
        exclusion = exclusions.exclusion_request(
            order,
            actor=request.user,
            reason=data["reason"],
            explanation=data["explanation"],
            files=request.FILES.getlist("evidence"),
        )
        return Response(ExclusionSerializer(self.get_queryset().get(pk=exclusion.pk)).data, status=201)

    @extend_schema(request=DecisionInput, responses=ExclusionSerializer)
    @action(detail=True, methods=["post"], url_path="district-decision")
    def district_decision(self, request, pk=None):
        data = _valid(DecisionInput, request)
        exclusion = exclusions.exclusion_decide_district(
            self.get_object(), actor=request.user, approve=data["approve"], note=data["note"]
        )
        return Response(ExclusionSerializer(self.get_queryset().get(pk=exclusion.pk)).data)

    @extend_schema(request=DecisionInput, responses=ExclusionSerializer)
    @action(detail=True, methods=["post"], url_path="city-decision")
    def city_decision(self, request, pk=None):
        data = _valid(DecisionInput, request)
        exclusion = exclusions.exclusion_decide_city(
            self.get_object(), actor=request.user, approve=data["approve"], note=data["note"]
        )
        return Response(ExclusionSerializer(self.get_queryset().get(pk=exclusion.pk)).data)

    @extend_schema(request=RevokeInput, responses=ExclusionSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        data = _valid(RevokeInput, request)
        exclusion = exclusions.exclusion_revoke(self.get_object(), actor=request.user, note=data["note"])
        return Response(ExclusionSerializer(self.get_queryset().get(pk=exclusion.pk)).data)

    @extend_schema(request=None, responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path=r"evidence/(?P<evidence_id>\d+)", url_name="evidence")
    def evidence(self, request, pk=None, evidence_id=None):
        exclusion = self.get_object()
        evidence = exclusion.evidence.filter(pk=evidence_id).first()
        if evidence is None:
            raise Http404
        return attachments.file_response(
            evidence.file, name=evidence.name, content_type=evidence.content_type, inline_allowed=False
        )
