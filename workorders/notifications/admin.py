"""Where an operator sees outbound delivery: failed rows (with the reason) and a retry action, and
the webhook form that refuses URLs that may not receive notifications."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from workorders.models import WebhookEndpoint
from workorders.notifications import delivery
from workorders.notifications.models import Delivery
from workorders.notifications.selectors import delivery_backlog


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("地址"), max_length=300, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "unit", "is_active"]

    def __init__(self, *args, request_host: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.request_host = request_host

    def clean_url(self):
        url = self.cleaned_data["url"]
        problem = delivery.webhook_url_problem(url, request_host=self.request_host)
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean(self):
        cleaned = super().clean()
        url, active = cleaned.get("url"), cleaned.get("is_active")
        changed = {"url", "secret", "is_active"} & set(self.changed_data)
        if url and active and changed and not self.errors:
            problem = delivery.probe_redirect(url, cleaned.get("secret", ""))
            if problem:
                self.add_error("url", problem)
        return cleaned


class WebhookEndpointAdminMixin:
    """The admin form knows the host the administrator uses, so a URL pointing back at it is refused."""

    form = WebhookEndpointForm

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        host = request.get_host()

        class WithHost(form_class):
            def __init__(self, *args, **kw):
                kw.setdefault("request_host", host)
                super().__init__(*args, **kw)

        return WithHost


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "target", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "channel", "endpoint"]
    list_select_related = ["notification"]
    ordering = ["-id"]
    raw_id_fields = ["notification", "endpoint"]
    show_full_result_count = False
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        # The backlog's age on top of the list: what /healthz degrades on.
        backlog = delivery_backlog()
        level = messages.WARNING if backlog["behind"] else messages.INFO
        self.message_user(
            request,
            _(
                "已到期待发送 %(due)d 条，最早的已等待 %(age)d 秒（超过 %(limit)d 秒时 /healthz 报告降级）；"
                "发送失败 %(failed)d 条。"
            )
            % {
                "due": backlog["due"],
                "age": backlog["oldest_due_seconds"],
                "limit": backlog["degraded_after_seconds"],
                "failed": backlog["failed"],
            },
            level,
        )
        return super().changelist_view(request, extra_context)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重新发送所选的失败记录"))
    def retry(self, request, queryset):
        count = delivery.retry_failed(queryset.filter(status=Delivery.Status.FAILED).values_list("pk", flat=True))
        self.message_user(
            request,
            _("已重新排队 %(count)d 条失败记录。") % {"count": count},
            messages.SUCCESS,
        )
