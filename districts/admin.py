from django.contrib import admin

from districts.models import Alias, Division, Section, Unit


class AliasInline(admin.TabularInline):
    model = Alias
    extra = 1
    fields = ["name", "kind", "note"]


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "kind", "parent"]
    list_filter = ["level", "kind", "district"]
    search_fields = ["code", "name", "core_name"]
    readonly_fields = ["code", "name", "core_name", "level", "kind", "parent", "district"]
    inlines = [AliasInline]
    list_select_related = ["parent"]

    def has_add_permission(self, request):
        return False  # official data comes from the loader, not by hand

    def has_delete_permission(self, request, obj=None):
        return False


class SectionInline(admin.TabularInline):
    model = Section
    extra = 1
    fields = ["name", "kind", "division", "is_active", "sort"]
    raw_id_fields = ["division"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "sector", "district", "is_active"]
    list_filter = ["kind", "sector", "is_active", "district"]
    search_fields = ["code", "name"]
    raw_id_fields = ["division", "district"]
    inlines = [SectionInline]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "unit", "division", "is_active", "sort"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "unit__name"]
    raw_id_fields = ["unit", "division"]
    list_select_related = ["unit", "division"]


@admin.register(Alias)
class AliasAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "division", "note", "created_at"]
    list_filter = ["kind", "division__district"]
    search_fields = ["name", "division__name"]
    autocomplete_fields = ["division"]
    list_select_related = ["division"]
