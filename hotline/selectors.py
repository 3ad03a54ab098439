from datetime import datetime, time

from django.db import connection
from django.utils import timezone

from hotline import access
from hotline.models import User, WorkerHeartbeat


def day_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now)
    return timezone.make_aware(datetime.combine(now.date(), time.min))


def calls_today_count(*, user: User) -> int:
    return access.visible_calls(user).filter(received_at__gte=day_start()).count()


def calls_recent(*, user: User, limit: int = 10):
    return access.visible_calls(user).select_related("street", "district", "agent")[:limit]


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # noqa: BLE001 - health check reports any failure
        return False, exc.__class__.__name__


def broker_ok(timeout: float = 2.0) -> tuple[bool, str]:
    from django.conf import settings
    from kombu import Connection

    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=timeout,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            return True, conn.transport.driver_type
    except Exception as exc:  # noqa: BLE001 - health check reports any failure
        return False, exc.__class__.__name__


def worker_last_seen():
    row = WorkerHeartbeat.objects.filter(name="worker").first()
    return row.last_seen if row else None
