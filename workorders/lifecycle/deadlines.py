"""Deadlines from an urgency tier.

Hour limits run on the clock. Day limits count China's working days, honouring official holidays
and make-up working days (调休) through the `chinese-calendar` package; for a year the package
does not know yet, Monday to Friday count (logged once, so the gap is seen and the package updated).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import chinese_calendar
from django.utils import timezone

from workorders.models import UrgencyTier

log = logging.getLogger(__name__)


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    try:
        workday: bool = chinese_calendar.is_workday(day)  # the package ships no type hints
        return workday
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


@lru_cache(maxsize=64)
def _warn_unknown_year(year: int) -> None:
    log.warning("chinese-calendar has no holiday data for %s: counting Monday-Friday as working days", year)


def add_workdays(start: datetime, days: int) -> datetime:
    """The same local time of day on the `days`-th working day after `start`'s date. A start on a
    holiday or weekend counts from the next working day."""
    local = timezone.localtime(start)
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return timezone.make_aware(datetime.combine(day, local.time()))


def add_limit(start: datetime, amount: int, unit: str) -> datetime:
    if unit == UrgencyTier.Unit.HOURS:
        return start + timedelta(hours=amount)
    if unit == UrgencyTier.Unit.MINUTES:
        return start + timedelta(minutes=amount)
    return add_workdays(start, amount)


def warn_point(start: datetime, deadline: datetime, ratio: Decimal | float) -> datetime:
    """The moment `ratio` of the time between start and deadline is used (wall-clock time)."""
    return start + (deadline - start) * float(ratio)


def deadlines_for(tier: UrgencyTier, start: datetime) -> tuple[datetime, datetime]:
    response = add_limit(start, tier.response_limit, tier.response_unit)
    resolution = add_limit(start, tier.resolution_limit, tier.resolution_unit)
    return min(response, resolution), resolution


def deadline_at(deadline: datetime, *, parked_at: datetime | None, moment: datetime) -> datetime:
    """The deadline as it stands at `moment` for an order that may be parked (挂账) since `parked_at`:
    the clock stops while parked, so the time parked before `moment` moves it later. Clearing the
    parking moves the stored deadlines by the same amount (order_clear_parking)."""
    if parked_at is None or moment <= parked_at:
        return deadline
    return deadline + (moment - parked_at)
