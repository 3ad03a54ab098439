"""The global search over the API (POST, so a phone number never appears in a URL)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline import access
from hotline.accounts.login import client_ip
from hotline.search.selectors import MAX_QUERY, search_orders
from hotline.web.api import gate


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    state_display = serializers.CharField(source="get_state_display")
    lead_unit = serializers.CharField(source="lead_unit.name")
    resolution_deadline = serializers.DateTimeField()
    title = serializers.CharField()
    address = serializers.CharField()
    dispatched_at = serializers.DateTimeField()


class SearchView(APIView):
    permission_classes = [gate(access.Cap.SEARCH)]

    @extend_schema(
        operation_id="search_orders",
        summary=_("搜索工单"),
        description=_("工单编号任意几位、来电号码、来电人、地址、标题、诉求内容或办理情况；只在本人可见的工单中查找。"),
        request=inline_serializer("SearchRequest", {"q": serializers.CharField()}),
        responses=inline_serializer(
            "SearchResponse",
            {
                "query": serializers.CharField(),
                "message": serializers.CharField(),
                "note": serializers.CharField(),
                "cut_off": serializers.BooleanField(),
                "results": SearchHitSerializer(many=True),
            },
        ),
    )
    def post(self, request):
        raw = request.data.get("q", "") if isinstance(request.data, dict) else ""
        raw = raw if isinstance(raw, str) else ""
        result = search_orders(
            user=request.user, raw_query=raw[: MAX_QUERY * 4], via="api", ip_address=client_ip(request)
        )
        return Response(
            {
                "query": result.query,
                "message": str(result.message),
                "note": str(result.note),
                "cut_off": result.cut_off,
                "results": SearchHitSerializer(result.orders, many=True).data,
            }
        )
