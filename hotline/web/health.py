"""Health: liveness (is this web process answering?) apart from readiness (can it serve: the
database) and from what is only reported (broker, worker, outbound delivery).

- `/healthz/live` touches nothing: the container health check uses it, so a broker or database
  outage never gets web containers restarted (a restart fixes neither).
- `/healthz` (also `/healthz/ready`) answers 503 only when the database is unreachable — without it
  no page works. The broker is reported, not failed on: intake and every page work without it (the
  order path writes rows; beat hands them to Celery later). Neither is a delivery backlog older than
  NOTIFY_BACKLOG_DEGRADED_SECONDS: it makes the status "degraded" (with its age and counts), so a
  monitor sees a notifier that is down or behind while every page still works.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from hotline.models import WorkerHeartbeat
from workorders.notifications.selectors import delivery_backlog


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


def deliveries_summary() -> dict:
    return delivery_backlog()


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok", "time": timezone.now().isoformat()})


@never_cache
@require_GET
def ready(request):
    db_ok, db_info = database_ok()
    broker_up, broker_info = broker_ok()
    last_seen = worker_last_seen() if db_ok else None
    stale_after = timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    worker_ok = last_seen is not None and timezone.now() - last_seen <= stale_after
    deliveries = deliveries_summary() if db_ok else None
    healthy = db_ok and broker_up and worker_ok and not (deliveries and deliveries["behind"])
    body = {
        "status": "ok" if healthy else ("degraded" if db_ok else "fail"),
        "ready": db_ok,
        "database": {"ok": db_ok, "detail": db_info},
        "broker": {"ok": broker_up, "detail": broker_info},
        "worker": {"ok": worker_ok, "stale_after_seconds": settings.WORKER_HEARTBEAT_STALE_SECONDS},
        "worker_last_seen": last_seen.isoformat() if last_seen else None,
        "deliveries": deliveries,
        "time": timezone.now().isoformat(),
    }
    return JsonResponse(body, status=200 if db_ok else 503)
