"""Reports missed while no worker ran are made when it runs again; each only once."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from assessment import tasks
from assessment.governance import services as governance
from assessment.models import Report
from districts.models import Division

pytestmark = pytest.mark.django_db


def _day(days_ago: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(6, 0)))


def test_the_reports_of_days_missed_while_the_worker_was_down_are_made_once():
    # given: the last run was four days ago; the worker was down since
    governance.reports_generate_due(now=_day(4))
    districts = Division.objects.filter(level=Division.Level.DISTRICT).count()
    assert Report.objects.filter(kind="daily").count() == districts + 1
    # when
    tasks.generate_reports()
    # then: a daily report for each missed day, citywide and per district
    starts = set(Report.objects.filter(kind="daily", scope_key="city").values_list("period_start", flat=True))
    expected = {timezone.make_aware(datetime.combine(_day(n).date() - timedelta(days=1), time(0))) for n in range(5)}
    assert starts == expected
    assert Report.objects.filter(kind="daily").count() == 5 * (districts + 1)
    # a Monday among these days got its weekly report too
    mondays = [n for n in range(5) if _day(n).weekday() == 0]
    assert Report.objects.filter(kind="weekly", scope_key="city").count() == len(mondays)
    # when run again (every hour): nothing new
    count = Report.objects.count()
    tasks.generate_reports()
    assert Report.objects.count() == count


def test_a_long_outage_catches_up_at_most_a_month():
    governance.reports_generate_due(now=_day(60))
    tasks.generate_reports()
    oldest_new = (
        Report.objects.filter(kind="daily", scope_key="city")
        .exclude(period_end=_day(60).replace(hour=0))
        .earliest("period_end")
    )
    assert timezone.localdate() - timezone.localtime(oldest_new.period_end).date() == timedelta(
        tasks.REPORT_CATCH_UP_DAYS
    )


def test_a_fresh_installation_makes_only_todays_reports():
    tasks.generate_reports()
    assert set(Report.objects.filter(kind="daily").values_list("period_end", flat=True)) == {
        timezone.make_aware(datetime.combine(timezone.localdate(), time(0)))
    }
