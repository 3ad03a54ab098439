"""Thin Celery tasks: each calls one service. Scheduled by the one beat schedule in
hotline/config/settings/worker.py; the explicit names are what beat and queued messages refer to."""

from celery import shared_task

from assessment import rulesets
from assessment.governance import services as governance
from assessment.snapshots import services as snapshots


@shared_task(name="assessment.tasks.compute_provisional")
def compute_provisional() -> int | None:
    snapshot = snapshots.snapshot_compute_provisional(period=rulesets.current_period())
    return snapshot.pk if snapshot else None


@shared_task(name="assessment.tasks.freeze_due")
def freeze_due() -> int | None:
    snapshot = snapshots.snapshot_freeze_due()
    return snapshot.pk if snapshot else None


@shared_task(name="assessment.tasks.detect_surges")
def detect_surges() -> int:
    return len(governance.surge_detect())


@shared_task(name="assessment.tasks.generate_reports")
def generate_reports() -> int:
    return len(governance.reports_generate_due())
