"""China's calendar for the forecasts: working days (调休 included) and statutory holidays."""

from __future__ import annotations

import math
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from workorders.lifecycle.deadlines import is_workday

WORKDAY, OFF_DAY, HOLIDAY = 0, 1, 2


@lru_cache(maxsize=8192)
def day_type(day: date) -> int:
    """WORKDAY (a weekend day made a working day counts as one), HOLIDAY (a statutory holiday:
    春节, 国庆 …), or OFF_DAY (an ordinary weekend day)."""
    if is_workday(day):
        return WORKDAY
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year the package has no data for: weekends only
        return OFF_DAY
    return HOLIDAY if off and name else OFF_DAY


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_calendar(monday: date) -> tuple[int, int]:
    """(working days, holidays) in the week that starts on this Monday."""
    types = [day_type(monday + timedelta(days=i)) for i in range(7)]
    return types.count(WORKDAY), types.count(HOLIDAY)


def season(day: date) -> tuple[float, float, float, float]:
    """Yearly seasonality as two harmonics of the day of the year."""
    x = 2 * math.pi * (day.timetuple().tm_yday - 1) / 365.25
    return math.sin(x), math.cos(x), math.sin(2 * x), math.cos(2 * x)
