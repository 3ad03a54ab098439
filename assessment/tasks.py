"""Thin Celery tasks: each calls one service. Scheduled by the one beat schedule in
hotline/config/settings/worker.py; the explicit names are what beat and queued messages refer to."""

from datetime import datetime, time, timedelta

from celery import shared_task
from django.utils import timezone

from assessment import rulesets
from assessment.governance import services as governance
from assessment.models import Report
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


@shared_task(name="assessment.tasks.refresh_governance_lists")
def refresh_governance_lists() -> int:
    return governance.governance_lists_refresh()


REPORT_CATCH_UP_DAYS = 31


@shared_task(name="assessment.tasks.generate_reports")
def generate_reports() -> int:
    """Today's reports, and those of any day missed while no worker ran (up to a month back): every
    day from the last citywide daily report's to today, oldest first. report_generate makes each
    report once, so re-running a day (the last one, or all of them) is harmless."""
    today = timezone.localdate()
    last = (
        Report.objects.filter(kind=Report.Kind.DAILY, scope_key="city")
        .order_by("-period_end")
        .values_list("period_end", flat=True)
        .first()
    )
    first = today if last is None else max(timezone.localtime(last).date(), today - timedelta(REPORT_CATCH_UP_DAYS))
    made = 0
    for offset in range((today - first).days + 1):
        day = datetime.combine(first + timedelta(offset), time(6, 0))
        made += len(governance.reports_generate_due(now=timezone.make_aware(day)))
    return made
