"""Streamed exports of rankings and order lists (CSV and Excel), in constant memory.

Rows come from `QuerySet.iterator(chunk_size=…)`; CSV is written to the response as it is produced;
Excel is written by openpyxl's write-only workbook (rows go to a temporary file, not memory) and
the finished file is streamed from disk. Phone numbers are masked unless the viewer's role works with
them in full (access.sees_phone_in_full)."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.rates import BIT_EXCLUDED
from hotline import access
from hotline.privacy import mask_phone

CHUNK = 2000


def _pct(value) -> str:
    return "" if value is None else f"{value * 100:.2f}"


def ranking_table(rows, *, within_district: bool) -> Iterator[list]:
    yield [
        _("排名"),
        _("名次变化"),
        _("单位"),
        _("单位编码"),
        _("回访工单数"),
        _("有效回访"),
        _("已联系"),
        _("已解决"),
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
        yield [
            rank if rank is not None else "",
            movement if movement is not None else "",
            r.unit.name,
            r.unit.code,
            r.total_orders,
            r.valid,
            r.contacted,
            r.resolved,
            r.satisfied,
            r.basic,
            r.unsatisfied,
            r.excluded,
            _pct(r.response_rate),
            _pct(r.resolution_rate),
            _pct(r.satisfaction_rate),
            "" if r.composite is None else f"{r.composite:.2f}",
            mark,
        ]


def order_table(orders, *, user) -> Iterator[list]:
    full = access.sees_phone_in_full(user)
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
        "category__name",
        "order__street__name",
        "assessed_unit__name",
        "order__address",
        "order__call__caller_phone",
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
        street,
        unit,
        address,
        phone,
        contacted,
        solved,
        sat,
        excl,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            number,
            _local(dispatched),
            _local(callback),
            rtype,
            cat or "",
            street or "",
            unit or "",
            address,
            (phone or "") if full else mask_phone(phone or ""),
            "" if contacted is None else (_("是") if contacted else _("否")),
            solved,
            sat,
            _("是") if (excl or 0) & BIT_EXCLUDED else _("否"),
        ]


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class _Echo:
    def write(self, value):
        return value


def stream_csv(filename: str, table: Iterable[list]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def generate():
        yield "\ufeff"  # so that Excel opens UTF-8 CSV with the Chinese intact
        for row in table:
            yield writer.writerow(row)

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def write_xlsx(table: Iterable[list], target, *, title: str) -> None:
    from openpyxl import Workbook  # imported when an Excel file is made: it costs every process start otherwise

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    for row in table:
        ws.append(row)
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
