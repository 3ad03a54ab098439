"""Ranking pages, scorecards, drill-down and exports: what each role sees, and that the orders
behind a figure are exactly the ones it was computed from."""

import csv
import io

import pytest
from openpyxl import load_workbook

from assessment import rulesets
from assessment.models import Scope, SnapshotRow
from assessment.snapshots import services
from hotline.accounts import twofactor
from tests.assessment.conftest import bj, make_order, make_orders
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

XILUOYUAN, YOUANMEN, XUEYUANLU = "110106003", "110106001", "110108010"


@pytest.fixture
def october(city_admin, category):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=3, bottom_n=1)
    at = bj(2026, 10, 5, 10)
    # 西罗园: 5 valid — satisfied 3, basic 1, unsatisfied 1; one not contacted, one unresolved
    make_orders(XILUOYUAN, at=at, contacted=4, resolved=4, satisfied=3, basic=1, unsatisfied=1)
    make_order(XILUOYUAN, callback_at=at, excluded=True, satisfaction="unsatisfied")
    make_orders(YOUANMEN, at=at, contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    make_orders(XUEYUANLU, at=at, contacted=3, resolved=2, satisfied=2, basic=0, unsatisfied=1)
    # outside the period: never in any list
    make_order(XILUOYUAN, callback_at=bj(2026, 11, 1, 0, 0), satisfaction="unsatisfied")
    return services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 31, 12))


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _row(snapshot, code):
    return SnapshotRow.objects.get(snapshot=snapshot, scope=Scope.STREET, unit__code=code)


def test_it_shows_the_district_manager_the_ranking_of_its_streets(client, fengtai_manager, october):
    # when
    resp = login(client, fengtai_manager).get("/assessment/rankings/streets/?period=2026-10")
    # then
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-testid="row-110106003"' in html and 'data-testid="row-110106001"' in html
    assert "row-110108010" not in html  # 海淀's street is not in 丰台's table
    assert "少于 3 件" in html  # the threshold is said on the page
    rows = resp.context["rows"]
    assert [r.unit.code for r in rows if r.rank][:2] == [YOUANMEN, XILUOYUAN]


@pytest.mark.parametrize(
    "url",
    [
        "/assessment/rankings/streets/?period=2026-10&district=110108",  # another district's streets
        "/assessment/rankings/streets/city/?period=2026-10",  # citywide street ranking: city only
        "/assessment/rankings/city-streets.xlsx?period=2026-10",
        "/assessment/rankings/district-streets.csv?period=2026-10&district=110108",
    ],
)
def test_it_refuses_the_district_manager_what_is_not_its_own(client, fengtai_manager, october, url):
    assert login(client, fengtai_manager).get(url).status_code == 403


def test_the_city_sees_all_343_streets_and_the_districts(client, city_admin, october):
    c = login(client, city_admin)
    resp = c.get("/assessment/rankings/streets/city/?period=2026-10")
    assert resp.status_code == 200 and len(resp.context["rows"]) == 343
    assert c.get("/assessment/rankings/districts/?period=2026-10").status_code == 200
    assert c.get("/assessment/rankings/streets/?period=2026-10&district=110108").status_code == 200


@pytest.mark.parametrize(
    "fixture,url,status",
    [
        ("xiluoyuan_handler", "/assessment/rankings/districts/", 403),
        ("xiluoyuan_handler", "/assessment/rankings/streets/", 403),
        ("water_dept_handler", "/assessment/rankings/departments/", 403),
        ("agent", "/assessment/rankings/districts/", 403),
        ("agent", "/assessment/", 403),
        ("fengtai_manager", "/assessment/rankings/districts/", 200),
        ("fengtai_manager", "/assessment/rankings/departments/", 200),
        ("haidian_manager", "/assessment/rankings/streets/", 200),
    ],
)
def test_ranking_pages_per_role(client, october, request, fixture, url, status):
    user = request.getfixturevalue(fixture)
    assert login(client, user).get(url + "?period=2026-10").status_code == status


def test_a_street_sees_its_own_scorecard_and_where_it_lost_points(client, xiluoyuan_handler, october):
    # given
    unit_id = xiluoyuan_handler.unit_id
    c = login(client, xiluoyuan_handler)
    # when
    resp = c.get(f"/assessment/units/{unit_id}/?period=2026-10")
    # then: 1 not contacted, 1 not resolved, 1 basic, 1 unsatisfied
    assert resp.status_code == 200
    assert resp.context["lost"] == {"not_contacted": 1, "not_resolved": 1, "basic": 1, "unsatisfied": 1}
    assert c.get("/assessment/").url == f"/assessment/units/{unit_id}/"
    youanmen = _row(october, YOUANMEN).unit_id
    assert c.get(f"/assessment/units/{youanmen}/?period=2026-10").status_code == 403


def test_the_orders_behind_a_satisfaction_rate_are_exactly_its_callbacks(client, fengtai_manager, october):
    # given: 西罗园's satisfaction rate (3 + 0.9 × 1)/5 = 78%
    row = _row(october, XILUOYUAN)
    assert row.satisfaction_rate == pytest.approx(0.78)
    from workorders.models import WorkOrder

    expected = set(
        WorkOrder.objects.filter(
            assessed_unit__code=XILUOYUAN,
            excluded=False,
            callback_valid=True,
            callback_at__gte=bj(2026, 10, 1),
            callback_at__lt=bj(2026, 11, 1),
        ).values_list("number", flat=True)
    )
    c = login(client, fengtai_manager)
    # when
    resp = c.get(f"/assessment/orders/?snapshot={october.pk}&unit={row.unit_id}&scope=street&measure=valid")
    # then
    assert resp.status_code == 200 and resp.context["count"] == row.valid == 5
    assert {f.order.number for f in resp.context["page"]} == expected
    unsat = c.get(f"/assessment/orders/?snapshot={october.pk}&unit={row.unit_id}&scope=street&measure=unsatisfied")
    assert [o.satisfaction for o in unsat.context["page"]] == ["unsatisfied"]
    excluded = c.get(f"/assessment/orders/?snapshot={october.pk}&unit={row.unit_id}&scope=street&measure=excluded")
    assert excluded.context["count"] == 1


@pytest.mark.parametrize("fixture", ["youanmen_handler", "haidian_manager", "water_dept_handler", "agent"])
def test_others_cannot_open_the_orders_behind_a_street(client, october, request, fixture):
    row = _row(october, XILUOYUAN)
    c = login(client, request.getfixturevalue(fixture))
    for path in ("/assessment/orders/", "/assessment/orders.csv", "/assessment/orders.xlsx"):
        resp = c.get(f"{path}?snapshot={october.pk}&unit={row.unit_id}&scope=street&measure=valid")
        assert resp.status_code == 403, path


def test_the_ranking_exports_to_excel_with_the_numbers_of_the_page(client, fengtai_manager, october):
    # when
    resp = login(client, fengtai_manager).get(f"/assessment/rankings/district-streets.xlsx?snapshot={october.pk}")
    # then
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    by_code = {r[header.index("单位编码")]: r for r in body}
    assert set(by_code) == set(
        SnapshotRow.objects.filter(snapshot=october, scope="street", district__code="110106").values_list(
            "unit__code", flat=True
        )
    )
    x = by_code[XILUOYUAN]
    row = _row(october, XILUOYUAN)
    assert x[header.index("排名")] == row.rank_in_district == 2
    assert x[header.index("有效回访")] == 5
    # rates are numbers shown as percentages, the score a number (not text)
    assert x[header.index("满意率(%)")] == pytest.approx(0.78)
    assert x[header.index("综合得分")] == round(float(row.composite), 2)


def test_the_order_export_masks_phone_numbers(client, fengtai_manager, october):
    row = _row(october, XILUOYUAN)
    resp = login(client, fengtai_manager).get(
        f"/assessment/orders.csv?snapshot={october.pk}&unit={row.unit_id}&scope=street&measure=valid"
    )
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + 5
    phone_col = rows[0].index("来电号码")
    assert {r[phone_col] for r in rows[1:]} == {"138****1111"}
    assert "13800001111" not in text


def test_a_bad_period_or_measure_is_refused_cleanly(client, fengtai_manager, october):
    c = login(client, fengtai_manager)
    assert c.get("/assessment/rankings/streets/?period=2026-13").status_code == 404
    row = _row(october, XILUOYUAN)
    resp = c.get(f"/assessment/orders/?snapshot={october.pk}&unit={row.unit_id}&measure=bogus")
    assert resp.status_code == 400


def test_the_home_panel_shows_this_months_ranking(client, fengtai_manager, city_admin):
    # given: a provisional result for the current period
    from django.utils import timezone

    from assessment import rulesets

    make_orders(XILUOYUAN, at=timezone.now(), contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    services.snapshot_compute_provisional(period=rulesets.current_period())
    # when
    html = login(client, fengtai_manager).get("/").content.decode()
    # then
    assert 'data-testid="assessment-panel"' in html and "西罗园街道" in html


def test_the_city_publishes_rules_on_the_page_and_bad_input_changes_nothing(client, city_admin, fengtai_manager):
    from assessment.models import RuleSet

    active = rulesets.ruleset_active()
    c = login(client, city_admin)
    form = {
        "response_weight": "0.2",
        "resolution_weight": "0.4",
        "satisfaction_weight": "0.4",
        "basic_factor": "0.8",
        "period_start_day": "19",
        "counted_request_types": ["complaint", "help"],
        "min_valid_callbacks": "5",
        "bottom_n": "2",
        "freeze_after_days": "3",
        "note": "试行",
    }
    # bad: weights add up to 1.1
    bad = c.post("/assessment/rules/", {**form, "response_weight": "0.3"})
    assert bad.status_code == 400 and "之和等于 1" in bad.content.decode()
    assert RuleSet.objects.get(is_active=True).pk == active.pk
    # good
    assert c.post("/assessment/rules/", form).status_code == 302
    new = RuleSet.objects.get(is_active=True)
    assert (new.version, new.period_start_day, new.counted_request_types) == (
        active.version + 1,
        19,
        ["complaint", "help"],
    )
    # a district manager reads the versions but cannot publish
    m = login(client, fengtai_manager)
    assert m.get("/assessment/rules/").status_code == 200
    assert m.post("/assessment/rules/", form).status_code == 403
    assert RuleSet.objects.count() == 2


def test_the_admin_publishes_a_new_version_instead_of_editing(client, city_admin):
    from assessment.models import RuleSet

    active = rulesets.ruleset_active()
    c = login(client, city_admin)
    session = c.session  # past the admin's second factor (tested in tests/hotline)
    session[twofactor.SESSION_KEY] = city_admin.pk
    session.save()
    resp = c.post(
        "/admin/assessment/ruleset/add/",
        {
            "response_weight": "0.1",
            "resolution_weight": "0.5",
            "satisfaction_weight": "0.4",
            "basic_factor": "0.85",
            "period_start_day": "1",
            "counted_request_types": '["complaint"]',
            "min_valid_callbacks": "10",
            "bottom_n": "3",
            "bottom_min_ranked": "4",
            "counting": "each_round",
            "scope_rules": "[]",
            "default_scope": "full",
            "freeze_after_days": "5",
            "note": "后台",
        },
    )
    assert resp.status_code == 302
    assert RuleSet.objects.get(is_active=True).version == active.version + 1
    active.refresh_from_db()
    assert not active.is_active and str(active.basic_factor) == "0.9000"  # the old version is kept as it was


def test_the_city_freezes_on_the_snapshots_page(client, city_admin, fengtai_manager, october):
    c = login(client, city_admin)
    resp = c.post("/assessment/snapshots/action/", {"period": "2026-10", "action": "freeze"})
    assert resp.status_code == 302
    from assessment.models import Snapshot

    assert Snapshot.objects.filter(period="2026-10", kind="frozen").exists()
    assert c.post("/assessment/snapshots/action/", {"period": "2026-10", "action": "recompute"}).status_code == 400
    m = login(client, fengtai_manager)
    assert m.post("/assessment/snapshots/action/", {"period": "2026-10", "action": "freeze"}).status_code == 403
    assert m.get("/assessment/snapshots/").status_code == 200


def test_the_dashboard_data_is_scoped(client, fengtai_manager, haidian_manager, xiluoyuan_handler, october):
    data = login(client, fengtai_manager).get("/assessment/dashboard/data/?period=2026-10").json()
    assert [g["district"] for g in data["heat"]] == ["丰台区"]
    assert {r["unit"] for r in data["ranking"]} >= {"西罗园街道", "右安门街道"}
    assert sum(data["by_hour"]) == sum(n for _, n in data["by_category"]) > 0
    assert login(client, xiluoyuan_handler).get("/assessment/dashboard/data/?period=2026-10").status_code == 403
    assert login(client, xiluoyuan_handler).get("/assessment/dashboard/").status_code == 403


def test_a_department_sees_its_own_scorecard_only(client, water_dept_handler, city_admin, category):
    # given: the water department's callbacks in October
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=3)
    make_orders("110106-water", at=bj(2026, 10, 5), contacted=3, resolved=2, satisfied=3, basic=0, unsatisfied=0)
    make_orders("110106-housing", at=bj(2026, 10, 5), contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    snapshot = services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 31))
    c = login(client, water_dept_handler)
    # when / then
    own = c.get(f"/assessment/units/{water_dept_handler.unit_id}/?period=2026-10")
    assert own.status_code == 200 and own.context["row"].scope == "department"
    assert own.context["lost"]["not_resolved"] == 1
    housing = SnapshotRow.objects.get(snapshot=snapshot, unit__code="110106-housing").unit_id
    assert c.get(f"/assessment/units/{housing}/?period=2026-10").status_code == 403
    assert c.get(f"/assessment/orders/?snapshot={snapshot.pk}&unit={housing}&measure=valid").status_code == 403


def test_a_district_figure_drills_down_to_the_districts_orders(client, fengtai_manager, haidian_manager, october):
    fengtai = SnapshotRow.objects.get(snapshot=october, scope="district", unit__code="110106")
    url = f"/assessment/orders/?snapshot={october.pk}&unit={fengtai.unit_id}&scope=district&measure=valid"
    resp = login(client, fengtai_manager).get(url)
    assert resp.status_code == 200 and resp.context["count"] == fengtai.valid == 8
    assert login(client, haidian_manager).get(url).status_code == 403
    # 海淀's manager sees the districts table but cannot open 丰台's orders from it
    table = client.get(f"/assessment/rankings/districts/?snapshot={october.pk}")
    row = next(r for r in table.context["rows"] if r.unit.code == "110106")
    assert not row.drillable


def test_opening_a_rate_lists_the_orders_that_cost_points_first(client, fengtai_manager, october):
    row = _row(october, XILUOYUAN)
    base = f"/assessment/orders/?snapshot={october.pk}&unit={row.unit_id}&scope=street&measure=valid"
    c = login(client, fengtai_manager)
    sat = [o.satisfaction for o in c.get(base + "&focus=satisfaction").context["page"]]
    assert sat == ["unsatisfied", "basic", "satisfied", "satisfied", "satisfied"]
    contacted = [o.contacted for o in c.get(base + "&focus=response").context["page"]]
    assert contacted[0] is False and all(contacted[1:])


def test_a_query_parameter_named_items_is_just_a_parameter(client, city_admin):
    # the period form and the drill-down carry the query over; `?items=` was a 500 on every page
    from tests.factories import login_to_admin

    login_to_admin(client, city_admin)
    for url in ("/assessment/", "/assessment/city/streets/?items=abc", "/assessment/orders/?items=abc&measure=valid"):
        assert client.get(url if "?" in url else url + "?items=abc").status_code < 500, url
