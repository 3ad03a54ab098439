from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hotline import access
from hotline.errors import AccessDenied
from hotline.models import Call, LoginFailure, PersonalDataAccess, User, WorkerHeartbeat


def call_reveal_phone(*, call: Call, acting_user: User, via: str, ip_address: str | None = None) -> str:
    """Show the caller's number to someone who normally sees it masked, and record that they did."""
    if access.sees_phone_in_full(acting_user):
        return call.caller_phone
    if not access.may_reveal_phone(acting_user, call):
        raise AccessDenied()
    with transaction.atomic():
        PersonalDataAccess.objects.create(
            user=acting_user, call=call, field="caller_phone", via=via, ip_address=ip_address
        )
    return call.caller_phone


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


def heartbeat_touch(*, name: str = "worker") -> None:
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})
