from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from hotline.models import WorkerHeartbeat


def heartbeat_touch(*, name: str = "worker") -> None:
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # noqa: BLE001 - health check reports any failure
        return False, exc.__class__.__name__


def broker_ok(timeout: float = 2.0) -> tuple[bool, str]:

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
