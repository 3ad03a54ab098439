"""The English switch leaves no Chinese system text on the assessment pages and in its files (issue 25):
texts the system generated and stored (report titles, a frozen result's label) are stored in the
installation's language and shown from the row's own fields in the viewer's; exports hold dates as
dates and size their columns."""

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.utils import translation
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from assessment import rulesets
from assessment.governance import services as governance
from assessment.models import Report, Scope, Snapshot, SnapshotRow
from assessment.snapshots import services
from tests.assessment.conftest import bj, make_orders
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
XILUOYUAN = "110106003"
HAN = re.compile(r"[\u4e00-\u9fff]")


def login(client, user, language="en"):
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def daily(settings, tmp_path, category):
    settings.MEDIA_ROOT = tmp_path
    start = bj(2026, 11, 19)
    make_orders(XILUOYUAN, at=start + timedelta(hours=3), contacted=1, resolved=1, satisfied=1, basic=0, unsatisfied=0)
    with translation.override("en"):  # generated while an English reader was active: stored in Chinese anyway
        return governance.report_generate(kind="daily", start=start, end=start + timedelta(days=1))


def test_a_report_title_is_stored_in_chinese_and_shown_in_the_readers_language(client, city_admin, daily):
    # then: the stored fact keeps the words it was made with …
    assert Report.objects.get(pk=daily.pk).title == "全市 日报 2026-11-19"
    # … and the English page names it in English, the Chinese page in Chinese
    html = login(client, city_admin).get("/assessment/reports/").content.decode()
    table = re.search(r'data-testid="reports".*?</table>', html, re.S).group(0)
    assert "City-wide Daily report 2026-11-19" in table and not HAN.search(table)
    html = login(client, city_admin, "zh-hans").get("/assessment/reports/").content.decode()
    assert "全市 日报 2026-11-19" in html


def test_the_report_file_downloads_in_the_readers_language(client, city_admin, daily):
    resp = login(client, city_admin).get(f"/assessment/reports/{daily.pk}/download/")
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    assert not [ws.title for ws in wb.worksheets if HAN.search(ws.title)]
    assert wb.worksheets[0]["A1"].value == "City-wide Daily report 2026-11-19"
    # the stored file is in Chinese (whoever's language was active when it was made), and the
    # Chinese reader gets it
    assert load_workbook(daily.file.path).worksheets[0]["A1"].value == "全市 日报 2026-11-19"
    resp = login(client, city_admin, "zh-hans").get(f"/assessment/reports/{daily.pk}/download/")
    assert load_workbook(io.BytesIO(b"".join(resp.streaming_content))).worksheets[0]["A1"].value == daily.title


@pytest.fixture
def frozen(city_admin, category):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=1)
    make_orders(XILUOYUAN, at=bj(2026, 10, 5, 10), contacted=2, resolved=2, satisfied=2, basic=0, unsatisfied=0)
    with translation.override("en"):
        return services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6), acting_user=city_admin)


def test_a_frozen_results_label_is_shown_in_the_readers_language(client, city_admin, frozen):
    version = frozen.ruleset.version
    assert Snapshot.objects.get(pk=frozen.pk).label == f"2026-10 月度结果（规则 v{version}）"
    c = login(client, city_admin)
    for url in (
        "/assessment/snapshots/",
        f"/assessment/snapshots/{frozen.pk}/",
        "/assessment/rankings/streets/city/?period=2026-10",
    ):
        html = c.get(url).content.decode()
        assert f"2026-10 monthly result (rules v{version})" in html, url
        assert "月度结果" not in html, url


def test_an_order_export_holds_dates_as_dates_and_sizes_its_columns(client, city_admin, frozen):
    row = SnapshotRow.objects.get(snapshot=frozen, scope=Scope.STREET, unit__code=XILUOYUAN)
    query = f"snapshot={frozen.pk}&unit={row.unit_id}&scope=street&measure=valid"
    c = login(client, city_admin)
    wb = load_workbook(io.BytesIO(b"".join(c.get(f"/assessment/orders.xlsx?{query}").streaming_content)))
    ws = wb.active
    header = [cell.value for cell in ws[1]]
    callback = ws.cell(row=2, column=header.index("Callback at") + 1)
    assert isinstance(callback.value, datetime) and callback.is_date
    assert callback.value == datetime(2026, 10, 5, 10, 0)  # Beijing wall-clock time
    assert "yyyy" in callback.number_format
    widths = {letter: dim.width for letter, dim in ws.column_dimensions.items()}
    assert len(widths) == len(header)
    assert all(widths[get_column_letter(i + 1)] >= len(name) for i, name in enumerate(header))
    assert widths[callback.column_letter] >= len("2026-10-05 10:00")
    # CSV keeps the readable text
    rows = list(
        csv.reader(
            io.StringIO(b"".join(c.get(f"/assessment/orders.csv?{query}").streaming_content).decode("utf-8-sig"))
        )
    )
    assert rows[1][rows[0].index("Callback at")] == "2026-10-05 10:00"
