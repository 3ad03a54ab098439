"""The history the forecasts learn from, aggregated in SQL (GROUP BY week / day / half hour): never a
loop over orders or calls."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import numpy as np
from django.db.models import Case, Count, F, IntegerField, Min, Q, When
from django.db.models.functions import TruncDate, TruncHour, TruncWeek
from django.utils import timezone

from assessment.forecasts import calendar, model
from hotline.models import Call, Category
from workorders.models import WorkOrder

# A series: (district id, street id or None, level-2 category id)
Key = tuple[int, int | None, int]


def _counted_orders():
    # one incident counts once: merged orders (并单) are left out
    return WorkOrder.objects.exclude(state="merged").filter(district_id__isnull=False)


def level2():
    """The level-2 category of an order's category (itself for a level-2 one)."""
    return Case(
        When(category__level=3, then=F("category__parent_id")),
        When(category__level=2, then=F("category_id")),
        default=None,
        output_field=IntegerField(),
    )


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def history_start() -> date | None:
    first = _counted_orders().aggregate(first=Min("dispatched_at"))["first"]
    return timezone.localdate(first) if first else None


def weekly(*, since: date, until: date) -> tuple[model.Weekly, list[Key]]:
    """Orders per series and week, weeks from the Monday `since` to the Monday `until` (excluded)."""
    rows = (
        _counted_orders()
        .filter(dispatched_at__gte=local_midnight(since), dispatched_at__lt=local_midnight(until))
        .annotate(week=TruncWeek("dispatched_at"), cat2=level2())
        .filter(cat2__isnull=False)
        .values("district_id", "street_id", "cat2", "week")
        .annotate(n=Count("id"))
        .order_by()
    )
    n_weeks = (until - since).days // 7
    index: dict[Key, int] = {}
    cells: list[tuple[int, int, int]] = []
    for r in rows:
        key = (r["district_id"], r["street_id"], r["cat2"])
        week = r["week"].date() if isinstance(r["week"], datetime) else r["week"]
        cells.append((index.setdefault(key, len(index)), (week - since).days // 7, r["n"]))
    counts = np.zeros((len(index), n_weeks))
    for s, w, n in cells:
        if 0 <= w < n_weeks:
            counts[s, w] += n
    keys = list(index)
    parents = dict(Category.objects.filter(level=2).values_list("id", "parent_id"))
    cat2_ids = sorted({k[2] for k in keys})
    cat1_ids = sorted({parents.get(c) or 0 for c in cat2_ids})
    cat2 = np.array([cat2_ids.index(k[2]) for k in keys], dtype=int)
    cat1 = np.array([cat1_ids.index(parents.get(k[2]) or 0) for k in keys], dtype=int)
    return model.Weekly(since, counts, cat1, cat2), keys


def daily_totals(*, since: date, until: date) -> dict[date, int]:
    rows = (
        _counted_orders()
        .filter(dispatched_at__gte=local_midnight(since), dispatched_at__lt=local_midnight(until))
        .annotate(day=TruncDate("dispatched_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["day"]: r["n"] for r in rows}


def day_weights(totals: dict[date, int], days: Iterable[date]) -> dict[str, float]:
    """Mean orders per day of each day type, relative to working days (1.0)."""
    sums = {calendar.WORKDAY: [0, 0], calendar.OFF_DAY: [0, 0], calendar.HOLIDAY: [0, 0]}
    for d in days:
        cell = sums[calendar.day_type(d)]
        cell[0] += totals.get(d, 0)
        cell[1] += 1
    work = sums[calendar.WORKDAY][0] / sums[calendar.WORKDAY][1] if sums[calendar.WORKDAY][1] else 0
    defaults = {calendar.WORKDAY: 1.0, calendar.OFF_DAY: 0.8, calendar.HOLIDAY: 0.7}
    out = {}
    for kind, (total, n) in sums.items():
        out[str(kind)] = total / n / work if n and work and total else defaults[kind]
    return out


def half_hours(*, since: date, until: date) -> model.Slots:
    """Calls received per half hour (Beijing time), days since … until (excluded)."""
    rows = (
        Call.objects.filter(received_at__gte=local_midnight(since), received_at__lt=local_midnight(until))
        .annotate(
            hour=TruncHour("received_at"),
            half=Case(When(Q(received_at__minute__gte=30), then=1), default=0, output_field=IntegerField()),
        )
        .values("hour", "half")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = np.zeros(((until - since).days, model.SLOTS))
    for r in rows:
        local = timezone.localtime(r["hour"])
        d = (local.date() - since).days
        if 0 <= d < counts.shape[0]:
            counts[d, local.hour * 2 + r["half"]] += r["n"]
    return model.Slots(since, counts)


HANDLE_SAMPLE = 2000
HANDLE_MIN_SAMPLE = 200


def handle_seconds(*, now: datetime, default: float) -> tuple[float, bool]:
    """The center's handling time: call received → order dispatched, over the newest phone orders of
    the last 28 days (a sample of HANDLE_SAMPLE); (default, False) with too few to measure."""
    pairs = list(
        WorkOrder.objects.filter(
            dispatched_at__gte=now - timedelta(days=28),
            dispatched_at__lt=now,
            call__channel="phone",
            call__received_at__isnull=False,
        )
        .order_by("-dispatched_at")
        .values_list("dispatched_at", "call__received_at")[:HANDLE_SAMPLE]
    )
    spans = [(d - r).total_seconds() for d, r in pairs if 0 < (d - r).total_seconds() < 3600]
    if len(spans) < HANDLE_MIN_SAMPLE:
        return default, False
    return sum(spans) / len(spans), True
