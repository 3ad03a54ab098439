"""Forecasts on a small synthetic history: stored rows, what each role sees, bad input (400)."""

import random
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse

from assessment.forecasts import history, selectors, services
from assessment.forecasts.models import ForecastRun, RotaSlot, SlotForecast, WeekForecast
from districts.models import Division, Unit
from hotline.models import Call, Category
from tests.assessment.conftest import bj, ensure_tiers
from tests.factories import PASSWORD
from workorders.models import UrgencyTier, WorkOrder

pytestmark = pytest.mark.django_db

NOW = bj(2026, 11, 9, 10, 0)  # a Monday: heating starts on the 15th
FIRST = date(2025, 9, 1)


def _history():
    """60 weeks of orders in three streets: heating complaints in the heating season only, street
    lights all year; a bit of noise."""
    ensure_tiers()
    rng = random.Random(7)
    heating = Category.objects.get(name="室温不达标", level=3)
    lights = Category.objects.get(name="路灯不亮", level=3)
    tier = UrgencyTier.objects.get(code="T7D")
    streets = [Unit.objects.select_related("division").get(code=c) for c in ("110106003", "110106001")]
    haidian = Division.objects.filter(parent__code="110108", level=Division.Level.STREET).order_by("code").first()
    places = [(u.division, u.district, u) for u in streets] + [(haidian, haidian.parent, streets[0])]
    calls, orders = [], []
    day = FIRST
    while day < NOW.date():
        in_season = (day.month, day.day) >= (11, 15) or (day.month, day.day) <= (3, 15)
        for street, district, unit in places:
            for category, mean in ((heating, 2.0 if in_season else 0.05), (lights, 0.6)):
                for _ in range(sum(rng.random() < mean / 4 for _ in range(4)) + (mean > 1 and rng.random() < 0.3)):
                    at = bj(day.year, day.month, day.day, rng.randrange(7, 22), rng.randrange(60))
                    calls.append(
                        Call(
                            caller_phone="13800001111",
                            request_type="complaint",
                            description="测试",
                            street=street,
                            district=district,
                            category=category,
                            received_at=at - timedelta(minutes=3),
                            outcome=Call.Outcome.ORDER,
                        )
                    )
                    orders.append((at, street, district, unit, category))
        day += timedelta(days=1)
    calls = Call.objects.bulk_create(calls)
    WorkOrder.objects.bulk_create(
        WorkOrder(
            number=f"F{i:010d}",
            call=call,
            category=category,
            request_type="complaint",
            tier=tier,
            title="测试",
            street=street,
            district=district,
            lead_unit=unit,
            state="completed",
            dispatched_at=at,
            response_deadline=at + timedelta(days=1),
            resolution_deadline=at + timedelta(days=7),
        )
        for i, (call, (at, street, district, unit, category)) in enumerate(zip(calls, orders, strict=True))
    )
    return heating.parent


@pytest.fixture
def run(settings, monkeypatch):
    settings.FORECAST_CALL_DAYS = 2
    monkeypatch.setattr(history, "HANDLE_MIN_SAMPLE", 20)
    heating = _history()
    RotaSlot.objects.create(weekday=NOW.weekday(), slot=20, seats=1)
    run = services.forecast_compute(now=NOW)
    run.heating = heating
    return run


def test_it_stores_weeks_per_street_and_category_and_staffing(run):
    # then: 9 weeks from the current one for each street × level-2 category, 2 days of half hours
    assert run.first_week == date(2026, 11, 9) and run.weeks == 9 and run.history_start == FIRST
    assert WeekForecast.objects.filter(run=run).count() == 3 * 2 * 9
    assert SlotForecast.objects.filter(run=run).count() == 2 * 48
    assert run.handle_seconds == pytest.approx(180, abs=1)  # measured: 3 minutes call → dispatch
    # the heating season starts next week: more heating orders expected than in the last 4 weeks
    street = Division.objects.get(code="110106003")
    next_week = WeekForecast.objects.get(run=run, street=street, category=run.heating, week=date(2026, 11, 16))
    assert next_week.expected > next_week.recent + 1
    assert next_week.last_year is not None and next_week.last_year > next_week.recent
    # computing again is a new run; old runs beyond the kept ones go
    again = services.forecast_compute(now=NOW + timedelta(hours=1))
    assert ForecastRun.objects.count() == 2 and again.pk != run.pk


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)


def test_a_street_sees_its_own_street(client, run, xiluoyuan_handler):
    # when
    _login(client, xiluoyuan_handler)
    page = client.get(reverse("assessment-forecasts"))
    other = Division.objects.get(code="110106001")
    refused = client.get(reverse("assessment-forecasts"), {"street": other.pk})
    api = client.get(reverse("api-assessment-forecasts"))
    # then
    assert page.status_code == 200 and "西罗园" in page.content.decode()
    assert page.context["area"].street.code == "110106003"
    assert refused.status_code == 403
    assert api.status_code == 200 and api.json()["area"].endswith("西罗园街道")
    assert client.get(reverse("assessment-staffing")).status_code == 403


def test_a_district_sees_its_streets_and_the_city_everything(client, run, fengtai_manager, city_admin):
    _login(client, fengtai_manager)
    page = client.get(reverse("assessment-forecasts"))
    names = {u["name"] for u in page.context["units"]}
    assert names == {"西罗园街道", "右安门街道"}
    haidian = Division.objects.get(code="110108")
    assert client.get(reverse("assessment-forecasts"), {"district": haidian.pk}).status_code == 403
    # the district's figures add up its streets'
    expected = sum(u["expected"] for u in page.context["units"])
    assert page.context["total"] == pytest.approx(expected)
    assert 'data-testid="last-year-orders"' in page.content.decode()

    client.logout()
    _login(client, city_admin)
    city = client.get(reverse("assessment-forecasts"))
    assert {u["name"] for u in city.context["units"]} == {"丰台区", "海淀区"}
    staffing = client.get(reverse("assessment-staffing"))
    assert staffing.status_code == 200 and len(staffing.context["rows"]) == 48
    planned = [r for r in staffing.context["rows"] if r["planned"] is not None]
    assert len(planned) == 1 and planned[0]["starts_at"].hour == 10


@pytest.mark.parametrize(
    "query, code",
    [
        ({"street": "999999999"}, "未知的区或街道"),
        ({"district": "abc"}, ""),
        ({"week": "2027-06-07"}, "超出预测范围"),
        ({"week": "2024-01-01"}, "早于历史数据起始日"),
        ({"week": "2026-10-05"}, "已经过去"),
        ({"week": "soon"}, "YYYY-MM-DD"),
        ({"week": "2026-13-01"}, "日期或时间不存在"),  # refused at the edge (hotline/web/edge.py)
    ],
)
def test_bad_requests_are_a_clear_400(client, run, city_admin, query, code):
    _login(client, city_admin)
    page = client.get(reverse("assessment-forecasts"), query)
    api = client.get(reverse("api-assessment-forecasts"), query)
    assert page.status_code == 400 and code in page.content.decode()
    assert api.status_code == 400 and code in str(api.json())


def test_staffing_days_outside_the_forecast_are_a_400(client, run, city_admin):
    _login(client, city_admin)
    assert client.get(reverse("assessment-staffing"), {"day": "2026-12-01"}).status_code == 400
    assert client.get(reverse("assessment-staffing"), {"day": "2026-11-10"}).status_code == 200


def test_without_a_run_the_page_says_so(client, xiluoyuan_handler):
    _login(client, xiluoyuan_handler)
    assert 'data-testid="no-forecast"' in client.get(reverse("assessment-forecasts")).content.decode()
    assert selectors.latest_run() is None
    api = client.get(reverse("api-assessment-forecasts"))
    assert api.status_code == 200 and api.json()["computed_at"] is None


def test_day_shares_follow_chinas_calendar(run):
    # National Day week 2026: 1–7 October holidays, Sunday 27 Sept and Saturday 10 Oct working days
    run.day_weights = {"0": 1.0, "1": 0.5, "2": 0.25}
    days = selectors.days(run, 100.0, date(2026, 9, 28))
    assert [round(d["expected"], 1) for d in days][:3] == [50.0, 50.0, 0.0] or days[3]["expected"] < days[0]["expected"]
    assert sum(d["expected"] for d in days) == pytest.approx(100.0)
    assert isinstance(days[0]["day"], date) and not isinstance(days[0]["day"], datetime)
