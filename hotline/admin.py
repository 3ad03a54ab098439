from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from hotline.models import Call, PersonalDataAccess, User
from hotline.privacy import mask_phone


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "role", "unit", "is_active"]
    list_filter = ["role", "is_active", "unit__kind"]
    search_fields = ["username", "first_name", "last_name", "unit__name"]
    autocomplete_fields = ["unit"]
    fieldsets = (*BaseUserAdmin.fieldsets, (_("岗位"), {"fields": ["role", "unit"]}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("岗位"), {"fields": ["role", "unit"]}))


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["received_at", "request_type", "channel", "masked_phone", "district", "street", "agent"]
    list_filter = ["request_type", "channel"]
    date_hierarchy = "received_at"
    search_fields = ["address", "description"]
    raw_id_fields = ["district", "street", "agent"]
    exclude = ["caller_phone"]  # reveal through the logged action on the call pages, not here

    @admin.display(description=_("来电号码"))
    def masked_phone(self, obj):
        return mask_phone(obj.caller_phone)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "call", "field", "via", "ip_address"]
    list_filter = ["via", "field"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
