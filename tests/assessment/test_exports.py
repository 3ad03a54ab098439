"""Exports can't attack and say what the page says: one neutralising function for every CSV/XLSX
cell, displayed labels in the user's language, rates as numbers with a percentage format."""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from assessment import exports, rulesets
from assessment.governance import services as governance
from assessment.models import Scope, SnapshotRow
from assessment.snapshots import services
from hotline.models import Call, Category
from tests.assessment.conftest import bj, make_order, make_orders
from tests.factories import PASSWORD
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

XILUOYUAN, YOUANMEN = "110106003", "110106001"
ATTACK = '=HYPERLINK("http://evil.example/","西罗园街道洋桥小区")'


@pytest.mark.parametrize("text", ["=1+1", "+86 1380000", "-2+3", "@SUM(A1)", "\t=1", "\r=1", ATTACK])
def test_it_neutralises_every_formula_trigger(text):
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["西罗园街道", "a=b", "", 0, -3, 12.5, None, exports.Rate(0.5)])
def test_it_leaves_everything_else_alone(value):
    assert exports.neutralise(value) == value


@pytest.fixture
def october(city_admin, category):
    category.name_en = "Noise nuisance"
    category.save()
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=3, bottom_n=1)
    at = bj(2026, 10, 5, 10)
    orders = make_orders(XILUOYUAN, at=at, contacted=2, resolved=2, satisfied=2, basic=0, unsatisfied=0)
    # a request type other than the default, counted as its callback fact recorded it
    make_order(
        XILUOYUAN,
        callback_at=at + timedelta(hours=5),
        request_type="suggestion",
        solved="unresolved",
        satisfaction="unsatisfied",
    )
    # an address and a title a third-party app could have sent (Open311)
    WorkOrder.objects.filter(pk=orders[0].pk).update(address=ATTACK)
    Call.objects.filter(order__pk=orders[0].pk).update(address=ATTACK)
    make_orders(YOUANMEN, at=at, contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0)
    return services.snapshot_compute_provisional(period="2026-10", now=bj(2026, 10, 31, 12))


def login(client, user, language="zh-hans"):
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies["django_language"] = language
    return client


def orders_url(snapshot, fmt):
    row = SnapshotRow.objects.get(snapshot=snapshot, scope=Scope.STREET, unit__code=XILUOYUAN)
    return f"/assessment/orders.{fmt}?snapshot={snapshot.pk}&unit={row.unit_id}&scope=street&measure=valid"


def workbook(resp):
    assert resp.status_code == 200
    return load_workbook(io.BytesIO(b"".join(resp.streaming_content)))


def all_cells(wb):
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def test_the_order_xlsx_holds_no_formula(client, fengtai_manager, october):
    wb = workbook(login(client, fengtai_manager).get(orders_url(october, "xlsx")))
    cells = all_cells(wb)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(exports.FORMULA_TRIGGERS)]
    assert "'" + ATTACK in [c.value for c in cells]


def test_the_order_csv_neutralises_the_same_cell(client, fengtai_manager, october):
    resp = login(client, fengtai_manager).get(orders_url(october, "csv"))
    rows = list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode("utf-8-sig"))))
    cells = [v for r in rows for v in r]
    assert "'" + ATTACK in cells
    assert not [v for v in cells if v.startswith(exports.FORMULA_TRIGGERS)]


def test_the_order_export_uses_the_displayed_labels_in_chinese(client, fengtai_manager, october):
    wb = workbook(login(client, fengtai_manager).get(orders_url(october, "xlsx")))
    rows = list(wb.active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    column = {name: {r[header.index(name)] for r in body} for name in ("诉求类型", "诉求分类", "解决情况", "满意度")}
    assert column == {
        "诉求类型": {"投诉", "建议"},
        "诉求分类": {"噪声扰民"},
        "解决情况": {"已解决", "未解决"},
        "满意度": {"满意", "不满意"},
    }


def test_the_order_export_in_english_has_no_codes_and_no_chinese_labels(client, fengtai_manager, october):
    wb = workbook(login(client, fengtai_manager, "en").get(orders_url(october, "xlsx")))
    rows = list(wb.active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert "Order number" in header or all(h.isascii() for h in header), header
    cells = {str(v) for r in body for i, v in enumerate(r) if header[i] not in ("Address",)}
    codes = {"suggestion", "complaint", "resolved", "unresolved", "satisfied", "unsatisfied"}
    assert not cells & codes
    assert {"Complaint", "Suggestion", "Resolved", "Unresolved", "Satisfied", "Dissatisfied"} & cells
    assert "Noise nuisance" in cells
    assert not [h for h in header if not h.isascii()]


def test_ranking_rates_are_numbers_with_a_percentage_format(client, fengtai_manager, october):
    wb = workbook(
        login(client, fengtai_manager).get(f"/assessment/rankings/district-streets.xlsx?snapshot={october.pk}")
    )
    ws = wb.active
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("单位编码")].value == XILUOYUAN)
    sat = row[header.index("满意率(%)")]
    assert sat.data_type == "n" and sat.value == pytest.approx(2 / 3, abs=1e-4)
    assert sat.number_format == "0.00%"
    assert row[header.index("综合得分")].data_type == "n"


def test_ranking_csv_rates_are_numbers_of_percent(client, fengtai_manager, october):
    resp = login(client, fengtai_manager).get(f"/assessment/rankings/district-streets.csv?snapshot={october.pk}")
    rows = list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    row = next(r for r in rows[1:] if r[header.index("单位编码")] == XILUOYUAN)
    assert float(row[header.index("满意率(%)")]) == pytest.approx(66.67)


@pytest.mark.parametrize(
    "fixture,status",
    [
        ("fengtai_manager", 200),
        ("city_admin", 200),
        ("xiluoyuan_handler", 200),
        ("youanmen_handler", 403),
        ("haidian_manager", 403),
        ("agent", 403),
    ],
)
def test_the_order_export_per_role(client, request, october, fixture, status):
    resp = login(client, request.getfixturevalue(fixture)).get(orders_url(october, "xlsx"))
    assert resp.status_code == status


def test_the_report_workbook_holds_no_formula_and_rates_as_numbers(settings, tmp_path, category):
    settings.MEDIA_ROOT = tmp_path
    evil = Category.objects.create(code="T-EVIL", name="=cmd|' /C calc'!A0", level=3)
    start = bj(2026, 11, 19)
    for i in range(3):
        make_order(
            XILUOYUAN, callback_at=start + timedelta(hours=2), category=evil, dispatched_at=start + timedelta(hours=i)
        )
    report = governance.report_generate(kind="daily", start=start, end=start + timedelta(days=1))
    wb = load_workbook(report.file.path)
    cells = all_cells(wb)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "'=cmd|' /C calc'!A0" in [c.value for c in cells]
    rate = next(c for row in wb["概况"].iter_rows() for c in row if c.number_format == "0.00%")
    assert rate.data_type == "n"


@pytest.mark.parametrize("title", ["Street/township", "a[b]:c*?\\d", "街乡镇" * 20])
def test_a_translated_sheet_title_is_one_excel_accepts(title):
    from openpyxl import Workbook

    # given: a title as a translation may give it; when: a sheet gets it; then: Excel takes it
    Workbook(write_only=True).create_sheet(exports.sheet_title(title))
    assert len(exports.sheet_title(title)) <= 31
