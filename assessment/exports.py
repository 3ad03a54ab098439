"""Streamed exports of rankings and order lists (CSV and Excel), in constant memory.

Rows come from `QuerySet.iterator(chunk_size=…)`; CSV is written to the response as it is produced;
Excel is written by openpyxl's write-only workbook (rows go to a temporary file, not memory) and
the finished file is streamed from disk. Phone numbers are masked unless the viewer's role works with
them in full (access.sees_phone_in_full).

Every cell of every export (CSV and Excel, here and in the governance reports) passes through
`cell()`: labels are the displayed ones in the user's language (never internal codes), rates are
numbers (`Rate`: a percentage format in Excel, a number of percent in CSV), and text that a
spreadsheet would run as a formula is neutralised (`neutralise`)."""

from __future__ import annotations

import csv
import itertools
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from assessment.rates import BIT_EXCLUDED, measure_counts
from hotline import access
from hotline.localnames import localized_field
from hotline.models import Call
from hotline.privacy import mask_phone
from workorders.models import Result, Satisfaction

CHUNK = 2000

# OWASP "CSV injection": a cell starting with one of these is read as a formula by Excel,
# LibreOffice or Google Sheets (tab and carriage return too, as some of them skip them first).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The one place that defuses spreadsheet formulas: text starting with =, +, -, @, tab or CR
    gets a leading apostrophe, so it is shown as the text it is and never evaluated. Numbers
    (a negative rank movement included) are left alone: they are stored as numbers, not text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class Rate(float):
    """A rate (0–1) stored as a number: Excel shows it with a percentage format, CSV as percent."""


def cell(value):
    """What one cell holds: lazy labels as text, then neutralised."""
    if isinstance(value, Promise):
        value = str(value)
    return neutralise(value)


def _rate(value):
    return "" if value is None else Rate(value)


def _number(value, digits: int = 2):
    return "" if value is None else round(float(value), digits)


def ranking_table(rows, *, within_district: bool) -> Iterator[list]:
    yield [
        _("排名"),
        _("名次变化"),
        _("单位"),
        _("单位编码"),
        _("回访工单数"),
        _("有效回访"),
        _("有效回访（三率）"),
        _("已联系"),
        _("未联系"),
        _("已解决"),
        _("未解决或部分解决"),
        _("满意"),
        _("基本满意"),
        _("不满意"),
        _("剔除"),
        _("响应率(%)"),
        _("解决率(%)"),
        _("满意率(%)"),
        _("综合得分"),
        _("标记"),
    ]
    for r in rows.iterator(chunk_size=CHUNK):
        rank = r.rank_in_district if within_district else r.rank_citywide
        movement = r.movement_in_district if within_district else r.movement_citywide
        bottom = r.bottom_in_district if within_district else r.bottom_citywide
        mark = _("样本不足") if r.flagged else (_("末位") if bottom else "")
        counts = measure_counts(r)  # the counts the ranking page shows, each the set its drill-down lists
        yield [
            rank if rank is not None else "",
            movement if movement is not None else "",
            r.unit.name,
            r.unit.code,
            *(
                counts[m]
                for m in (
                    "total",
                    "valid",
                    "valid_full",
                    "contacted",
                    "not_contacted",
                    "resolved",
                    "not_resolved",
                    "satisfied",
                    "basic",
                    "unsatisfied",
                    "excluded",
                )
            ),
            _rate(r.response_rate),
            _rate(r.resolution_rate),
            _rate(r.satisfaction_rate),
            _number(r.composite),
            mark,
        ]


def order_table(orders, *, user) -> Iterator[list]:
    full = access.sees_phone_in_full(user)
    # 保密工单: a confidential caller's address and phone stay blank for whoever may not see them
    confidential_shown = access.sees_confidential_callers(user)
    request_types, results, satisfactions = (
        dict(Call.RequestType.choices),
        dict(Result.choices),
        dict(Satisfaction.choices),
    )
    yield [
        _("工单编号"),
        _("派单时间"),
        _("回访时间"),
        _("诉求类型"),
        _("诉求分类"),
        _("街乡镇"),
        _("考核单位"),
        _("诉求地址"),
        _("来电号码"),
        _("联系市民"),
        _("解决情况"),
        _("满意度"),
        _("剔除考核"),
    ]
    # `orders`: the callback facts behind a figure (snapshots.selectors.orders_behind), values as counted.
    rows = orders.values_list(
        "order__number",
        "order__dispatched_at",
        "callback_at",
        "request_type",
        localized_field("category__"),
        "category__name",
        "order__street__name",
        "assessed_unit__name",
        "order__address",
        "order__call__caller_phone",
        "order__call__confidential",
        "contacted",
        "solved",
        "satisfaction",
        "counted_bits",
    )
    for (
        number,
        dispatched,
        callback,
        rtype,
        cat,
        cat_zh,
        street,
        unit,
        address,
        phone,
        confidential,
        contacted,
        solved,
        sat,
        excl,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            number,
            _local(dispatched),
            _local(callback),
            request_types.get(rtype, rtype),
            cat or cat_zh or "",
            street or "",
            unit or "",
            "" if confidential and not confidential_shown else address,
            "" if confidential and not confidential_shown else ((phone or "") if full else mask_phone(phone or "")),
            "" if contacted is None else (_("是") if contacted else _("否")),
            results.get(solved, solved),
            satisfactions.get(sat, sat),
            _("是") if (excl or 0) & BIT_EXCLUDED else _("否"),
        ]


def _local(value) -> datetime | str:
    """A moment as the viewer's wall-clock time: a date cell in Excel (which knows no time zones),
    "YYYY-MM-DD HH:MM" in CSV."""
    return timezone.localtime(value).replace(tzinfo=None) if value else ""


class _Echo:
    def write(self, value):
        return value


def _csv_value(value):
    if isinstance(value, Rate):
        return round(value * 100, 2)  # CSV has no cell format: a number of percent, as the header says
    if isinstance(value, datetime):
        return value.strftime(DATETIME_TEXT)
    return value


def stream_csv(filename: str, table: Iterable[list]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def generate():
        yield "\ufeff"  # so that Excel opens UTF-8 CSV with the Chinese intact
        for row in table:
            yield writer.writerow([_csv_value(cell(v)) for v in row])

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_row(ws, row: Iterable) -> list:
    """One row of write-only cells: neutralised text, numbers as numbers, rates with a % format."""
    from openpyxl.cell import WriteOnlyCell  # with openpyxl, loaded only when an Excel file is made

    cells = []
    for value in row:
        value = cell(value)
        c = WriteOnlyCell(ws, value=float(value) if isinstance(value, Rate) else value)
        if isinstance(value, Rate):
            c.number_format = "0.00%"
        elif isinstance(value, datetime):
            c.number_format = DATETIME_FORMAT
        cells.append(c)
    return cells


DATETIME_TEXT = "%Y-%m-%d %H:%M"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
WIDTH_SAMPLE = 200  # rows read ahead to size the columns (an export streams: the rest is not looked at)
MAX_WIDTH = 60


def _display_width(value) -> int:
    if isinstance(value, datetime):
        return len("2026-10-05 10:00")
    if isinstance(value, Rate):
        return 8
    # Chinese characters take two columns
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(cell(value) or ""))


def set_widths(ws, rows: list[list]) -> None:
    """Column widths from the widest cell of `rows` (before the first row is written: a write-only
    sheet takes its column sizes first)."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths.get(i, 0), _display_width(value))
    for i, width in widths.items():
        ws.column_dimensions[get_column_letter(i + 1)].width = min(width + 2, MAX_WIDTH)


def sheet_title(title: str) -> str:
    """Excel refuses sheet names with \\ / ? * [ ] : or longer than 31 characters (translated titles
    such as "Street/township" have them)."""
    return re.sub(r"[\\/?*\[\]:]", "-", str(title))[:31] or "-"


def write_xlsx(table: Iterable[list], target, *, title: str) -> None:
    from openpyxl import Workbook  # imported when an Excel file is made: it costs every process start otherwise

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title(title))
    rows = iter(table)
    ahead = list(itertools.islice(rows, WIDTH_SAMPLE))
    set_widths(ws, ahead)
    for row in itertools.chain(ahead, rows):
        ws.append(xlsx_row(ws, row))
    wb.save(target)


def stream_xlsx(filename: str, table: Iterable[list], *, title: str) -> FileResponse:
    # A zip cannot be written front to back as rows arrive, so the workbook goes to a temporary
    # file (write-only mode keeps memory flat) which is then streamed in chunks and deleted on close.
    tmp = tempfile.TemporaryFile(suffix=".xlsx")
    write_xlsx(table, tmp, title=title)
    tmp.seek(0)
    return FileResponse(
        tmp,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
