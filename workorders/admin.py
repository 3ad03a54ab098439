from django.contrib import admin

from workorders.models import Notification, OrderRequest, UrgencyTier, WebhookEndpoint, Whistle, WorkOrder
from workorders.notifications.admin import WebhookEndpointAdminMixin


@admin.register(UrgencyTier)
class UrgencyTierAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "response_limit",
        "response_unit",
        "resolution_limit",
        "resolution_unit",
        "warn_ratio",
        "sort",
    ]
    list_editable = ["response_limit", "response_unit", "resolution_limit", "resolution_unit", "warn_ratio"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Orders change only through the transitions; the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "state", "lead_unit", "district", "dispatched_at", "resolution_deadline"]
    list_filter = ["state", "tier"]
    search_fields = ["number", "title"]
    show_full_result_count = False
    raw_id_fields = ["call", "category", "community", "street", "district", "lead_unit", "created_by", "assessed_unit"]


@admin.register(Whistle)
class WhistleAdmin(ReadOnlyAdmin):
    list_display = ["order", "to_unit", "level", "state", "report_by", "reported_at"]
    list_filter = ["level", "state"]
    raw_id_fields = ["order"]


@admin.register(OrderRequest)
class OrderRequestAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "state", "unit", "requested_at", "decided_at"]
    list_filter = ["kind", "state"]
    raw_id_fields = ["order"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(WebhookEndpointAdminMixin, admin.ModelAdmin):
    list_display = ["name", "url", "unit", "is_active"]
    autocomplete_fields = ["unit"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "title", "read_at", "sent_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "order"]
