from dataclasses import asdict

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from districts.models import Division
from districts.routing import route_address

MAX_QUERY_LENGTH = 200


class RouteQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, default="")
    district = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_q(self, value: str) -> str:
        if not value:
            raise serializers.ValidationError(gettext("请输入要定位的地址。"))
        if len(value) > MAX_QUERY_LENGTH:
            raise serializers.ValidationError(gettext("地址不能超过 %(max)d 个字符。") % {"max": MAX_QUERY_LENGTH})
        return value

    def validate_district(self, value: str) -> str:
        if value and not Division.objects.filter(code=value, level=Division.Level.DISTRICT).exists():
            raise serializers.ValidationError(gettext("区代码应为 6 位的北京市辖区代码，例如 110106。"))
        return value


class CandidateSerializer(serializers.Serializer):
    street_id = serializers.IntegerField()
    street_code = serializers.CharField()
    street_name = serializers.CharField()
    district_code = serializers.CharField()
    district_name = serializers.CharField()
    score = serializers.IntegerField(help_text=_("越高越可信，只用于排序"))
    reason = serializers.CharField(help_text=_("为什么推荐这个街乡，例如 “洋桥北里社区 → 西罗园街道”"))
    matched = serializers.CharField(help_text=_("地址中命中的文字"))


class RouteResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    candidates = CandidateSerializer(many=True)


class RouteView(APIView):
    """Suggest the street/township offices for a free-text address (派单定位). Any signed-in role:
    it reads only public reference data."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="route_address",
        summary=_("地址定位到街乡"),
        description=_(
            "按官方区、街乡、社区/村名称（含简称和旧称）及别名匹配地址文字，返回排序后的候选街道/乡镇。"
            "同名地点分属不同区而地址未说明时，全部返回，不做猜测。"
        ),
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description=_("地址文字，最多 200 字")),
            OpenApiParameter("district", OpenApiTypes.STR, description=_("只在此区内查找：6 位区代码，例如 110106")),
        ],
        responses={
            200: RouteResponseSerializer,
            400: inline_serializer(
                "RouteError",
                {
                    "q": serializers.ListField(child=serializers.CharField(), required=False),
                    "district": serializers.ListField(child=serializers.CharField(), required=False),
                },
            ),
        },
    )
    def get(self, request):
        params = RouteQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data["q"]
        candidates = route_address(query, district_code=params.validated_data["district"] or None)
        return Response({"query": query, "candidates": [asdict(c) for c in candidates]})
