"""Thin Celery tasks: each calls one service. Scheduled by beat (see BEAT_SCHEDULE, merged into the
settings by assessment.apps)."""

from celery import shared_task
from celery.schedules import crontab


@shared_task
def compute_provisional() -> int | None:
    from assessment import selectors, services

    snapshot = services.snapshot_compute_provisional(period=selectors.current_period())
    return snapshot.pk if snapshot else None


@shared_task
def freeze_due() -> int | None:
    from assessment import services

    snapshot = services.snapshot_freeze_due()
    return snapshot.pk if snapshot else None


@shared_task
def detect_surges() -> int:
    from assessment import governance

    return len(governance.surge_detect())


@shared_task
def generate_reports() -> int:
    from assessment import governance

    return len(governance.reports_generate_due())


BEAT_SCHEDULE = {
    "assessment-provisional": {"task": "assessment.tasks.compute_provisional", "schedule": crontab(hour=1, minute=10)},
    "assessment-freeze": {"task": "assessment.tasks.freeze_due", "schedule": crontab(hour=2, minute=10)},
    "assessment-surges": {"task": "assessment.tasks.detect_surges", "schedule": 300.0},
    "assessment-reports": {"task": "assessment.tasks.generate_reports", "schedule": crontab(hour=6, minute=0)},
}
