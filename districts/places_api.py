"""The hand-chosen place's look-ups: streets/townships by Chinese, pinyin or initials, and the
communities/villages of one street. Reference data: any signed-in role."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from districts.models import Division
from districts.places import communities_search, streets_search
from hotline import numbers


class PlaceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    district_code = serializers.CharField()
    district_name = serializers.CharField()
    py = serializers.CharField(help_text=_("全拼"))
    ini = serializers.CharField(help_text=_("拼音首字母"))


def _answer(rows, cut_off):
    return Response({"results": PlaceSerializer(rows, many=True).data, "cut_off": cut_off})


PLACES_RESPONSE = inline_serializer(
    "PlaceList", {"results": PlaceSerializer(many=True), "cut_off": serializers.BooleanField()}
)


class StreetsView(APIView):
    """Streets/townships matching the query (empty: all), grouped by district in code order."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="places_streets",
        summary=_("手选街乡镇"),
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description=_("汉字、全拼或拼音首字母"))],
        responses=PLACES_RESPONSE,
    )
    def get(self, request):
        rows, cut_off = streets_search(request.query_params.get("q", ""), limit=400)
        return _answer(rows, cut_off)


class CommunitiesView(APIView):
    """The communities/villages of one street/township."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="places_communities",
        summary=_("街乡镇下的社区/村"),
        parameters=[
            OpenApiParameter("street", OpenApiTypes.STR, required=True, description=_("9 位街乡镇代码")),
            OpenApiParameter("q", OpenApiTypes.STR, description=_("汉字、全拼或拼音首字母")),
        ],
        responses=PLACES_RESPONSE,
    )
    def get(self, request):
        code = request.query_params.get("street", "").strip()
        street = (
            Division.objects.filter(code=code, level=Division.Level.STREET).first()
            if numbers.ascii_digits(code) and len(code) == 9
            else None
        )
        if street is None:
            raise ValidationError({"street": [gettext("未知的街乡镇。")]})
        rows, cut_off = communities_search(street, request.query_params.get("q", ""))
        return _answer(rows, cut_off)
