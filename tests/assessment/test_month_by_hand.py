"""One month worked by hand, with a category assessed on the response rate only and a corrected
callback fact: the ranking table, the drill-down behind each of its counts, the scorecard, the
monthly report, the ranking export and 每月一题 must all say the same, because all of them count
through assessment/rates.py over the facts (issue 20, item 4).

Rules: calendar months, weights 0.1 / 0.5 / 0.4, basic factor 0.9, every valid round counts,
category 咨询类 (T-CONSULT) assessed on the response rate only; 噪声扰民 (T-ASSESS) on three rates.

西罗园街道 (110106003, 丰台), October 2026, every order dispatched 2 days before its callback:
  A  3 Oct 噪声  contacted      resolved    satisfied
  B  5 Oct 噪声  contacted      resolved    basic
  C  7 Oct 噪声  contacted      unresolved  unsatisfied
  D  9 Oct 噪声  not contacted  resolved    satisfied   → corrected 20 Oct by the city (facts.correct):
                                                          unresolved, basic ("回访录入错误"); the
                                                          order's own columns still say resolved
  R1 11 Oct 咨询 not contacted  unresolved  unsatisfied (response rate only)
  R2 13 Oct 咨询 contacted      resolved    satisfied   (response rate only)
October frozen on 6 November:
  valid 6 (all), on three rates (valid_full) 4 (A B C D), total 6, excluded 0
  contacted 4 (A B C R2), not contacted 2 (D R1)           → response 4/6 = 66.67 %
  resolved 2 (A B: D as corrected; R2 is response-only)   → resolution 2/4 = 50.00 %
  not resolved = valid_full − resolved = 4 − 2 = 2 (C D)  (valid − resolved would say 4: the bug)
  satisfied 1 (A), basic 2 (B D), unsatisfied 1 (C)      → satisfaction (1 + 0.9 × 2)/4 = 70.00 %
  composite 100 × (0.1 × 4/6 + 0.5 × 0.5 + 0.4 × 0.7) = 6.667 + 25 + 28 = 59.67
丰台's other streets have no callbacks: 丰台's district row counts exactly 西罗园's facts.
每月一题 "噪声治理" (丰台, 2026-10, 噪声扰民): orders A B C D, all completed, called back (on three
  rates) 4, resolved 2 → 50.00 % — the ranking's resolution rate (the order columns would say 3 of 6).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest

from assessment import facts, rates, rulesets
from assessment.governance import services as governance
from assessment.models import CallbackFact, Report, Scope, SnapshotRow
from assessment.snapshots import selectors, services
from hotline.models import Category
from tests.assessment.conftest import bj, make_order
from tests.factories import division, unit

pytestmark = pytest.mark.django_db
XILUOYUAN, FENGTAI = "110106003", "110106"

COUNTS = {
    "total_orders": 6,
    "valid": 6,
    "valid_full": 4,
    "contacted": 4,
    "resolved": 2,
    "satisfied": 1,
    "basic": 2,
    "unsatisfied": 1,
    "excluded": 0,
}
FIGURES = {"response_rate": 4 / 6, "resolution_rate": 0.5, "satisfaction_rate": 0.7, "composite": 59.67}
# what each link of the ranking row lists, by hand
BEHIND = {"valid": 6, "not_contacted": 2, "not_resolved": 2, "unsatisfied": 1, "excluded": 0}


@pytest.fixture
def october(city_admin, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    consult = Category.objects.create(code="T-CONSULT", name="咨询类", level=1)
    rulesets.ruleset_publish(
        acting_user=city_admin,
        period_start_day=1,
        min_valid_callbacks=1,
        scope_rules=[{"category": consult.code, "scope": "response"}],
    )
    answers = {
        "A": (3, True, "resolved", "satisfied", category),
        "B": (5, True, "resolved", "basic", category),
        "C": (7, True, "unresolved", "unsatisfied", category),
        "D": (9, False, "resolved", "satisfied", category),
        "R1": (11, False, "unresolved", "unsatisfied", consult),
        "R2": (13, True, "resolved", "satisfied", consult),
    }
    orders = {
        key: make_order(
            XILUOYUAN,
            callback_at=bj(2026, 10, day, 15),
            dispatched_at=bj(2026, 10, day, 15) - timedelta(days=2),
            contacted=contacted,
            solved=solved,
            satisfaction=satisfaction,
            category=cat,
        )
        for key, (day, contacted, solved, satisfaction, cat) in answers.items()
    }
    d = CallbackFact.objects.get(order=orders["D"])
    facts.correct(
        d,
        acting_user=city_admin,
        reason="回访录入错误",
        now=bj(2026, 10, 20),
        solved="unresolved",
        satisfaction="basic",
    )
    topic = governance.topic_create(
        acting_user=city_admin, period="2026-10", category_id=category.pk, title="噪声治理", district_code=FENGTAI
    )
    snapshot = services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))
    return {"orders": orders, "snapshot": snapshot, "topic": topic}


def test_the_month_worked_by_hand(october, city_admin, fengtai_manager, client):
    snap, orders = october["snapshot"], october["orders"]
    street = SnapshotRow.objects.get(snapshot=snap, scope=Scope.STREET, unit__code=XILUOYUAN)
    district = SnapshotRow.objects.get(snapshot=snap, scope=Scope.DISTRICT, unit__code=FENGTAI)

    # the ranking's stored rows
    for row in (street, district):
        assert {c: getattr(row, c) for c in rates.COUNT_COLUMNS} == COUNTS
        assert {k: getattr(row, k) for k in FIGURES} == pytest.approx(FIGURES)

    # the ranking table: each count shown is the number of facts its link lists
    client.force_login(fengtai_manager)
    html = client.get("/assessment/rankings/streets/", {"snapshot": snap.pk}).content.decode()
    row_html = re.search(rf'data-testid="row-{XILUOYUAN}".*?</tr>', html, re.S).group(0)
    shown = {m: int(n) for m, n in re.findall(r"measure=(\w+)\">(\d+)</a>", row_html)}
    assert shown == BEHIND
    assert ["66.67%", "50.00%", "70.00%"] == re.findall(r"focus=\w+\">([\d.]+%)</a>", row_html)
    assert ">59.67<" in row_html
    links = {m: unescape(h) for h, m in re.findall(r'href="([^"]*measure=(\w+))"', row_html) if m in BEHIND}
    for measure, link in links.items():
        assert client.get(link).context["count"] == BEHIND[measure], measure

    # the drill-down: the not-resolved facts are C and D (as corrected), never the response-only R1
    def behind(measure):
        listed = selectors.orders_behind(
            fengtai_manager, snapshot=snap, unit=unit(XILUOYUAN), scope="street", measure=measure
        )
        return {f.order_id for f in listed}

    assert behind("not_resolved") == {orders["C"].pk, orders["D"].pk}
    assert behind("not_contacted") == {orders["D"].pk, orders["R1"].pk}
    assert behind("basic") == {orders["B"].pk, orders["D"].pk}
    assert {m: len(behind(m)) for m in rates.MEASURES} == rates.measure_counts(street)

    # the scorecard: the same figures, and where points were lost
    card = client.get(f"/assessment/units/{street.unit_id}/", {"snapshot": snap.pk})
    assert card.context["row"].pk == street.pk
    assert card.context["lost"] == {"not_contacted": 2, "not_resolved": 2, "basic": 2, "unsatisfied": 1}
    assert "59.67" in card.content.decode()

    # the monthly report of 丰台: the same counts and figures
    report = governance.report_generate(
        kind=Report.Kind.MONTHLY, start=snap.period_start, end=snap.period_end, district=division(FENGTAI)
    )
    assert report.content["callbacks"] == COUNTS
    assert {k: report.content[k] for k in FIGURES} == pytest.approx(FIGURES)

    # the ranking export: the page's counts and rates
    resp = client.get(f"/assessment/rankings/district-streets.csv?snapshot={snap.pk}")
    rows = list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    exported = next(r for r in rows[1:] if r[header.index("单位编码")] == XILUOYUAN)
    cells = {name: exported[header.index(name)] for name in header}
    assert (cells["有效回访"], cells["有效回访（三率）"], cells["未联系"], cells["未解决或部分解决"]) == (
        "6",
        "4",
        "2",
        "2",
    )
    assert (float(cells["响应率(%)"]), float(cells["解决率(%)"]), float(cells["满意率(%)"])) == pytest.approx(
        (66.67, 50.0, 70.0), abs=0.01
    )
    assert float(cells["综合得分"]) == pytest.approx(59.67)

    # 每月一题: the topic's orders A B C D, 2 resolved of 4 called back — the ranking's resolution rate
    [progress] = governance.topics_progress(user=fengtai_manager, period="2026-10")
    assert (progress["total"], progress["open"], progress["completed"]) == (4, 0, 4)
    assert (progress["called_back"], progress["resolved"], progress["resolution_rate"]) == (4, 2, 0.5)
    assert progress["resolution_rate"] == pytest.approx(street.resolution_rate)
    topic = october["topic"].pk
    for measure, expected in (("called_back", 4), ("resolved", 2)):
        page = client.get("/assessment/governance/orders/", {"topic": topic, "measure": measure})
        assert page.context["count"] == expected, measure
    resolved = client.get("/assessment/governance/orders/", {"topic": topic, "measure": "resolved"})
    assert {o.pk for o in resolved.context["page"].object_list} == {orders["A"].pk, orders["B"].pk}
