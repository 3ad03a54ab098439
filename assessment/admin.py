from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from assessment import rulesets
from assessment.models import Alert, CallbackFact, ExclusionFact, MonthlyTopic, Report, RuleSet, Snapshot
from hotline.errors import DomainError


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    """Rule versions are never edited: "add" starts from the active version and publishes a new
    one through the same service as the page and the API."""

    list_display = [
        "version",
        "is_active",
        "response_weight",
        "resolution_weight",
        "satisfaction_weight",
        "basic_factor",
        "period_start_day",
        "min_valid_callbacks",
        "bottom_n",
        "created_at",
        "created_by",
        "note",
    ]
    fields = list(rulesets.RULE_FIELDS)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else []

    def get_changeform_initial_data(self, request):
        active = rulesets.ruleset_active()
        return {k: getattr(active, k) for k in rulesets.RULE_FIELDS}

    def save_model(self, request, obj, form, change):
        values = {k: form.cleaned_data[k] for k in rulesets.RULE_FIELDS}
        try:
            published = rulesets.ruleset_publish(acting_user=request.user, **values)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            raise
        obj.pk = published.pk
        obj.version = published.version

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError:
            return HttpResponseRedirect(request.path)


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["period", "kind", "ruleset", "computed_at", "label"]
    list_filter = ["kind", "period"]
    readonly_fields = [f.name for f in Snapshot._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["raised_at", "kind", "category", "street", "community", "calls", "notified"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "district", "period_start", "generated_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MonthlyTopic)
class MonthlyTopicAdmin(admin.ModelAdmin):
    """Topics are set on the governance page (governance.topic_create checks period, district and
    duplicates); here their wording can be corrected, not what they count."""

    list_display = ["period", "title", "category", "district", "created_by"]
    list_filter = ["period"]
    readonly_fields = ["period", "category", "district", "created_by"]
    verbose_name = _("每月一题")

    def has_add_permission(self, request):
        return False


class _FactAdmin(admin.ModelAdmin):
    """Facts are shown, never added, changed or deleted here: a correction is a new fact made by
    assessment.facts.correct (with a reason) that supersedes the old one."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


@admin.register(CallbackFact)
class CallbackFactAdmin(_FactAdmin):
    list_display = [
        "id",
        "order",
        "round",
        "assessed_unit",
        "callback_at",
        "valid",
        "contacted",
        "solved",
        "satisfaction",
        "scope",
        "supersedes",
        "reason",
    ]
    list_select_related = ["order", "assessed_unit", "supersedes"]
    raw_id_fields = ["order", "callback", "assessed_unit", "district", "category", "supersedes", "recorded_by"]
    show_full_result_count = False


@admin.register(ExclusionFact)
class ExclusionFactAdmin(_FactAdmin):
    list_display = ["id", "order", "kind", "at", "excludes", "revokes", "note"]
    list_select_related = ["order"]
    raw_id_fields = ["order", "request", "excludes", "revokes", "recorded_by"]
    show_full_result_count = False
