from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.accounts import login as services
from hotline.models import LoginFailure


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR") or None


class ThrottledLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("登录失败次数过多，请 %(minutes)s 分钟后再试。"),
    }

    def clean(self):

        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request) if self.request else None
        if username and services.login_is_throttled(username=username, ip_address=ip):
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                services.login_failure_record(username=username, ip_address=ip)
            raise
        services.login_failures_clear(username=username)
        return cleaned


def login_is_throttled(*, username: str, ip_address: str | None) -> bool:
    since = timezone.now() - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    limit = settings.LOGIN_FAILURE_LIMIT
    by_user = LoginFailure.objects.filter(username__iexact=username, at__gte=since).count() >= limit
    by_ip = bool(ip_address) and LoginFailure.objects.filter(ip_address=ip_address, at__gte=since).count() >= limit * 4
    return by_user or by_ip


def login_failure_record(*, username: str, ip_address: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], ip_address=ip_address)


def login_failures_clear(*, username: str) -> None:
    """A successful login forgives that user's earlier failures (not the address's)."""
    LoginFailure.objects.filter(Q(username__iexact=username)).delete()


def login_failures_prune(*, older_than_days: int = 7, batch: int = 5000) -> int:
    """Delete failed-login rows older than the given age, in batches. Safe to run twice."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(LoginFailure.objects.filter(at__lt=cutoff).values_list("id", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += LoginFailure.objects.filter(id__in=ids).delete()[0]
