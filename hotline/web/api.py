from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hotline import access, numbers
from hotline.errors import AccessDenied, DomainError
from hotline.models import User


def exception_handler(exc, context):
    """Domain errors become 400 (403 for access) with their translated message."""
    if isinstance(exc, AccessDenied):
        return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        # a model or form validator reached from an API view: the client's input, not a server fault
        return Response({"detail": " ".join(str(m) for m in exc.messages), "code": "invalid"}, status=400)
    return drf_exception_handler(exc, context)


# --- JSON bodies handed to Django forms ----------------------------------------------------------
# A Django form turns whatever it is given into text: `["a", "b"]` would be stored as "['a', 'b']",
# a JSON number as a date string. Every API view that hands request.data to a form passes it through
# form_data() first, which refuses the wrong JSON types with a 400 and changes nothing else.
_NUMBER_FIELDS = (forms.IntegerField, forms.FloatField, forms.DecimalField, forms.ModelChoiceField)
_MULTI_FIELDS = (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _takes_id(field) -> bool:
    """A field whose value is an id or a whole number: Django would read "١٢٣" as 123 and fail on
    1e400 (a JSON float); only ASCII digits and whole JSON numbers within the id range may pass."""
    if isinstance(field, forms.ModelChoiceField) and not isinstance(field, forms.ModelMultipleChoiceField):
        return field.to_field_name in (None, field.queryset.model._meta.pk.name)
    if isinstance(field, forms.FloatField | forms.DecimalField):  # both subclass IntegerField
        return False
    return isinstance(field, forms.IntegerField) or (isinstance(field, forms.TypedChoiceField) and field.coerce is int)


def _id_error(name, field, value) -> str | None:
    if not _takes_id(field) or value in ("", None) or numbers.ascii_int(value) is not None:
        return None
    return numbers.NotANumber(name).message


def _type_error(field, value) -> str | None:
    if isinstance(field, forms.FileField):
        return gettext("文件请以 multipart/form-data 上传。")
    if isinstance(field, _MULTI_FIELDS):
        if not isinstance(value, list) or not all(isinstance(v, str) or _is_number(v) for v in value):
            return gettext("应为由编号或文本组成的列表。")
        return None
    if isinstance(field, forms.BooleanField | forms.NullBooleanField):
        return None if isinstance(value, bool | str) else gettext("应为 true 或 false。")
    if isinstance(field, _NUMBER_FIELDS) or (isinstance(field, forms.TypedChoiceField) and field.coerce is int):
        return None if isinstance(value, str) or _is_number(value) else gettext("应为数字。")
    if field is None:
        return None if isinstance(value, str | bool) or _is_number(value) else gettext("应为文本。")
    return None if isinstance(value, str) else gettext("应为文本。")


def form_data(request, form_class: type[forms.BaseForm]):
    """request.data checked for the JSON types `form_class` can take; form-encoded data (all text)
    passes unchanged. Raises DRF's ValidationError (400, one message per field)."""
    data = request.data
    fields = form_class.base_fields
    if isinstance(data, QueryDict):
        errors = {
            name: [problem]
            for name, values in data.lists()
            for value in values
            if (problem := _id_error(name, fields.get(name), value))
        }
        if errors:
            raise ValidationError(errors)
        return data
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [gettext("请求体应为 JSON 对象或表单。")]})
    errors, cleaned = {}, {}
    for name, value in data.items():
        if value is None:
            continue  # null: as if not sent
        if problem := _type_error(fields.get(name), value) or _id_error(name, fields.get(name), value):
            errors[name] = [problem]
        else:
            cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


MAX_IDS = 1000  # ids in one bulk request


def id_list(value, *, field: str = "ids") -> list[int] | None:
    """An optional JSON list of positive integer ids (None when absent); anything else is a 400."""
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) <= MAX_IDS
    # whole JSON numbers only (no floats such as 1e400, no booleans), within the id column's range
    if not ok or not all(type(v) is int and numbers.parse_id(v) for v in value):
        raise ValidationError({field: [gettext("应为由正整数编号组成的列表。")]})
    return list(value)


class HotlineAutoSchema(AutoSchema):
    """The OpenAPI schema as the answers really are: a field declared with `default=None` (a related
    object's name through a nullable foreign key, say) answers null when there is none, so the
    schema says it is nullable."""

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if isinstance(field, serializers.Field) and field.default is None:
            meta["nullable"] = True
        return meta


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
