"""One month counted three ways — the ranking snapshot, the monthly report, the orders listed behind
each figure — must give the same counts and the same figures, because all three take the orders that
count and the formulas from assessment/rates.py.

Rules: period from the 19th, only complaints and requests for help count, basic factor 0.8, weights
0.2 / 0.3 / 0.5 (none of them the defaults, so a caller falling back on a default shows). Period
"2026-10" runs from 2026-09-19 00:00 to 2026-10-19 00:00 Beijing time.
"""

import pytest

from assessment import rates, rulesets
from assessment.governance import services as governance
from assessment.models import Report, Scope, SnapshotRow
from assessment.snapshots import selectors, services
from tests.assessment.conftest import bj, make_order, make_orders
from tests.factories import division, unit

pytestmark = pytest.mark.django_db

XILUOYUAN, YOUANMEN, XUEYUANLU = "110106003", "110106001", "110108010"
FENGTAI, HAIDIAN = "110106", "110108"
FIGURES = ("response_rate", "resolution_rate", "satisfaction_rate", "composite")


@pytest.fixture
def rules(city_admin):
    return rulesets.ruleset_publish(
        acting_user=city_admin,
        period_start_day=19,
        counted_request_types=["complaint", "help"],
        basic_factor="0.8",
        response_weight="0.2",
        resolution_weight="0.3",
        satisfaction_weight="0.5",
        min_valid_callbacks=1,
        note="测试",
    )


@pytest.fixture
def october(rules, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    at = bj(2026, 9, 25, 9)
    # 丰台, counted: 西罗园 4 complaints (contacted 4, resolved 3, satisfied 2, basic 1, unsatisfied 1),
    # 右安门 2 requests for help (contacted 2, resolved 2, satisfied 1, basic 1)
    make_orders(XILUOYUAN, at=at, contacted=4, resolved=3, satisfied=2, basic=1, unsatisfied=1)
    make_orders(YOUANMEN, at=at, contacted=2, resolved=2, satisfied=1, basic=1, unsatisfied=0, request_type="help")
    # 丰台, valid callbacks in the period that don't count:
    make_order(XILUOYUAN, callback_at=at, contacted=False, solved="unresolved", request_type="consultation")
    make_order(XILUOYUAN, callback_at=at, satisfaction="unsatisfied", excluded=True)  # approved exclusion
    # 丰台, outside the period or without a valid callback:
    make_order(XILUOYUAN, callback_at=at, satisfaction="unsatisfied", valid=False)
    make_order(XILUOYUAN, callback_at=bj(2026, 9, 18, 23, 59), satisfaction="unsatisfied")  # period 2026-09
    make_order(XILUOYUAN, callback_at=bj(2026, 10, 19, 0, 0), satisfaction="unsatisfied")  # period 2026-11
    # 海淀: 3 counted, 1 not
    make_orders(XUEYUANLU, at=at, contacted=2, resolved=1, satisfied=1, basic=1, unsatisfied=1)
    make_order(XUEYUANLU, callback_at=at, satisfaction="unsatisfied", request_type="suggestion")
    return services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 20, 2))


def counts_of(row: SnapshotRow) -> dict:
    return {c: getattr(row, c) for c in rates.COUNT_COLUMNS}


def figures_of(source) -> dict:
    get = source.get if isinstance(source, dict) else lambda k: getattr(source, k)
    return {k: get(k) for k in FIGURES}


def drill_down_counts(user, snapshot, code: str, scope: str) -> dict:
    """How many orders the drill-down lists behind each count of the unit's row."""
    return {
        column: selectors.orders_behind(user, snapshot=snapshot, unit=unit(code), scope=scope, measure=measure).count()
        for column, measure in rates.COUNT_COLUMNS.items()
    }


def test_it_counts_the_same_orders_in_the_report_the_ranking_and_the_drill_down(october, city_admin):
    # given: 丰台's row of the ranking
    row = SnapshotRow.objects.get(snapshot=october, scope=Scope.DISTRICT, unit__code=FENGTAI)
    # when: 丰台's report over the same period, and the orders behind each of its figures
    report = governance.report_generate(
        kind=Report.Kind.MONTHLY, start=october.period_start, end=october.period_end, district=division(FENGTAI)
    )
    behind = drill_down_counts(city_admin, october, FENGTAI, Scope.DISTRICT)
    # then: the six counted orders, the excluded one, and eight valid callbacks in all
    expected = {
        "total_orders": 8,
        "valid": 6,
        "valid_full": 6,
        "contacted": 6,
        "resolved": 5,
        "satisfied": 3,
        "basic": 2,
        "unsatisfied": 1,
        "excluded": 1,
    }
    assert counts_of(row) == expected
    assert report.content["callbacks"] == expected
    assert behind == expected
    # response 6/6; resolution 5/6; satisfaction (3 + 0.8 × 2)/6 = 4.6/6;
    # composite 100 × (0.2 × 6 + 0.3 × 5 + 0.5 × 4.6)/6 = 100 × 5/6 = 83.33
    assert figures_of(row) == pytest.approx(
        {"response_rate": 1.0, "resolution_rate": 5 / 6, "satisfaction_rate": 4.6 / 6, "composite": 83.33}
    )
    assert figures_of(report.content) == pytest.approx(figures_of(row))


def test_it_lists_behind_each_street_figure_the_orders_it_counted(october, city_admin):
    for code in (XILUOYUAN, YOUANMEN, XUEYUANLU):
        row = SnapshotRow.objects.get(snapshot=october, scope=Scope.STREET, unit__code=code)
        assert drill_down_counts(city_admin, october, code, Scope.STREET) == counts_of(row), code


def test_the_city_report_counts_what_the_districts_rows_add_up_to(october):
    report = governance.report_generate(kind=Report.Kind.MONTHLY, start=october.period_start, end=october.period_end)
    rows = SnapshotRow.objects.filter(snapshot=october, scope=Scope.DISTRICT)
    assert report.content["callbacks"] == {c: sum(getattr(r, c) for r in rows) for c in rates.COUNT_COLUMNS}
    # 丰台 6 and 海淀 3 counted orders
    assert report.content["callbacks"]["valid"] == 9


def test_the_monthly_report_covers_the_assessment_period_and_comes_when_it_ends(october, city_admin):
    # when: the morning the next period starts (the 19th under these rules)
    reports = governance.reports_generate_due(now=bj(2026, 10, 19, 6))
    # then: the monthly reports cover exactly the ranked period, and count as the ranking does
    monthly = [r for r in reports if r.kind == Report.Kind.MONTHLY]
    assert len(monthly) == 17
    assert {(r.period_start, r.period_end) for r in monthly} == {(october.period_start, october.period_end)}
    fengtai = next(r for r in monthly if r.scope_key == FENGTAI)
    row = SnapshotRow.objects.get(snapshot=october, scope=Scope.DISTRICT, unit__code=FENGTAI)
    assert fengtai.content["callbacks"] == counts_of(row)
    # and not on the 1st
    assert not [r for r in governance.reports_generate_due(now=bj(2026, 11, 1, 6)) if r.kind == Report.Kind.MONTHLY]


def test_it_computes_the_same_figures_in_python_and_in_sql(october):
    # given: every row the ranking computed in SQL
    weights = rates.Weights.of(october.ruleset)
    rows = SnapshotRow.objects.filter(snapshot=october)
    assert rows.filter(valid__gt=0).count() >= 3
    for row in rows:
        # when / then: the Python formulas over the row's counts give the row's figures
        python = figures_of(rates.figures(counts_of(row), weights))
        if row.valid:
            assert python == pytest.approx(figures_of(row)), row.unit_id
        else:
            assert python == figures_of(row) == dict.fromkeys(FIGURES), row.unit_id
