"""The beat tasks, run by a real Celery worker process against the test database."""

import pytest
from django.conf import settings
from django.utils import timezone

from assessment import tasks
from assessment.models import Alert, Snapshot
from tests.assessment.conftest import make_orders
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration]


def test_beat_runs_the_assessment_tasks():
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "assessment.tasks.compute_provisional",
        "assessment.tasks.freeze_due",
        "assessment.tasks.detect_surges",
        "assessment.tasks.generate_reports",
    } <= names


def test_a_real_worker_computes_this_months_provisional_figures(live_worker):
    # given: called-back orders this month
    make_orders("110106003", at=timezone.now(), contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    # when
    tasks.compute_provisional.delay()
    # then
    snapshot = wait_for(lambda: Snapshot.objects.filter(kind="provisional").first(), log=live_worker.log)
    row = snapshot.rows.get(scope="street", unit__code="110106003")
    assert row.valid == 3 and row.composite == 100


def test_a_real_worker_raises_a_surge_once(live_worker, settings):
    from hotline.models import Call, Category
    from tests.factories import division

    category = Category.objects.get_or_create(code="T-SURGE", defaults={"name": "燃气泄漏", "level": 3})[0]
    street = division("110106003")
    Call.objects.bulk_create(
        [
            Call(
                request_type="help",
                description="燃气味",
                category=category,
                street=street,
                district_id=street.district_id,
                received_at=timezone.now(),
            )
            for _ in range(6)
        ]
    )
    tasks.detect_surges.delay()
    tasks.detect_surges.delay()
    # both runs done (the worker logs each success), one alert
    wait_for(
        lambda: (
            live_worker.log.read_text().count("detect_surges") >= 2
            and live_worker.log.read_text().count("succeeded") >= 2
        ),
        log=live_worker.log,
    )
    assert Alert.objects.count() == 1
