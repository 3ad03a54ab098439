"""Celery: the broker (embedded filesystem transport or Redis), the queue, and the one beat schedule.

Every periodic task of every app is listed here, by its registered name: tasks carry explicit
names (`@shared_task(name=...)`), so moving a task's module never strands queued messages.
"""

from celery.schedules import crontab

from hotline.config.env import check_broker_url, env_int, env_str
from hotline.config.settings.base import TIME_ZONE, VAR_DIR

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
if CELERY_BROKER_URL:
    check_broker_url(CELERY_BROKER_URL)
    # With late acknowledgement, a message whose worker died comes back after this long. Sized to
    # the longest task (a month's figures at millions of orders; shorter would run it twice at
    # once). Deliveries do not depend on it: their claims are re-dispatched by the beat after
    # NOTIFY_CLAIM_STALE_SECONDS, and a message that comes back later finds its claim gone.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 1800, minimum=60)}
else:
    # Embedded transport: messages are files in one folder that producers and the worker share.
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _d in (_queue_dir, _processed_dir, _control_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
# A separate queue name lets tests (or two installations on one Redis) keep their messages apart.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
# Outbound delivery (e-mail, webhooks) has a queue of its own, consumed by its own worker (threads:
# the work is waiting on the network), so the sweep, reports and rankings never wait behind a slow
# endpoint. Empty means "<the default queue>.notify" (see hotline/config/celery.py's router).
CELERY_NOTIFY_QUEUE = env_str("CELERY_NOTIFY_QUEUE", "")
CELERY_TASK_ROUTES = ("hotline.config.celery.route_task",)
NOTIFY_WEBHOOK_TIMEOUT = env_int("NOTIFY_WEBHOOK_TIMEOUT", 5, minimum=1)
NOTIFY_RETRY_SECONDS = env_int("NOTIFY_RETRY_SECONDS", 30, minimum=1)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
# A running batch renews its claim every quarter of this; a claim not renewed for this long belongs to
# a worker that is gone and is handed back (its in-flight row may then go out twice, same id).
NOTIFY_CLAIM_STALE_SECONDS = env_int("NOTIFY_CLAIM_STALE_SECONDS", 30, minimum=5)
# E-mail batches in flight at once, each over one SMTP connection of its own (see delivery.py).
NOTIFY_EMAIL_BATCHES = env_int("NOTIFY_EMAIL_BATCHES", 4, minimum=1)
# No SMTP wait may outlast a claim: a mail server that stops answering is a transient failure.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
# /healthz reports "degraded" when a delivery has been due for longer than this (the notifier is
# down or behind); the operator page and /healthz show the oldest due delivery's age.
NOTIFY_BACKLOG_DEGRADED_SECONDS = env_int("NOTIFY_BACKLOG_DEGRADED_SECONDS", 300, minimum=10)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "heartbeat": {"task": "hotline.tasks.heartbeat", "schedule": 60.0},
    # Failed-login rows are only needed for the throttle window; keep a week for investigations.
    "prune-login-failures": {"task": "hotline.tasks.prune_login_failures", "schedule": 24 * 3600.0},
    # Callback stage: expired, unused self-evaluation links are purged (batched, idempotent).
    "purge-self-evaluation-links": {
        "task": "workorders.callback_tasks.purge_self_evaluation_links",
        "schedule": 6 * 3600.0,
    },
    # Deadline enforcement: warn, mark overdue, escalate (idempotent; a missed run is caught up).
    "deadline-sweep": {"task": "workorders.tasks.deadline_sweep", "schedule": 60.0, "options": {"expires": 55}},
    # New notifications → e-mail / webhook delivery, batched (requests never talk to the broker).
    "queue-outbound-notifications": {
        "task": "workorders.tasks.queue_outbound",
        "schedule": float(env_int("NOTIFY_QUEUE_SECONDS", 5, minimum=1)),
        "options": {"expires": 30},
    },
    # Delivered outbox rows are kept 30 days.
    "prune-deliveries": {"task": "workorders.tasks.prune_deliveries", "schedule": 24 * 3600.0},
    # Assessment: provisional figures nightly, the month frozen when due, surges every 5 minutes,
    # daily/weekly/monthly reports from the morning on (with catch-up of missed days).
    "assessment-provisional": {"task": "assessment.tasks.compute_provisional", "schedule": crontab(hour=1, minute=10)},
    "assessment-freeze": {"task": "assessment.tasks.freeze_due", "schedule": crontab(hour=2, minute=10)},
    "assessment-surges": {"task": "assessment.tasks.detect_surges", "schedule": 300.0},
    # The governance page's month-of-calls lists (hot topics, repeat callers, hot spots) per scope.
    "assessment-governance-lists": {
        "task": "assessment.tasks.refresh_governance_lists",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    # Reports hourly from 06:00: each run also makes the reports of days missed while no worker ran.
    "assessment-reports": {"task": "assessment.tasks.generate_reports", "schedule": crontab(hour="6-23", minute=0)},
    # Forecasts (未诉先办, staffing): weekly orders per street × category and calls per half hour, nightly.
    "assessment-forecasts": {
        "task": "assessment.forecasts.tasks.compute_forecasts",
        "schedule": crontab(hour=3, minute=20),
        "options": {"expires": 3 * 3600},
    },
}
