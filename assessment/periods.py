"""Assessment periods. A period is labelled by its month ("2026-11"). With the calendar rule it runs
from the 1st of that month to the 1st of the next; with start day 19 it runs from the 19th of the
previous month to the 19th of this one (both in Beijing time, end exclusive)."""

from __future__ import annotations

import re
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.errors import DomainError

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse(label: str) -> tuple[int, int]:
    m = PERIOD_RE.match(label or "")
    if not m:
        raise DomainError(_("考核周期格式应为 YYYY-MM，例如 2026-11。"), code="invalid_period")
    return int(m.group(1)), int(m.group(2))


def shift(label: str, months: int) -> str:
    year, month = parse(label)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def bounds(label: str, start_day: int) -> tuple[datetime, datetime]:
    year, month = parse(label)
    tz = timezone.get_current_timezone()
    if start_day == 1:
        start = datetime(year, month, 1, tzinfo=tz)
        ny, nm = parse(shift(label, 1))
        end = datetime(ny, nm, 1, tzinfo=tz)
    else:
        py, pm = parse(shift(label, -1))
        start = datetime(py, pm, start_day, tzinfo=tz)
        end = datetime(year, month, start_day, tzinfo=tz)
    return start, end


def period_of(moment: datetime, start_day: int) -> str:
    local = timezone.localtime(moment)
    label = f"{local.year:04d}-{local.month:02d}"
    if start_day != 1 and local.day >= start_day:
        label = shift(label, 1)
    return label
