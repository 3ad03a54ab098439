from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from hotline.intake.open311 import hash_key, new_key
from hotline.models import AdminSecondFactor, Call, PersonalDataAccess, User
from hotline.privacy import mask_phone


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "role", "unit", "is_active"]
    list_filter = ["role", "is_active", "unit__kind"]
    search_fields = ["username", "first_name", "last_name", "unit__name"]
    autocomplete_fields = ["unit"]
    fieldsets = (*BaseUserAdmin.fieldsets, (_("岗位"), {"fields": ["role", "unit", "section"]}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("岗位"), {"fields": ["role", "unit", "section"]}))


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


# --- Intake reference data: categories, dispatch catalogue, knowledge base, Open311 clients -------
from django.contrib import messages  # noqa: E402

from hotline.models import ApiClient, Category, DispatchRule, KnowledgeArticle  # noqa: E402


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "level", "parent", "default_tier", "is_active", "sort"]
    list_filter = ["level", "is_active", "default_tier"]
    search_fields = ["code", "name", "keywords"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent", "default_tier"]
    list_editable = ["default_tier", "is_active"]


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = [
        "category",
        "district",
        "street",
        "target",
        "department_slug",
        "unit",
        "co_street",
        "priority",
        "is_active",
    ]
    list_filter = ["target", "is_active", "category__parent__parent"]
    search_fields = ["category__name", "category__code", "department_slug", "note"]
    autocomplete_fields = ["category", "district", "street", "unit", "co_units"]
    list_select_related = ["category", "district", "street", "unit"]


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "keywords", "is_active", "updated_at"]
    list_filter = ["is_active", "category__parent__parent"]
    search_fields = ["title", "keywords", "body"]
    autocomplete_fields = ["category"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "acting_user", "is_active", "created_at", "last_used_at"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    autocomplete_fields = ["acting_user"]

    def save_model(self, request, obj, form, change):

        if not change:
            key = new_key()
            obj.key_prefix, obj.key_hash = key[:10], hash_key(key)
            messages.warning(request, _("新的 API 密钥（只显示这一次，请妥善转交）：%(key)s") % {"key": key})
        super().save_model(request, obj, form, change)


@admin.register(AdminSecondFactor)
class AdminSecondFactorAdmin(admin.ModelAdmin):
    """Who has enrolled an authenticator app. The secret is never shown here; deleting a record
    makes its owner enrol again (a lost phone)."""

    list_display = ["user", "confirmed_at", "created_at"]
    fields = ["user", "confirmed_at", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Personal API tokens: revoke only, never read or mint (hotline.accounts.token_admin) ----------
from hotline.accounts import token_admin  # noqa: E402

token_admin.register(admin.site)
