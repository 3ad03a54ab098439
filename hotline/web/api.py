from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hotline import access
from hotline.errors import AccessDenied, DomainError
from hotline.models import User


def exception_handler(exc, context):
    """Domain errors become 400 (403 for access) with their translated message."""
    if isinstance(exc, AccessDenied):
        return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def gate(capability: str) -> type[BasePermission]:
    """The API's side of access.GATES: `permission_classes = [gate(access.Cap.ORDERS)]`."""

    class Allowed(BasePermission):
        message = _("您的角色无权访问此接口。")

        def has_permission(self, request, view):
            return access.may(request.user, capability)

    Allowed.__name__ = f"Gate_{capability}"
    return Allowed


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
