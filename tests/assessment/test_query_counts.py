"""The ranking table and the drill-down read a fixed number of queries however many rows they show
(a query per row would fail here): the citywide table of every street against one district's, and
a drill-down page of 2 facts against one of 12."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import rulesets
from assessment.snapshots import services
from tests.assessment.conftest import bj, make_orders
from tests.factories import unit

pytestmark = pytest.mark.django_db
XILUOYUAN, YOUANMEN, XUEYUANLU = "110106003", "110106001", "110108010"
MAX_PAGE_QUERIES = 20  # session, user, snapshot, rule set, rows, navigation … — never one per row


def queries(client, url, params) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, params)
    assert resp.status_code == 200, url
    return len(ctx.captured_queries), resp


@pytest.fixture
def october(city_admin, category):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=1)
    make_orders(XILUOYUAN, at=bj(2026, 10, 3), contacted=10, resolved=8, satisfied=6, basic=3, unsatisfied=3)
    make_orders(YOUANMEN, at=bj(2026, 10, 3), contacted=1, resolved=1, satisfied=1, basic=1, unsatisfied=0)
    make_orders(XUEYUANLU, at=bj(2026, 10, 3), contacted=2, resolved=2, satisfied=2, basic=0, unsatisfied=0)
    return services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))


def test_the_ranking_reads_as_many_queries_for_every_street_of_the_city_as_for_one_district(
    client, city_admin, october
):
    client.force_login(city_admin)
    client.get("/assessment/rankings/streets/city/", {"snapshot": october.pk})  # warm the session and caches
    few, one_district = queries(client, "/assessment/rankings/streets/", {"snapshot": october.pk, "district": "110106"})
    many, city = queries(client, "/assessment/rankings/streets/city/", {"snapshot": october.pk})
    assert len(city.context["rows"]) > 3 * len(one_district.context["rows"])  # every street against one district's
    # one district's table also looks the district up, and the session may be read or not: a query
    # per row would add hundreds (343 streets against about 20)
    assert abs(many - few) <= 2 and many <= MAX_PAGE_QUERIES


@pytest.mark.parametrize("kind", ["frozen", "provisional"])
def test_a_drill_down_page_reads_as_many_queries_for_12_facts_as_for_2(client, city_admin, october, kind):
    snapshot = october
    if kind == "provisional":
        snapshot = services.snapshot_compute_provisional(period="2026-12", now=bj(2026, 12, 20))
        make_orders(XILUOYUAN, at=bj(2026, 12, 3), contacted=10, resolved=8, satisfied=6, basic=3, unsatisfied=3)
        make_orders(YOUANMEN, at=bj(2026, 12, 3), contacted=1, resolved=1, satisfied=1, basic=1, unsatisfied=0)
    client.force_login(city_admin)
    url = "/assessment/orders/"

    def drill(code):
        return queries(client, url, {"snapshot": snapshot.pk, "unit": unit(code).pk, "measure": "valid"})

    drill(YOUANMEN)  # warm the session and caches
    few, two = drill(YOUANMEN)
    many, twelve = drill(XILUOYUAN)
    assert (two.context["count"], twelve.context["count"]) == (2, 12)
    assert many == few and many <= MAX_PAGE_QUERIES
