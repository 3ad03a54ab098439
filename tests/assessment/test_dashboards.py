"""Trends on the dashboard and the scorecard: the figures, worked out by hand below, and a fixed
number of queries however many months hold results.

Rules: weights 0.1 / 0.5 / 0.4, calendar months, one valid callback is enough to be ranked."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import rulesets
from assessment.dashboards import data as dashboards
from assessment.snapshots import selectors, services
from hotline.models import User
from tests.assessment.conftest import bj, make_orders
from tests.factories import PASSWORD, unit

pytestmark = pytest.mark.django_db

XILUOYUAN, XUEYUANLU = "110106003", "110108010"
NONE = {"response_rate": None, "resolution_rate": None, "satisfaction_rate": None}


@pytest.fixture
def rules(city_admin, category):
    return rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=1)


def rates_of(point):
    return {k: None if point[k] is None else pytest.approx(point[k]) for k in NONE}


def rates(response, resolution, satisfaction):
    return {"response_rate": response, "resolution_rate": resolution, "satisfaction_rate": satisfaction}


@pytest.fixture
def august_and_september(rules, city_admin):
    # August, basic factor 0.9:
    #   西罗园 (丰台) 2 valid: contacted 2, resolved 1, satisfied 1, basic 1
    #   学院路 (海淀) 2 valid: contacted 2, resolved 2, satisfied 2
    make_orders(XILUOYUAN, at=bj(2026, 8, 5, 9), contacted=2, resolved=1, satisfied=1, basic=1, unsatisfied=0)
    make_orders(XUEYUANLU, at=bj(2026, 8, 5, 9), contacted=2, resolved=2, satisfied=2, basic=0, unsatisfied=0)
    services.snapshot_compute_provisional(period="2026-08", now=bj(2026, 8, 31))
    # September, computed after the factor became 0.8:
    #   西罗园 4 valid: contacted 3, resolved 2, satisfied 2, basic 2; nothing in 海淀
    rulesets.ruleset_publish(acting_user=city_admin, basic_factor="0.8")
    make_orders(XILUOYUAN, at=bj(2026, 9, 5, 9), contacted=3, resolved=2, satisfied=2, basic=2, unsatisfied=0)
    services.snapshot_compute_provisional(period="2026-09", now=bj(2026, 9, 30))


def test_the_dashboard_trend_shows_each_months_rates_under_its_own_factor(
    august_and_september, city_admin, fengtai_manager, haidian_manager
):
    # when
    city = dashboards.dashboard_data(city_admin, period="2026-10", snapshot=None)["trend"]
    fengtai = dashboards.dashboard_data(fengtai_manager, period="2026-10", snapshot=None)["trend"]
    haidian = dashboards.dashboard_data(haidian_manager, period="2026-10", snapshot=None)["trend"]
    # then: six months, oldest first; no results before August nor in October
    assert [p["period"] for p in city] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert [rates_of(p) for p in city] == [
        NONE,
        NONE,
        NONE,
        rates(4 / 4, 3 / 4, (3 + 0.9 * 1) / 4),  # 1.0, 0.75, 0.975
        rates(3 / 4, 2 / 4, (2 + 0.8 * 2) / 4),  # 0.75, 0.5, 0.9
        NONE,
    ]
    assert [rates_of(p) for p in fengtai][3:5] == [
        rates(2 / 2, 1 / 2, (1 + 0.9 * 1) / 2),  # 1.0, 0.5, 0.95
        rates(3 / 4, 2 / 4, (2 + 0.8 * 2) / 4),
    ]
    # 海淀 had no valid callback in September: no rates rather than zeros
    assert [rates_of(p) for p in haidian][3:5] == [rates(1.0, 1.0, 1.0), NONE]


def test_a_trend_follows_the_latest_recomputation_of_a_frozen_month(rules, city_admin):
    # given: August frozen under 0.9, then recomputed under 1.0, under 0.5 (the latest) and — computed
    # earlier than that one though created after it — under 0
    make_orders(XILUOYUAN, at=bj(2026, 8, 5, 9), contacted=2, resolved=1, satisfied=1, basic=1, unsatisfied=0)
    services.snapshot_freeze(period="2026-08", now=bj(2026, 9, 10))
    for factor, now in (("1", bj(2026, 9, 11)), ("0.5", bj(2026, 9, 13)), ("0", bj(2026, 9, 12))):
        ruleset = rulesets.ruleset_publish(acting_user=city_admin, basic_factor=factor)
        services.snapshot_recompute(
            period="2026-08", acting_user=city_admin, label=f"系数 {factor}", ruleset=ruleset, now=now
        )
    xiluoyuan = unit(XILUOYUAN)
    # when
    dashboard = dashboards.dashboard_data(city_admin, period="2026-08", snapshot=None)["trend"][-1]
    scorecard = selectors.trend(xiluoyuan, until="2026-08")[-1]
    # then: satisfaction (1 + 0.5 × 1) / 2 = 0.75; composite 100 × (0.1 × 1 + 0.5 × 0.5 + 0.4 × 0.75) = 65
    assert rates_of(dashboard) == rates(1.0, 0.5, 0.75)
    assert scorecard == {
        "period": "2026-08",
        "response_rate": pytest.approx(1.0),
        "resolution_rate": pytest.approx(0.5),
        "satisfaction_rate": pytest.approx(0.75),
        "composite": pytest.approx(65.0),
        "rank_in_district": 1,
    }
    assert selectors.published_snapshot("2026-08").label == "系数 0.5"


def test_the_scorecard_trend_lists_the_units_own_published_figures(august_and_september):
    # when
    trend = selectors.trend(unit(XILUOYUAN), until="2026-10")
    # then: August 1.0 / 0.5 / 0.95 → 100 × (0.1 + 0.25 + 0.38) = 73; September 0.75 / 0.5 / 0.9 → 68.5
    assert [p["period"] for p in trend] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert [p["composite"] for p in trend] == [None, None, None, pytest.approx(73.0), pytest.approx(68.5), None]
    assert [p["rank_in_district"] for p in trend] == [None, None, None, 1, 1, None]
    assert trend[4]["satisfaction_rate"] == pytest.approx(0.9)
    # another unit's trend holds only its own figures: 学院路 had no September callbacks
    assert [p["composite"] for p in selectors.trend(unit(XUEYUANLU), until="2026-10")][3:5] == [
        pytest.approx(100.0),
        None,
    ]


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def _month(label: str, day_of_month) -> None:
    year, month = map(int, label.split("-"))
    make_orders(XILUOYUAN, at=bj(year, month, 5, 9), contacted=1, resolved=1, satisfied=1, basic=0, unsatisfied=0)
    services.snapshot_compute_provisional(period=label, now=bj(year, month, day_of_month))


def test_the_trends_take_as_many_queries_for_six_months_as_for_two(rules, client, city_admin, fengtai_manager):
    # given: results for two months
    for label in ("2026-09", "2026-10"):
        _month(label, 28)
    snapshot = selectors.published_snapshot("2026-10")
    xiluoyuan = unit(XILUOYUAN)
    assert client.login(username=fengtai_manager.username, password=PASSWORD)

    def counts():
        # fresh user objects, so that neither count profits from the other's cached unit
        city, fengtai = User.objects.get(pk=city_admin.pk), User.objects.get(pk=fengtai_manager.pk)
        return (
            _count(lambda: dashboards.dashboard_data(city, period="2026-10", snapshot=snapshot)),
            _count(lambda: dashboards.dashboard_data(fengtai, period="2026-10", snapshot=snapshot)),
            _count(lambda: client.get("/assessment/dashboard/data/?period=2026-10")),
            _count(lambda: selectors.trend(xiluoyuan, until="2026-10")),
            _count(lambda: selectors.trend(xiluoyuan, until="2026-10", months=12)),
        )

    two = counts()
    # when: four more months, one of them frozen and recomputed
    for label in ("2026-05", "2026-06", "2026-07", "2026-08"):
        _month(label, 28)
    services.snapshot_freeze(period="2026-08", now=bj(2026, 9, 10))
    services.snapshot_recompute(period="2026-08", acting_user=city_admin, label="重算", now=bj(2026, 9, 11))
    six = counts()
    # then: the same count, and small — the trend of either page is one query
    assert six == two
    assert six[3] == six[4] == 1
    assert six[0] <= 6 and six[1] <= 7
    assert len(client.get("/assessment/dashboard/data/?period=2026-10").json()["trend"]) == 6
