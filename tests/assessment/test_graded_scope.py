"""Graded scope (分级分类考评), the explicit bottom-of-table rule, and rule-set validation.

西罗园 (110106003), October 2026 (calendar months):
  category 噪声 (three rates): 4 facts — contacted 3, resolved 3, satisfied 2 / basic 1 / unsatisfied 1
  category 咨询类 (graded):    2 facts — not contacted, unresolved, unsatisfied
With 咨询类 "not assessed": response 3/4 = 75 %, resolution 3/4 = 75 %, satisfaction 2.9/4 = 72.5 %.
With 咨询类 "response rate only": response 3/6 = 50 %; resolution and satisfaction unchanged
(their divisor stays the 4 facts assessed on three rates).
"""

from __future__ import annotations

import pytest

from assessment import rulesets
from assessment.models import RuleSet, Scope, SnapshotRow
from assessment.snapshots import services
from hotline.errors import DomainError
from hotline.models import Category

from .conftest import bj, make_order, make_orders

pytestmark = pytest.mark.django_db
XILUOYUAN = "110106003"


@pytest.fixture
def graded(db):
    parent = Category.objects.create(code="T-CONSULT", name="咨询类", level=1)
    child = Category.objects.create(code="T-CONSULT-1", name="政策咨询", level=2, parent=parent)
    make_orders(XILUOYUAN, at=bj(2026, 10, 3), contacted=3, resolved=3, satisfied=2, basic=1, unsatisfied=1)
    for day in (5, 6):
        make_order(
            XILUOYUAN,
            callback_at=bj(2026, 10, day),
            contacted=False,
            solved="unresolved",
            satisfaction="unsatisfied",
            category=child,
        )
    return parent, child


def figures(city_admin, **rules):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=1, **rules)
    snap = services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 11, 2))
    r = SnapshotRow.objects.get(snapshot=snap, scope=Scope.STREET, unit__code=XILUOYUAN)
    return r


def test_a_response_only_category_changes_the_response_rate_and_nothing_else(graded, city_admin):
    parent, _child = graded
    none = figures(city_admin, scope_rules=[{"category": parent.code, "scope": "none"}])
    response = figures(city_admin, scope_rules=[{"category": parent.code, "scope": "response"}])
    assert (none.valid, none.valid_full, none.response_rate) == (4, 4, pytest.approx(0.75))
    assert (response.valid, response.valid_full, response.response_rate) == (6, 4, pytest.approx(0.5))
    # nothing else moved
    for name in ("resolution_rate", "satisfaction_rate", "valid_full", "resolved", "satisfied", "basic", "unsatisfied"):
        assert getattr(response, name) == getattr(none, name), name
    assert none.resolution_rate == pytest.approx(0.75) and none.satisfaction_rate == pytest.approx(0.725)
    # the composite follows the response rate only: 100 × 0.1 × (0.5 − 0.75) = −2.5
    assert response.composite == pytest.approx(none.composite - 2.5)


def test_the_drill_down_of_a_response_only_fact_shows_it_under_the_response_rate_only(graded, city_admin):
    from assessment.snapshots import selectors
    from tests.factories import unit

    parent, _child = graded
    figures(city_admin, scope_rules=[{"category": parent.code, "scope": "response"}])
    snap = services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))

    def n(measure):
        return selectors.orders_behind(
            city_admin, snapshot=snap, unit=unit(XILUOYUAN), scope="street", measure=measure
        ).count()

    assert (n("valid"), n("not_contacted"), n("valid_full"), n("not_resolved"), n("unsatisfied")) == (6, 3, 4, 1, 1)


@pytest.mark.parametrize(
    "entries",
    [
        [{"category": "T-CONSULT", "scope": "response"}, {"category": "T-CONSULT-1", "scope": "none"}],
        [{"category": "T-CONSULT", "scope": "response"}, {"request_type": "complaint", "scope": "full"}],
        [{"request_type": "help", "scope": "response"}, {"request_type": "help", "scope": "response"}],
    ],
)
def test_overlapping_scope_entries_are_refused_naming_both(graded, city_admin, entries):
    before = RuleSet.objects.count()
    with pytest.raises(DomainError) as exc:
        rulesets.ruleset_publish(acting_user=city_admin, scope_rules=entries)
    assert "第 1 条" in str(exc.value.message) and "第 2 条" in str(exc.value.message)
    assert RuleSet.objects.count() == before


@pytest.mark.parametrize(
    "entries",
    [
        [{"category": "NOPE", "scope": "response"}],
        [{"scope": "response"}],
        [{"request_type": "complaint", "scope": "half"}],
        "not a list",
        [["category", "x"]],
    ],
)
def test_bad_scope_entries_are_refused_and_change_nothing(graded, city_admin, entries):
    before = RuleSet.objects.count()
    with pytest.raises(DomainError):
        rulesets.ruleset_publish(acting_user=city_admin, scope_rules=entries)
    assert RuleSet.objects.count() == before


def test_the_rules_page_refuses_overlaps_with_a_message(graded, city_admin, client):
    client.force_login(city_admin)
    active = rulesets.active_ruleset()
    data = {k: getattr(active, k) for k in rulesets.RULE_FIELDS if k not in ("counted_request_types", "scope_rules")}
    data.update(
        counted_request_types=active.counted_request_types,
        scope_rules='[{"category": "T-CONSULT", "scope": "none"}, {"category": "T-CONSULT-1", "scope": "full"}]',
    )
    resp = client.post("/assessment/rules/", data)
    assert resp.status_code == 400 and "第 1 条" in resp.content.decode()


# --- 末位 -----------------------------------------------------------------------------------------
def _streets(city_admin, scores: dict[str, int], **rules):
    """Each street: 10 valid callbacks, `n` of them satisfied (the rest unsatisfied)."""
    for code, satisfied in scores.items():
        make_orders(
            code,
            at=bj(2026, 10, 3),
            contacted=10,
            resolved=10,
            satisfied=satisfied,
            basic=0,
            unsatisfied=10 - satisfied,
        )
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=1, **rules)
    snap = services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 11, 2))
    rows = SnapshotRow.objects.filter(snapshot=snap, scope=Scope.STREET, rank_in_district__isnull=False)
    return {r.unit.code: r.bottom_in_district for r in rows.select_related("unit")}


FENGTAI_STREETS = ["110106001", "110106002", "110106003", "110106004", "110106005"]


def test_three_ranked_units_and_n_3_mark_nobody(city_admin):
    marks = _streets(city_admin, dict(zip(FENGTAI_STREETS[:3], [10, 9, 8], strict=True)), bottom_n=3)
    assert len(marks) == 3 and not any(marks.values())


def test_bottom_marks_at_most_n_ranked_units_and_never_a_tie_crossing_n(city_admin):
    # 5 ranked, N = 2: scores 10, 9, 8, 7, 7 → the two 7s are the last two: both marked
    marks = _streets(city_admin, dict(zip(FENGTAI_STREETS, [10, 9, 8, 7, 7], strict=True)), bottom_n=2)
    assert sorted(c for c, m in marks.items() if m) == FENGTAI_STREETS[3:]


def test_a_tie_that_would_cross_n_is_not_marked(city_admin):
    # 5 ranked, N = 1: the two 7s tie for last — marking them would mark 2 > 1: nobody is marked
    marks = _streets(city_admin, dict(zip(FENGTAI_STREETS, [10, 9, 8, 7, 7], strict=True)), bottom_n=1)
    assert not any(marks.values())


def test_the_ranking_page_states_the_counting_rule(graded, city_admin, client):
    figures(city_admin)
    client.force_login(city_admin)
    for url in (
        "/assessment/rankings/districts/",
        "/assessment/rankings/streets/city/",
        "/assessment/rankings/departments/",
    ):
        html = client.get(url, {"period": "2026-10"}).content.decode()
        assert 'data-testid="rule-note"' in html and "每轮有效回访各计一次" in html, url


@pytest.mark.parametrize(
    "body",
    [
        {"scope_rules": [{"category": "T-CONSULT", "scope": "none"}, {"category": "T-CONSULT-1", "scope": "full"}]},
        {"scope_rules": {"category": "T-CONSULT"}},
        {"scope_rules": [{"category": ["T-CONSULT"], "request_type": {"x": 1}, "scope": ["full"]}]},
        {"counting": ["each_round"]},
        {"default_scope": "half"},
        {"bottom_min_ranked": "many"},
    ],
)
def test_the_api_refuses_bad_rules_with_400_and_changes_nothing(graded, city_admin, body):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(city_admin)
    before = RuleSet.objects.count()
    resp = client.post("/api/v1/assessment/rulesets/", body, format="json")
    assert resp.status_code == 400, resp.content
    assert RuleSet.objects.count() == before


def test_the_api_publishes_graded_scopes_as_a_new_version(graded, city_admin):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(city_admin)
    body = {"scope_rules": [{"category": "T-CONSULT", "scope": "response"}], "counting": "first_valid"}
    resp = client.post("/api/v1/assessment/rulesets/", body, format="json")
    assert resp.status_code in (200, 201), resp.content
    active = rulesets.active_ruleset()
    assert (active.scope_rules, active.counting) == (body["scope_rules"], "first_valid")


def test_a_form_posting_null_scope_rules_publishes_no_graded_entries(graded, city_admin):
    # given: a multipart form (as Swagger sends it) with the text "null" for the list
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(city_admin)
    resp = client.post("/api/v1/assessment/rulesets/", {"scope_rules": "null", "period_start_day": 1})
    # then: a new version without graded entries, never a 500
    assert resp.status_code == 201, resp.content
    assert rulesets.active_ruleset().scope_rules == []


def test_the_ranking_table_counts_behind_each_link_the_orders_that_link_lists(graded, city_admin, client):
    """The ranking's "not contacted" / "not resolved" / "unsatisfied" / "excluded" cells, with 咨询类
    counted for the response rate only: the count shown is the number of facts its link lists.
    Failed before: the table showed not resolved = valid − resolved = 6 − 3 = 3, its link listed 1
    (the not-resolved fact among the 4 assessed on three rates)."""
    import re

    from assessment.snapshots import selectors
    from tests.factories import unit

    # given: 咨询类 for the response rate only, October frozen
    parent, _child = graded
    figures(city_admin, scope_rules=[{"category": parent.code, "scope": "response"}])
    snap = services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))
    # when: the district's streets table
    client.force_login(city_admin)
    html = client.get("/assessment/rankings/streets/", {"snapshot": snap.pk, "district": "110106"}).content.decode()
    row = re.search(rf'data-testid="row-{XILUOYUAN}".*?</tr>', html, re.S).group(0)
    shown = {m: int(n) for m, n in re.findall(r"measure=(\w+)\">(\d+)</a>", row)}
    # then: each count is the length of the list behind its link
    listed = {
        m: selectors.orders_behind(city_admin, snapshot=snap, unit=unit(XILUOYUAN), scope="street", measure=m).count()
        for m in shown
    }
    assert shown == listed
    assert (shown["valid"], shown["not_contacted"], shown["not_resolved"], shown["unsatisfied"]) == (6, 3, 1, 1)
