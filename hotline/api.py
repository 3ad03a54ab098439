import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hotline import access, services
from hotline.errors import AccessDenied, DomainError
from hotline.forms import client_ip
from hotline.models import Call, Role, User
from hotline.privacy import mask_phone


def exception_handler(exc, context):
    """Domain errors become 400 (403 for access) with their translated message."""
    if isinstance(exc, AccessDenied):
        return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class RolePermission:
    """Use as `permission_classes = [RolePermission.for_roles(...)]`."""

    @staticmethod
    def for_roles(*roles):
        from rest_framework.permissions import BasePermission

        class _Allowed(BasePermission):
            message = _("您的角色无权访问此接口。")

            def has_permission(self, request, view):
                return access.has_role(request.user, *roles)

        return _Allowed


class MeSerializer(serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    unit_name = serializers.CharField(source="unit.name", default=None, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "role", "role_display", "unit", "unit_name"]


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    return Response(MeSerializer(request.user).data)


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


class CallFilter(django_filters.FilterSet):
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="search", label=_("关键词"))
    category = django_filters.CharFilter(field_name="category__code", label=_("分类编码"))

    class Meta:
        model = Call
        fields = ["request_type", "channel", "district", "street", "outcome"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(address__icontains=value) | Q(description__icontains=value))


class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Call.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = CallSerializer
    filterset_class = CallFilter
    permission_classes = [RolePermission.for_roles(Role.AGENT, Role.STREET, Role.DISTRICT, Role.CITY)]

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
