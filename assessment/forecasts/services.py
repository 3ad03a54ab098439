"""Computing and storing the forecasts (the nightly task) — runs twice safely: each run is a new
ForecastRun, written in one transaction; older runs beyond KEEP_RUNS are dropped."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assessment.forecasts import calendar, erlang, history, model
from assessment.forecasts.models import ForecastRun, SlotForecast, WeekForecast

METHOD = "HistGradientBoosting (Poisson) on calendar + history features"
HISTORY_WEEKS = 106  # two years and a bit: a year-earlier week for every target week
KEEP_RUNS = 7
BULK = 2000


def forecast_compute(*, now: datetime | None = None) -> ForecastRun | None:
    """Forecast the weeks from the current one and the calls of the next days; None without history."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = history.history_start()
    if start is None or start >= today:
        return None
    first_week = calendar.week_start(today)
    since = max(calendar.week_start(start), first_week - timedelta(weeks=HISTORY_WEEKS))
    weeks = settings.FORECAST_WEEKS
    data, keys = history.weekly(since=since, until=first_week)
    t = data.n_weeks
    future = model.extend_weeks(data, weeks)
    weekly_model = model.WeeklyModel(horizon=weeks).fit(data, t)
    expected = weekly_model.predict(future, t)
    naive = model.weekly_seasonal_naive(future, t, weeks)
    recent = data.counts[:, max(0, t - 4) : t].mean(axis=1) if t else expected[:, 0] * 0

    days = settings.FORECAST_CALL_DAYS
    slot_since = max(start, today - timedelta(days=model.YEAR_DAYS + 35))
    slots = history.half_hours(since=slot_since, until=today)
    slot_t = slots.counts.shape[0]
    slot_model = model.SlotModel(days=days).fit(slots, slot_t)
    slot_future = model.extend(slots, days)
    slot_expected = slot_model.predict(slot_future, slot_t)
    slot_naive = model.slot_seasonal_naive(slot_future, slot_t, days)
    handle, measured = history.handle_seconds(now=now, default=float(settings.STAFFING_HANDLE_SECONDS))

    totals = history.daily_totals(since=today - timedelta(weeks=26), until=today)
    weights = history.day_weights(totals, [today - timedelta(days=i) for i in range(1, 26 * 7 + 1)])

    with transaction.atomic():
        run = ForecastRun.objects.create(
            computed_at=now,
            method=METHOD if weekly_model.booster is not None else "recent mean (too little history)",
            history_start=start,
            first_week=first_week,
            weeks=weeks,
            first_day=today,
            days=days,
            day_weights=weights,
            handle_seconds=handle,
            handle_measured=measured,
        )
        rows = []
        for s, (district_id, street_id, category_id) in enumerate(keys):
            for h in range(weeks):
                w = t + h
                rows.append(
                    WeekForecast(
                        run=run,
                        district_id=district_id,
                        street_id=street_id,
                        category_id=category_id,
                        week=first_week + timedelta(weeks=h),
                        expected=round(float(expected[s, h]), 3),
                        naive=float(naive[s, h]),
                        recent=round(float(recent[s]), 3),
                        last_year=int(data.counts[s, w - model.YEAR_WEEKS]) if w - model.YEAR_WEEKS >= 0 else None,
                    )
                )
        WeekForecast.objects.bulk_create(rows, batch_size=BULK)
        slot_rows = []
        for d in range(days):
            midnight = history.local_midnight(today + timedelta(days=d))
            for k in range(model.SLOTS):
                calls = float(slot_expected[d, k])
                slot_rows.append(
                    SlotForecast(
                        run=run,
                        starts_at=midnight + timedelta(minutes=30 * k),
                        expected=round(calls, 2),
                        naive=float(slot_naive[d, k]),
                        seats=seats_for(calls, handle),
                    )
                )
        SlotForecast.objects.bulk_create(slot_rows, batch_size=BULK)
        old = ForecastRun.objects.order_by("-computed_at", "-id").values_list("id", flat=True)[KEEP_RUNS:]
        ForecastRun.objects.filter(id__in=list(old)).delete()
    return run


def seats_for(calls: float, handle: float) -> int:
    return erlang.seats_needed(
        calls,
        period_seconds=1800,
        handle_seconds=handle,
        target_seconds=settings.STAFFING_ANSWER_SECONDS,
        share=settings.STAFFING_ANSWER_PERCENT / 100,
    )
