"""A small month built by hand; every rate, composite and rank worked out independently below.

Rules: the defaults (weights 0.1 / 0.5 / 0.4, basic factor 0.9) with the period starting on the 19th,
at least 3 valid callbacks to be ranked, bottom 1 marked. Period "2026-10" therefore runs from
2026-09-19 00:00 to 2026-10-19 00:00 Beijing time.
"""

from datetime import timedelta

import pytest

from assessment import rulesets
from assessment.models import Scope, Snapshot, SnapshotRow
from assessment.snapshots import services
from hotline.errors import DomainError
from tests.assessment.conftest import bj, make_order, make_orders

pytestmark = pytest.mark.django_db

XILUOYUAN, YOUANMEN, TAIPINGQIAO, DAHONGMEN, NANYUAN = (
    "110106003",
    "110106001",
    "110106002",
    "110106004",
    "110106005",
)
XUEYUANLU = "110108010"
WATER = "110106-water"


@pytest.fixture
def rules(city_admin):
    return rulesets.ruleset_publish(
        acting_user=city_admin, period_start_day=19, min_valid_callbacks=3, bottom_n=1, note="测试"
    )


@pytest.fixture
def month(rules, category):
    at = bj(2026, 9, 25, 9)
    # 西罗园: 4 valid; contacted 4, resolved 3, satisfied 2, basic 1, unsatisfied 1
    make_orders(XILUOYUAN, at=at, contacted=4, resolved=3, satisfied=2, basic=1, unsatisfied=1)
    # 右安门: 5 valid, all contacted, resolved and satisfied
    make_orders(YOUANMEN, at=at, contacted=5, resolved=5, satisfied=5, basic=0, unsatisfied=0)
    # 太平桥: 8 valid; contacted 8, resolved 6, satisfied 4, basic 2, unsatisfied 2 (西罗园's ratios ×2)
    make_orders(TAIPINGQIAO, at=at, contacted=8, resolved=6, satisfied=4, basic=2, unsatisfied=2)
    # 大红门: 3 valid; contacted 2, resolved 1, satisfied 1, unsatisfied 2
    make_orders(DAHONGMEN, at=at, contacted=2, resolved=1, satisfied=1, basic=0, unsatisfied=2)
    # 南苑: 2 valid, perfect, but below the threshold of 3
    make_orders(NANYUAN, at=at, contacted=2, resolved=2, satisfied=2, basic=0, unsatisfied=0)
    # 海淀学院路: 3 valid, perfect
    make_orders(XUEYUANLU, at=at, contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    # 丰台区水务局: 3 valid; contacted 3, resolved 2, satisfied 3
    make_orders(WATER, at=at, contacted=3, resolved=2, satisfied=3, basic=0, unsatisfied=0)

    # Orders that must not count for 西罗园's rates:
    make_order(XILUOYUAN, callback_at=bj(2026, 9, 19, 0, 0), satisfaction="unsatisfied", valid=False)  # no valid cb
    make_order(XILUOYUAN, callback_at=bj(2026, 10, 19, 0, 0), satisfaction="unsatisfied")  # next period
    make_order(XILUOYUAN, callback_at=bj(2026, 9, 19, 0, 0) - timedelta(seconds=1), solved="unresolved")  # before
    make_order(XILUOYUAN, callback_at=at, satisfaction="unsatisfied", request_type="praise")  # type not counted
    make_order(XILUOYUAN, callback_at=at, satisfaction="unsatisfied", excluded=True)  # approved exclusion
    return services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 20, 2))


def row(snapshot, code, scope=Scope.STREET):
    return SnapshotRow.objects.get(snapshot=snapshot, scope=scope, unit__code=code)


def test_it_computes_the_three_rates_and_composite_of_each_street(month):
    r = row(month, XILUOYUAN)
    # counts: the 4 counted orders; total = 4 + praise + excluded (both have a valid callback in P)
    assert (r.valid, r.contacted, r.resolved, r.satisfied, r.basic, r.unsatisfied) == (4, 4, 3, 2, 1, 1)
    assert (r.total_orders, r.excluded) == (6, 1)
    # response 4/4 = 1; resolution 3/4 = 0.75; satisfaction (2 + 0.9×1)/4 = 0.725
    assert r.response_rate == pytest.approx(1.0)
    assert r.resolution_rate == pytest.approx(0.75)
    assert r.satisfaction_rate == pytest.approx(0.725)
    # composite 100 × (0.1×1 + 0.5×0.75 + 0.4×0.725) = 100 × (0.1 + 0.375 + 0.29) = 76.5
    assert r.composite == pytest.approx(76.5)

    d = row(month, DAHONGMEN)
    # response 2/3, resolution 1/3, satisfaction 1/3
    # composite 100 × (0.1×2/3 + 0.5×1/3 + 0.4×1/3) = 100 × (0.2 + 0.5 + 0.4)/3 = 110/3 = 36.666… → 36.67
    assert d.response_rate == pytest.approx(2 / 3)
    assert d.composite == pytest.approx(36.67)


def test_it_ranks_streets_in_the_district_with_ties_flags_and_the_bottom(month):
    # 丰台: 右安门 100; 西罗园 76.5 and 太平桥 76.5 (same ratios) share rank 2; 大红门 36.67 is 4th.
    # 南苑 has 2 valid callbacks (< 3): flagged, no rank; streets without callbacks are flagged too.
    assert row(month, YOUANMEN).rank_in_district == 1
    assert row(month, XILUOYUAN).rank_in_district == 2
    assert row(month, TAIPINGQIAO).rank_in_district == 2
    assert row(month, DAHONGMEN).rank_in_district == 4
    nanyuan = row(month, NANYUAN)
    assert nanyuan.flagged and nanyuan.rank_in_district is None and nanyuan.composite == pytest.approx(100)
    assert row(month, "110106006").flagged and row(month, "110106006").valid == 0
    # bottom 1 in the district: 大红门 only
    bottom = SnapshotRow.objects.filter(snapshot=month, scope=Scope.STREET, bottom_in_district=True)
    assert set(bottom.values_list("unit__code", flat=True)) == {DAHONGMEN}
    # every ranked street of Beijing has a row: 343 (special zones are not ranked)
    assert SnapshotRow.objects.filter(snapshot=month, scope=Scope.STREET).count() == 343


def test_it_ranks_streets_citywide_with_competition_ranking(month):
    # 右安门 100 and 学院路 100 share rank 1, then 76.5 twice (rank 3), then 36.67 (rank 5)
    assert row(month, YOUANMEN).rank_citywide == 1
    assert row(month, XUEYUANLU).rank_citywide == 1
    assert row(month, XILUOYUAN).rank_citywide == 3
    assert row(month, TAIPINGQIAO).rank_citywide == 3
    assert row(month, DAHONGMEN).rank_citywide == 5
    assert row(month, XUEYUANLU).rank_in_district == 1  # alone in 海淀


def test_it_ranks_districts_over_all_their_counted_orders(month):
    fengtai = row(month, "110106", Scope.DISTRICT)
    # 丰台 = its five streets + 水务局 (the department's orders are in 丰台):
    # valid 4+5+8+3+2+3 = 25; contacted 4+5+8+2+2+3 = 24; resolved 3+5+6+1+2+2 = 19
    # satisfied 2+5+4+1+2+3 = 17; basic 1+0+2+0+0+0 = 3; unsatisfied 1+0+2+2+0+0 = 5
    assert (fengtai.valid, fengtai.contacted, fengtai.resolved) == (25, 24, 19)
    assert (fengtai.satisfied, fengtai.basic, fengtai.unsatisfied) == (17, 3, 5)
    # composite 100 × (0.1×24 + 0.5×19 + 0.4×(17 + 0.9×3)) / 25 = 100 × (2.4 + 9.5 + 7.88)/25 = 79.12
    assert fengtai.composite == pytest.approx(79.12)
    haidian = row(month, "110108", Scope.DISTRICT)
    assert haidian.composite == pytest.approx(100) and haidian.rank_citywide == 1
    assert fengtai.rank_citywide == 2
    assert row(month, "110105", Scope.DISTRICT).flagged  # 朝阳: no callbacks at all
    assert SnapshotRow.objects.filter(snapshot=month, scope=Scope.DISTRICT).count() == 16


def test_it_ranks_departments_separately(month):
    water = row(month, WATER, Scope.DEPARTMENT)
    # response 3/3, resolution 2/3, satisfaction 3/3: 100 × (0.1 + 0.5×2/3 + 0.4) = 83.333… → 83.33
    assert water.composite == pytest.approx(83.33) and water.rank_citywide == 1
    assert SnapshotRow.objects.filter(snapshot=month, scope=Scope.DEPARTMENT).count() == 1


def test_it_records_the_rule_version_it_used(month, rules):
    assert month.ruleset_id == rules.pk and month.kind == Snapshot.Kind.PROVISIONAL
    assert month.period_start == bj(2026, 9, 19) and month.period_end == bj(2026, 10, 19)


def test_an_approved_exclusion_changes_exactly_what_it_should(month, rules):
    # given: one of 西罗园's unsatisfied, counted orders
    from assessment import facts
    from workorders.models import WorkOrder

    before = {r.unit_id: (r.composite, r.valid) for r in SnapshotRow.objects.filter(snapshot=month)}
    target = WorkOrder.objects.get(
        assessed_unit__code=XILUOYUAN,
        satisfaction="unsatisfied",
        excluded=False,
        request_type="complaint",
        callback_valid=True,
        callback_at__gte=bj(2026, 9, 19),
        callback_at__lt=bj(2026, 10, 19),
    )
    # when: its exclusion is approved (a fact of its own) and the month is recomputed
    facts.record_exclusion(target, request=None, at=bj(2026, 10, 20, 2), actor=None)
    after = services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 20, 3))
    # then: 西罗园 has 3 valid left (its 4th order — unsatisfied and unresolved — is excluded now)
    x = row(after, XILUOYUAN)
    assert (x.valid, x.excluded, x.unsatisfied, x.satisfied, x.basic) == (3, 2, 0, 2, 1)
    # contacted 3/3; resolved: orders 0-2 were resolved, the excluded #3 was not → 3/3
    # satisfaction (2 + 0.9)/3 = 0.9667; composite 100 × (0.1 + 0.5 + 0.4×2.9/3) = 98.67
    assert x.resolution_rate == pytest.approx(1.0)
    assert x.composite == pytest.approx(98.67)
    # 右安门 (100) still leads; 西罗园 is 2nd alone; 太平桥 (76.5) is no longer tied and is 3rd
    assert (row(after, YOUANMEN).rank_in_district, x.rank_in_district) == (1, 2)
    assert row(after, TAIPINGQIAO).rank_in_district == 3
    # 丰台 district: valid 25 → 24; everybody else's counts unchanged
    assert row(after, "110106", Scope.DISTRICT).valid == 24
    changed = {
        r.unit.code
        for r in SnapshotRow.objects.filter(snapshot=after).select_related("unit")
        if before[r.unit_id][1] != r.valid
    }
    assert changed == {XILUOYUAN, "110106"}
    # and the earlier provisional result was replaced, not accumulated
    assert Snapshot.objects.filter(period="2026-10", kind="provisional").count() == 1


def test_a_frozen_month_does_not_change_when_data_changes(month, rules, city_admin):
    # given: the month frozen
    frozen = services.snapshot_freeze(period="2026-10", now=bj(2026, 10, 25))
    before = list(SnapshotRow.objects.filter(snapshot=frozen).values_list("unit_id", "valid", "composite"))
    # when: an order changes and the daily provisional run and a second freeze come by
    from workorders.models import WorkOrder

    WorkOrder.objects.filter(assessed_unit__code=DAHONGMEN).update(satisfaction="satisfied")
    assert services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 26)) is None
    again = services.snapshot_freeze(period="2026-10", now=bj(2026, 10, 27))
    # then
    assert again.pk == frozen.pk
    after = list(SnapshotRow.objects.filter(snapshot=frozen).values_list("unit_id", "valid", "composite"))
    assert after == before
    assert not Snapshot.objects.filter(period="2026-10", kind="provisional").exists()


def test_recomputation_is_a_new_labelled_snapshot_with_its_differences(month, rules, city_admin):
    # given: a frozen month and new rules (basic satisfaction counts fully)
    frozen = services.snapshot_freeze(period="2026-10", now=bj(2026, 10, 25))
    rulesets.ruleset_publish(acting_user=city_admin, basic_factor="1", note="基本满意按满意计")
    # when
    recomputed = services.snapshot_recompute(
        period="2026-10", acting_user=city_admin, label="规则调整：基本满意按满意计", now=bj(2026, 10, 28)
    )
    # then: the frozen result is untouched and the recomputation names its base and differences
    assert recomputed.kind == "recomputed" and recomputed.base_id == frozen.pk
    assert row(frozen, XILUOYUAN).composite == pytest.approx(76.5)
    # 西罗园: satisfaction (2 + 1)/4 = 0.75 → 100 × (0.1 + 0.375 + 0.3) = 77.5
    assert row(recomputed, XILUOYUAN).composite == pytest.approx(77.5)
    diffs = {(d["scope"], d["unit"]): d for d in recomputed.differences}
    assert diffs[("street", "西罗园街道")]["composite_before"] == pytest.approx(76.5)
    assert diffs[("street", "西罗园街道")]["composite_after"] == pytest.approx(77.5)
    # units without basic-satisfied callbacks did not change and are not listed
    assert ("street", "右安门街道") not in diffs and ("street", "大红门街道") not in diffs
    # 丰台: 100 × (2.4 + 9.5 + 0.4 × 20)/25 = 79.6
    assert diffs[("district", "丰台区")]["composite_after"] == pytest.approx(79.6)


def test_it_refuses_to_recompute_without_a_reason_or_a_frozen_month(month, city_admin):
    with pytest.raises(DomainError):
        services.snapshot_recompute(period="2026-10", acting_user=city_admin, label="x", now=bj(2026, 10, 28))
    services.snapshot_freeze(period="2026-10", now=bj(2026, 10, 25))
    with pytest.raises(DomainError):
        services.snapshot_recompute(period="2026-10", acting_user=city_admin, label="  ")
    assert Snapshot.objects.filter(kind="recomputed").count() == 0


def test_it_computes_movement_against_the_previous_period(rules, category):
    # given: September (2026-09 = 08-19 … 09-19): 大红门 first, 西罗园 second
    make_orders(DAHONGMEN, at=bj(2026, 9, 1), contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    make_orders(XILUOYUAN, at=bj(2026, 9, 1), contacted=3, resolved=0, satisfied=0, basic=0, unsatisfied=3)
    services.snapshot_freeze(period="2026-09", now=bj(2026, 10, 1))
    # October: they swap
    make_orders(DAHONGMEN, at=bj(2026, 10, 1), contacted=3, resolved=0, satisfied=0, basic=0, unsatisfied=3)
    make_orders(XILUOYUAN, at=bj(2026, 10, 1), contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    # when
    october = services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 2))
    # then: previous rank − rank
    assert row(october, XILUOYUAN).movement_in_district == 1
    assert row(october, DAHONGMEN).movement_in_district == -1
    assert row(october, YOUANMEN).movement_in_district is None  # unranked both times


def test_it_freezes_the_previous_period_only_after_the_configured_days(rules, category):
    # rules: start day 19, freeze after 5 days → 2026-10 freezes from 2026-10-24 00:00
    make_orders(XILUOYUAN, at=bj(2026, 10, 1), contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    assert services.snapshot_freeze_due(now=bj(2026, 10, 23, 23)) is None
    frozen = services.snapshot_freeze_due(now=bj(2026, 10, 24, 1))
    assert frozen.period == "2026-10" and frozen.kind == "frozen"


def test_it_will_not_freeze_an_open_period(rules):
    with pytest.raises(DomainError):
        services.snapshot_freeze(period="2026-10", now=bj(2026, 10, 18))
    assert not Snapshot.objects.exists()
