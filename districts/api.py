import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from districts.models import Alias, Division, Unit


class DivisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Division
        fields = ["id", "code", "name", "core_name", "level", "kind", "parent", "district"]


class DivisionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("名称或代码"))

    class Meta:
        model = Division
        fields = ["level", "kind", "parent", "district", "code"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__contains=value) | Q(code__startswith=value))


class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Official divisions are public reference data: every signed-in role may read them."""

    queryset = Division.objects.all()
    serializer_class = DivisionSerializer
    filterset_class = DivisionFilter


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind", "sector", "division", "district", "is_active"]


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """The directory of units (names and kinds), which every role needs to address a whistle or a
    transfer. Figures about a unit are scoped elsewhere."""

    queryset = Unit.objects.all()
    serializer_class = UnitSerializer
    filterset_fields = ["kind", "district", "sector", "is_active"]


class AliasSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alias
        fields = ["id", "name", "kind", "division", "note"]


class AliasViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Alias.objects.select_related("division")
    serializer_class = AliasSerializer
    filterset_fields = ["kind", "division"]
