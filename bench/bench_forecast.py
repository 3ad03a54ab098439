"""Backtest of the forecasts (assessment/forecasts) by rolling origin, beside the seasonal-naive baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_fc .venv/bin/python bench/bench_forecast.py [--origins 6]

Weekly orders per series (district × street × level-2 category), horizons 1–8 weeks, from `--origins`
weekly origins; the last origin's 8th week is the last complete week in the database. Each origin fits
the model on the weeks before it only (nothing after the origin is read). Errors are reported per
level — city, district, street, each for all categories, level-1 and level-2 categories — as sums of the
series (bottom-up, as the page adds them up):
- MASE: Σ|error| / Σ scale, the scale of each aggregated series being its in-sample seasonal-naive
  MAE (same week a year earlier; last week when the history is shorter than 56 weeks);
- MAPE over the weeks with orders (a week with none has no percentage error), and WAPE = Σ|e| / Σ actual.
Calls per half hour: 14 days from weekly origins, MASE scaled by the same-half-hour-a-week-earlier MAE.
Surges: the existing rule (assessment.governance.services.surge_clusters, SURGE_WINDOW_MINUTES /
SURGE_MIN_CALLS) run every 10 minutes over the weeks after each origin; a street × level-2 category ×
week with a surge was "flagged a week ahead" when the forecast issued 7 days before that week began
(horizon 2) said "expected to rise" (selectors.rise_rule: the settings FORECAST_RISE_*); the same
rule applied to the baseline's figure is printed beside it, with how many cells each flags in all.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from assessment.forecasts import calendar, history, model, selectors  # noqa: E402
from assessment.governance.services import surge_clusters  # noqa: E402
from hotline.models import Category  # noqa: E402

H = 8


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def groups(keys, data: model.Weekly) -> dict[str, np.ndarray]:
    """Level name → group index of each series."""
    parents = dict(Category.objects.filter(level=2).values_list("id", "parent_id"))

    def index(labels):
        seen: dict = {}
        return np.array([seen.setdefault(x, len(seen)) for x in labels])

    out = {}
    for level, place in (("city", lambda k: 0), ("district", lambda k: k[0]), ("street", lambda k: (k[0], k[1]))):
        out[f"{level} · all"] = index([place(k) for k in keys])
        out[f"{level} · cat-1"] = index([(place(k), parents.get(k[2])) for k in keys])
        out[f"{level} · cat-2"] = index([(place(k), k[2]) for k in keys])
    return out


def summed(matrix: np.ndarray, group: np.ndarray) -> np.ndarray:
    out = np.zeros((int(group.max()) + 1, matrix.shape[1]))
    np.add.at(out, group, matrix)
    return out


def scale(series: np.ndarray, t: int, m: int) -> np.ndarray:
    """In-sample seasonal-naive MAE per row, over the weeks before t."""
    if t - m < 4:
        m = 1
    return np.abs(series[:, m:t] - series[:, : t - m]).mean(axis=1)


class Score:
    def __init__(self):
        self.abs = {"model": 0.0, "naive": 0.0}
        self.scale = 0.0
        self.ape = {"model": [], "naive": []}
        self.actual = 0.0
        self.series = 0

    def add(self, actual, preds: dict, sc):
        ok = sc > 0
        for name, pred in preds.items():
            err = np.abs(pred - actual)
            self.abs[name] += err[ok].sum()
            pos = actual > 0
            self.ape[name].extend((err[pos] / actual[pos]).tolist())
        self.scale += (sc[:, None] * np.ones_like(actual))[ok].sum()
        self.actual += actual[ok].sum()

    def row(self, name):
        mase = {k: v / self.scale if self.scale else float("nan") for k, v in self.abs.items()}
        mape = {k: 100 * float(np.mean(v)) if v else float("nan") for k, v in self.ape.items()}
        wape = {k: 100 * v / self.actual if self.actual else float("nan") for k, v in self.abs.items()}
        return (
            f"{name:<18} {self.series:>7} {mase['model']:>7.3f} {mase['naive']:>7.3f} "
            f"{mape['model']:>8.1f} {mape['naive']:>8.1f} {wape['model']:>7.1f} {wape['naive']:>7.1f}"
        )


def weekly(args):
    start = history.history_start()
    today = timezone.localdate()
    end = calendar.week_start(today)  # the current, incomplete week is left out
    since = calendar.week_start(start) + timedelta(weeks=1)  # the first week may be partial
    data, keys = history.weekly(since=since, until=end)
    T = data.n_weeks
    origins = [T - H - i for i in range(args.origins - 1, -1, -1)]
    print(
        f"weekly: {len(keys):,} series (district × street × level-2 category), {T} weeks from {since}, "
        f"origins {data.monday(origins[0])} … {data.monday(origins[-1])}, horizons 1–{H}"
    )
    levels = groups(keys, data)
    scores = {name: Score() for name in levels}
    forecasts = {}
    fit_seconds = []
    for t in origins:
        t0 = time.monotonic()
        m = model.WeeklyModel(horizon=H).fit(data, t)
        fit_seconds.append(time.monotonic() - t0)
        pred = m.predict(data, t)
        naive = model.weekly_seasonal_naive(data, t, H)
        forecasts[t] = (pred, naive)
        for name, group in levels.items():
            hist = summed(data.counts, group)
            actual = hist[:, t : t + H]
            sc = scale(hist, t, model.YEAR_WEEKS)
            scores[name].add(actual, {"model": summed(pred, group), "naive": summed(naive, group)}, sc)
            scores[name].series = hist.shape[0]
    print(f"model fit: {np.mean(fit_seconds):.1f} s per origin ({load()})")
    print(f"{'level':<18} {'series':>7} {'MASE':>7} {'naive':>7} {'MAPE %':>8} {'naive':>8} {'WAPE %':>7} {'naive':>7}")
    for name, score in scores.items():
        print(score.row(name))
    return data, keys, origins, forecasts


def half_hours(args):
    today = timezone.localdate()
    start = max(history.history_start(), today - timedelta(days=model.YEAR_DAYS + 120))
    data = history.half_hours(since=start + timedelta(days=1), until=today)
    T = data.counts.shape[0]
    days = settings.FORECAST_CALL_DAYS
    origins = [T - days - 7 * i for i in range(args.origins - 1, -1, -1)]
    score = Score()
    for t in origins:
        pred = model.SlotModel(days=days).fit(data, t).predict(data, t)
        naive = model.slot_seasonal_naive(data, t, days)
        actual = data.counts[t : t + days]
        past = data.counts[t - 56 : t].reshape(-1)
        sc = np.abs(past[336:] - past[:-336]).mean()
        score.add(actual.reshape(1, -1), {"model": pred.reshape(1, -1), "naive": naive.reshape(1, -1)}, np.array([sc]))
    score.series = 1
    print(f"\ncalls per half hour: {days} days from {len(origins)} origins ({data.day(origins[0])} …), {load()}")
    print(f"{'level':<18} {'series':>7} {'MASE':>7} {'naive':>7} {'MAPE %':>8} {'naive':>8} {'WAPE %':>7} {'naive':>7}")
    print(score.row("city · half hour"))


def surges(data, keys, origins, forecasts):
    window = timedelta(minutes=settings.SURGE_WINDOW_MINUTES)
    parents = dict(Category.objects.filter(level=3).values_list("id", "parent_id"))
    series = {k: i for i, k in enumerate(keys)}
    t0 = time.monotonic()
    cells = set()
    for t in origins:
        w = t + 1  # the week that starts 7 days after the origin: horizon 2
        start = history.local_midnight(data.monday(w))
        now = start + timedelta(minutes=10)
        while now <= start + timedelta(days=7):
            for c in surge_clusters(now=now, window=window, min_calls=settings.SURGE_MIN_CALLS):
                key = (c["district_id"], c["street_id"], parents.get(c["category_id"], c["category_id"]))
                if key in series:
                    cells.add((t, series[key]))
            now += timedelta(minutes=10)
    hits = {"model": 0, "naive": 0}
    flagged = {"model": 0, "naive": 0}
    for t in origins:
        pred, naive = forecasts[t]
        recent = data.counts[:, max(0, t - 4) : t].mean(axis=1)
        for name, values in (("model", pred[:, 1]), ("naive", naive[:, 1])):
            rising = np.array([selectors.rise_rule(float(e), float(r)) for e, r in zip(values, recent, strict=True)])
            flagged[name] += int(rising.sum())
            hits[name] += sum(1 for (o, s) in cells if o == t and rising[s])
    total_cells = len(keys) * len(origins)
    print(
        f"\nsurges (rule: ≥ {settings.SURGE_MIN_CALLS} calls of one category at one place in "
        f"{settings.SURGE_WINDOW_MINUTES} min), scanned every 10 min in {len(origins)} weeks "
        f"({time.monotonic() - t0:.0f} s, {load()}):"
    )
    print(f"  street × level-2 category × week cells with a surge: {len(cells)} of {total_cells:,}")
    for name in ("model", "naive"):
        share = 100 * hits[name] / len(cells) if cells else float("nan")
        print(
            f"  {name:<6} flagged a week ahead: {hits[name]} ({share:.0f} %); cells flagged in all: "
            f"{flagged[name]:,} ({100 * flagged[name] / total_cells:.1f} %)"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--origins", type=int, default=6)
    args = parser.parse_args()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; {load()}")
    started = time.monotonic()
    data, keys, origins, forecasts = weekly(args)
    surges(data, keys, origins, forecasts)
    half_hours(args)
    print(f"\ntotal {time.monotonic() - started:.0f} s; {load()}")


if __name__ == "__main__":
    main()
