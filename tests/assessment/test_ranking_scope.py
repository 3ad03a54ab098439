"""One decision for every ranking table: for each role and each table a request can name, the page,
the export and the API must allow or refuse alike and, when they allow, list the same units in the
same order with the same ranks. The expectations are written out per role, so a change to who sees
what fails here on all three surfaces at once, and a surface going its own way fails too."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from assessment import rulesets
from assessment.models import Scope, SnapshotRow
from assessment.snapshots import services
from tests.assessment.conftest import bj, make_orders
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FENGTAI, HAIDIAN = "110106", "110108"

# name: (page path, export table, API query) — the same request on the three surfaces
REQUESTS = {
    "streets": ("/assessment/rankings/streets/", "district-streets", "scope=street"),
    "streets-fengtai": (
        f"/assessment/rankings/streets/?district={FENGTAI}",
        f"district-streets.csv?district={FENGTAI}",
        f"scope=street&district={FENGTAI}",
    ),
    "streets-haidian": (
        f"/assessment/rankings/streets/?district={HAIDIAN}",
        f"district-streets.csv?district={HAIDIAN}",
        f"scope=street&district={HAIDIAN}",
    ),
    "streets-city": ("/assessment/rankings/streets/city/", "city-streets", "scope=street&district=city"),
    "districts": ("/assessment/rankings/districts/", "districts", "scope=district"),
    "districts-haidian": (
        f"/assessment/rankings/districts/?district={HAIDIAN}",
        f"districts.csv?district={HAIDIAN}",
        f"scope=district&district={HAIDIAN}",
    ),
    "departments": ("/assessment/rankings/departments/", "departments", "scope=department"),
    "departments-fengtai": (
        f"/assessment/rankings/departments/?district={FENGTAI}",
        f"departments.csv?district={FENGTAI}",
        f"scope=department&district={FENGTAI}",
    ),
    "departments-haidian": (
        f"/assessment/rankings/departments/?district={HAIDIAN}",
        f"departments.csv?district={HAIDIAN}",
        f"scope=department&district={HAIDIAN}",
    ),
}

CITYWIDE = None
# role fixture → request → the table granted: (scope, district code or CITYWIDE); absent = refused
GRANTED = {
    "city_admin": {
        "streets": (Scope.STREET, CITYWIDE),
        "streets-fengtai": (Scope.STREET, FENGTAI),
        "streets-haidian": (Scope.STREET, HAIDIAN),
        "streets-city": (Scope.STREET, CITYWIDE),
        "districts": (Scope.DISTRICT, CITYWIDE),
        "districts-haidian": (Scope.DISTRICT, CITYWIDE),  # the districts table is always the whole city's
        "departments": (Scope.DEPARTMENT, CITYWIDE),
        "departments-fengtai": (Scope.DEPARTMENT, FENGTAI),
        "departments-haidian": (Scope.DEPARTMENT, HAIDIAN),
    },
    "fengtai_manager": {
        "streets": (Scope.STREET, FENGTAI),
        "streets-fengtai": (Scope.STREET, FENGTAI),
        "districts": (Scope.DISTRICT, CITYWIDE),
        "districts-haidian": (Scope.DISTRICT, CITYWIDE),
        "departments": (Scope.DEPARTMENT, FENGTAI),
        "departments-fengtai": (Scope.DEPARTMENT, FENGTAI),
    },
    "agent": {},
    "xiluoyuan_handler": {},
    "water_dept_handler": {},
}


@pytest.fixture
def october(city_admin, category):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=3)
    at = bj(2026, 10, 5, 10)
    make_orders("110106003", at=at, contacted=4, resolved=4, satisfied=3, basic=1, unsatisfied=1)  # 西罗园
    make_orders("110106001", at=at, contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)  # 右安门
    make_orders("110108010", at=at, contacted=3, resolved=2, satisfied=2, basic=0, unsatisfied=1)  # 学院路
    make_orders("110106-water", at=at, contacted=3, resolved=2, satisfied=3, basic=0, unsatisfied=0)
    make_orders("110106-housing", at=at, contacted=2, resolved=2, satisfied=1, basic=0, unsatisfied=0)  # flagged
    make_orders("110108-water", at=at, contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    make_orders("11-water", at=at, contacted=3, resolved=1, satisfied=1, basic=1, unsatisfied=1)
    return services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 31, 12))


def _page(client, path):
    resp = client.get(path + ("&" if "?" in path else "?") + "period=2026-10", follow=True)
    if resp.status_code != 200:
        return resp.status_code, None
    return 200, [(r.unit.code, "" if r.rank is None else str(r.rank)) for r in resp.context["rows"]]


def _export(client, table):
    name, _, query = table.partition("?")
    if "." not in name:
        name += ".csv"
    resp = client.get(f"/assessment/rankings/{name}?period=2026-10" + (f"&{query}" if query else ""))
    if resp.status_code != 200:
        return resp.status_code, None
    rows = list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode("utf-8-sig"))))
    code, rank = rows[0].index("单位编码"), rows[0].index("排名")
    return 200, [(r[code], r[rank]) for r in rows[1:]]


def _api(user, query, *, within: bool):
    client = APIClient()
    client.force_authenticate(user)
    resp = client.get(f"/api/v1/assessment/rankings/?period=2026-10&{query}")
    if resp.status_code != 200:
        return resp.status_code, None
    field = "rank_in_district" if within else "rank_citywide"
    return 200, [(r["unit_code"], "" if r[field] is None else str(r[field])) for r in resp.data["rows"]]


def _expected(snapshot, scope, district):
    """The table worked out from the stored rows alone: every unit of the scope (in the district),
    with the rank that applies to it."""
    rows = SnapshotRow.objects.filter(snapshot=snapshot, scope=scope).select_related("unit")
    if district is not None:
        rows = rows.filter(district__code=district)
    field = "rank_in_district" if district is not None else "rank_citywide"
    return {(r.unit.code, "" if getattr(r, field) is None else str(getattr(r, field))) for r in rows}


@pytest.mark.parametrize("request_name", list(REQUESTS))
@pytest.mark.parametrize("role", list(GRANTED))
def test_page_export_and_api_grant_the_same_table(client, october, request, role, request_name):
    # given
    user = request.getfixturevalue(role)
    assert client.login(username=user.username, password=PASSWORD)
    page_path, export_table, api_query = REQUESTS[request_name]
    granted = GRANTED[role].get(request_name)
    # when
    page = _page(client, page_path)
    export = _export(client, export_table)
    api = _api(user, api_query, within=granted is not None and granted[1] is not None)
    # then
    if granted is None:
        assert (page[0], export[0], api[0]) == (403, 403, 403)
        return
    assert (page[0], export[0], api[0]) == (200, 200, 200)
    assert page[1] == export[1] == api[1]  # same units, same order, same ranks
    assert set(page[1]) == _expected(october, *granted)
    assert page[1]  # every granted table of this fixture has rows


def test_the_tables_hold_what_each_scope_promises(october):
    # the matrix above is only as good as its fixture: the tables it compares really differ
    def codes(scope, district=None):
        return {code for code, _rank in _expected(october, scope, district)}

    assert {"110106003", "110106001"} <= codes(Scope.STREET, FENGTAI) and "110108010" not in codes(
        Scope.STREET, FENGTAI
    )
    assert len(codes(Scope.STREET)) == 343 and len(codes(Scope.DISTRICT)) == 16
    assert codes(Scope.DEPARTMENT, FENGTAI) == {"110106-water", "110106-housing"}
    assert codes(Scope.DEPARTMENT, HAIDIAN) == {"110108-water"}
    assert codes(Scope.DEPARTMENT) == {"110106-water", "110106-housing", "110108-water", "11-water"}


@pytest.mark.parametrize("role,status", [("city_admin", 404), ("fengtai_manager", 404), ("agent", 403)])
def test_an_unknown_district_is_refused_alike(client, october, request, role, status):
    user = request.getfixturevalue(role)
    assert client.login(username=user.username, password=PASSWORD)
    for scope, table, page in (
        ("street", "district-streets", "/assessment/rankings/streets/"),
        ("department", "departments", "/assessment/rankings/departments/"),
    ):
        assert _page(client, f"{page}?district=999999")[0] == status
        assert _export(client, f"{table}.csv?district=999999")[0] == status
        assert _api(user, f"scope={scope}&district=999999", within=True)[0] == status


def test_what_is_refused_is_refused_before_anyone_learns_whether_results_exist(client, fengtai_manager, category):
    # given: no snapshot at all for the period
    assert client.login(username=fengtai_manager.username, password=PASSWORD)
    # when / then: another district's table is a 403 everywhere, not a 404 for "no results yet"
    for name in ("streets-haidian", "streets-city", "departments-haidian"):
        page_path, export_table, api_query = REQUESTS[name]
        assert _page(client, page_path)[0] == 403, name
        assert _export(client, export_table)[0] == 403, name
        assert _api(fengtai_manager, api_query, within=True)[0] == 403, name
    # its own table: an empty page, and nothing to export or serve
    assert _page(client, REQUESTS["streets"][0]) == (200, [])
    assert _export(client, REQUESTS["streets"][1])[0] == 404
    assert _api(fengtai_manager, REQUESTS["streets"][2], within=True)[0] == 404


def test_a_district_manager_without_a_district_sees_no_ranking(client, october):
    # given: a misconfigured account (no unit): it must not fall back to the city's tables
    user = UserFactory(role="district", unit=None)
    assert client.login(username=user.username, password=PASSWORD)
    for name in ("streets", "departments", "districts"):
        page_path, export_table, api_query = REQUESTS[name]
        assert (
            _page(client, page_path)[0],
            _export(client, export_table)[0],
            _api(user, api_query, within=True)[0],
        ) == (
            403,
            403,
            403,
        ), name


def test_the_departments_page_names_the_district_it_is_narrowed_to(client, october, city_admin, fengtai_manager):
    client.force_login(city_admin)
    whole = client.get("/assessment/rankings/departments/?period=2026-10").content.decode()
    assert "<h1>部门排名" in whole
    narrowed = client.get(f"/assessment/rankings/departments/?district={FENGTAI}&period=2026-10").content.decode()
    assert "<h1>丰台区 部门排名" in narrowed
    client.force_login(fengtai_manager)  # a district's default is its own departments
    assert "<h1>丰台区 部门排名" in client.get("/assessment/rankings/departments/?period=2026-10").content.decode()


def test_a_district_account_without_a_district_sees_no_dashboard_and_no_report(client, fengtai_manager):
    from assessment.models import Report

    Report.objects.create(
        kind=Report.Kind.choices[0][0],
        district=None,
        scope_key="city",
        period_start=bj(2026, 10, 1, 0),
        period_end=bj(2026, 11, 1, 0),
        title="全市月报",
    )
    fengtai_manager.unit = None
    fengtai_manager.save(update_fields=["unit"])
    client.force_login(fengtai_manager)
    assert client.get("/assessment/dashboard/").status_code == 403
    assert client.get("/assessment/dashboard/data/?period=2026-10").status_code == 403
    from assessment.governance.services import visible_reports

    assert not visible_reports(fengtai_manager).exists()
