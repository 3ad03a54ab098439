import pytest
from rest_framework.test import APIClient

from assessment import rulesets
from assessment.models import RuleSet, Snapshot, SnapshotRow
from assessment.snapshots import services
from tests.assessment.conftest import bj, make_orders

pytestmark = pytest.mark.django_db

XILUOYUAN, YOUANMEN, XUEYUANLU = "110106003", "110106001", "110108010"


@pytest.fixture
def october(city_admin, category):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=3)
    at = bj(2026, 10, 5, 10)
    make_orders(XILUOYUAN, at=at, contacted=4, resolved=4, satisfied=3, basic=1, unsatisfied=1)
    make_orders(YOUANMEN, at=at, contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    make_orders(XUEYUANLU, at=at, contacted=3, resolved=2, satisfied=2, basic=0, unsatisfied=1)
    return services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 31, 12))


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_serves_the_district_ranking_of_streets_to_its_manager(fengtai_manager, october):
    resp = api(fengtai_manager).get("/api/v1/assessment/rankings/?period=2026-10&scope=street")
    assert resp.status_code == 200
    codes = [r["unit_code"] for r in resp.data["rows"]]
    assert codes[:2] == [YOUANMEN, XILUOYUAN] and XUEYUANLU not in codes
    assert resp.data["min_valid_callbacks"] == 3
    x = next(r for r in resp.data["rows"] if r["unit_code"] == XILUOYUAN)
    assert x["satisfaction_rate"] == pytest.approx(0.78) and x["rank_in_district"] == 2


@pytest.mark.parametrize(
    "fixture,query,status",
    [
        ("fengtai_manager", "scope=street&district=110108", 403),
        ("haidian_manager", "scope=street&district=110106", 403),
        ("fengtai_manager", "scope=district", 200),
        ("city_admin", "scope=street", 200),
        ("xiluoyuan_handler", "scope=street", 403),
        ("water_dept_handler", "scope=department", 403),
        ("agent", "scope=district", 403),
        ("fengtai_manager", "scope=bogus", 400),
    ],
)
def test_rankings_per_role(october, request, fixture, query, status):
    user = request.getfixturevalue(fixture)
    assert api(user).get(f"/api/v1/assessment/rankings/?period=2026-10&{query}").status_code == status


def test_a_street_reads_its_own_rates_and_no_one_elses(xiluoyuan_handler, october):
    c = api(xiluoyuan_handler)
    own = c.get("/api/v1/assessment/rates/?period=2026-10")
    assert own.status_code == 200 and own.data["row"]["valid"] == 5
    assert own.data["lost_points"] == {"not_contacted": 1, "not_resolved": 1, "basic": 1, "unsatisfied": 1}
    other = SnapshotRow.objects.get(snapshot=october, scope="street", unit__code=YOUANMEN).unit_id
    assert c.get(f"/api/v1/assessment/rates/?period=2026-10&unit={other}").status_code == 403


def test_the_orders_behind_a_figure_over_the_api(fengtai_manager, haidian_manager, october):
    unit = SnapshotRow.objects.get(snapshot=october, scope="street", unit__code=XILUOYUAN).unit_id
    url = f"/api/v1/assessment/orders/?snapshot={october.pk}&unit={unit}&measure=unsatisfied"
    resp = api(fengtai_manager).get(url)
    assert resp.status_code == 200 and resp.data["count"] == 1
    assert resp.data["results"][0]["satisfaction"] == "unsatisfied"
    assert api(haidian_manager).get(url).status_code == 403


def test_the_city_publishes_a_new_rule_version(city_admin, fengtai_manager, october):
    before = RuleSet.objects.count()
    resp = api(city_admin).post("/api/v1/assessment/rulesets/", {"basic_factor": "0.8", "note": "调整"}, format="json")
    assert resp.status_code == 201 and resp.data["version"] == before + 1 and resp.data["is_active"]
    assert str(RuleSet.objects.filter(is_active=True).get().basic_factor) == "0.8000"
    # a district manager may read but not publish
    assert api(fengtai_manager).get("/api/v1/assessment/rulesets/active/").status_code == 200
    assert api(fengtai_manager).post("/api/v1/assessment/rulesets/", {"bottom_n": 5}, format="json").status_code == 403
    assert RuleSet.objects.count() == before + 1


@pytest.mark.parametrize(
    "payload",
    [
        {"response_weight": "0.5"},  # weights no longer sum to 1
        {"basic_factor": "1.5"},
        {"period_start_day": 15},
        {"counted_request_types": []},
        {"counted_request_types": ["gossip"]},
        {"min_valid_callbacks": "many"},
    ],
)
def test_bad_rules_are_refused_and_change_nothing(city_admin, payload):
    active = rulesets.ruleset_active()
    resp = api(city_admin).post("/api/v1/assessment/rulesets/", payload, format="json")
    assert resp.status_code == 400 and resp.data["detail"]
    assert RuleSet.objects.get(is_active=True).pk == active.pk
    assert RuleSet.objects.count() == 1


def test_the_city_freezes_and_recomputes_over_the_api(city_admin, fengtai_manager, october):
    c = api(city_admin)
    frozen = c.post("/api/v1/assessment/snapshots/compute/", {"period": "2026-10", "action": "freeze"}, format="json")
    assert frozen.status_code == 201 and frozen.data["kind"] == "frozen"
    rulesets.ruleset_publish(acting_user=city_admin, basic_factor="1")
    again = c.post(
        "/api/v1/assessment/snapshots/compute/",
        {"period": "2026-10", "action": "recompute", "label": "基本满意按满意计"},
        format="json",
    )
    assert again.status_code == 201 and again.data["base"] == frozen.data["id"]
    units = {d["unit"] for d in again.data["differences"]}
    assert "西罗园街道" in units and "学院路街道" not in units  # 学院路 had no basic-satisfied callbacks
    # a district manager sees the differences of its own units only
    detail = api(fengtai_manager).get(f"/api/v1/assessment/snapshots/{again.data['id']}/")
    assert all(d["unit"] != "学院路街道" for d in detail.data["differences"])
    assert (
        api(fengtai_manager)
        .post("/api/v1/assessment/snapshots/compute/", {"period": "2026-10", "action": "freeze"}, format="json")
        .status_code
        == 403
    )
    assert Snapshot.objects.filter(period="2026-10").count() == 2


def test_reports_over_the_api_are_scoped(fengtai_manager, city_admin, xiluoyuan_handler, settings, tmp_path):
    from assessment.governance import services as governance

    settings.MEDIA_ROOT = tmp_path
    governance.reports_generate_due(now=bj(2026, 11, 20, 6))
    fengtai = api(fengtai_manager).get("/api/v1/assessment/reports/")
    assert fengtai.status_code == 200
    assert {r["district_code"] for r in fengtai.data["results"]} == {"110106"}
    assert fengtai.data["results"][0]["download"].endswith("/download/")
    assert api(city_admin).get("/api/v1/assessment/reports/").data["count"] == 17
    assert api(xiluoyuan_handler).get("/api/v1/assessment/reports/").status_code == 403


def test_the_schema_documents_the_assessment_endpoints(city_admin):
    schema = api(city_admin).get("/api/v1/schema/?format=json").json()
    for path in (
        "/api/v1/assessment/rankings/",
        "/api/v1/assessment/rates/",
        "/api/v1/assessment/orders/",
        "/api/v1/assessment/rulesets/",
        "/api/v1/assessment/snapshots/",
        "/api/v1/assessment/snapshots/compute/",
        "/api/v1/assessment/reports/",
    ):
        assert path in schema["paths"], path
