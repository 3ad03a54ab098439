"""The forecasting method: gradient boosting on calendar and history features (scikit-learn's
HistGradientBoostingRegressor with a Poisson loss), one model pooled over all series, and the
seasonal-naive baseline it is always reported against.

Pure numpy: the counts come in already aggregated by SQL (selectors.py), so nothing here loops over
orders. Two problems:
- weekly orders per series (district × street × level-2 category), horizons 1…H weeks from an
  origin week t (the first week not observed); districts, cities and level-1 categories are sums of
  these series (bottom-up: the page's figures add up);
- calls per half hour for the next days from an origin day.

The features say where a series stands (its last 4 and 13 weeks), what happened in the same weeks a
year earlier relative to the weeks before them (the series' own and its category's city-wide
ratio: the yearly season when there is a year of history), and the calendar of the target period
(week of the year, working days and statutory holidays from China's calendar). Without a year of
history the ratios are missing and the model leans on the calendar features.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from assessment.forecasts import calendar

YEAR_WEEKS = 52
YEAR_DAYS = 364  # the same weekday a year earlier
SLOTS = 48  # half hours a day
MAX_TRAIN_ROWS = 250_000
# One thread: OpenMP's spinning threads crawl on a busy machine (a worker shares its cores), and
# the nightly run has time.
THREADS = 1


def _booster(categorical: list[int]) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        loss="poisson",
        learning_rate=0.08,
        max_iter=200,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=categorical or None,
        early_stopping=False,
        random_state=0,
    )


def _sample(n: int, rng: np.random.Generator, limit: int) -> np.ndarray:
    return np.arange(n) if n <= limit else np.sort(rng.choice(n, size=limit, replace=False))


# --- Weekly orders per series ---------------------------------------------------------------------
@dataclass
class Weekly:
    first_week: date  # Monday of column 0
    counts: np.ndarray  # series × weeks, orders dispatched in each week
    cat1: np.ndarray  # per series: index of its level-1 category
    cat2: np.ndarray  # per series: index of its level-2 category

    @property
    def n_weeks(self) -> int:
        return self.counts.shape[1]

    def monday(self, index: int) -> date:
        return self.first_week + timedelta(weeks=index)

    def by_category(self) -> np.ndarray:
        """Category × weeks: the city-wide weekly orders of each level-2 category."""
        out = np.zeros((int(self.cat2.max(initial=0)) + 1, self.n_weeks))
        np.add.at(out, self.cat2, self.counts)
        return out


WEEKLY_CATEGORICAL = [0, 1]


def weekly_features(data: Weekly, t: int, h: int, city: np.ndarray | None = None) -> np.ndarray:
    """One row per series for the week t + h − 1 forecast from origin t (weeks < t observed)."""
    c = data.counts
    city = data.by_category() if city is None else city
    w = t + h - 1
    n = c.shape[0]
    r4 = c[:, max(0, t - 4) : t].mean(axis=1)
    r13 = c[:, max(0, t - 13) : t].mean(axis=1)
    city_r4 = city[:, max(0, t - 4) : t].mean(axis=1)[data.cat2]
    if w - YEAR_WEEKS >= 0 and t - YEAR_WEEKS - 4 >= 0:
        base = c[:, t - YEAR_WEEKS - 4 : t - YEAR_WEEKS].mean(axis=1)
        ly_ratio = (c[:, w - YEAR_WEEKS] + 0.5) / (base + 0.5)
        cbase = city[:, t - YEAR_WEEKS - 4 : t - YEAR_WEEKS].mean(axis=1)
        city_ratio = ((city[:, w - YEAR_WEEKS] + 0.5) / (cbase + 0.5))[data.cat2]
    else:
        ly_ratio = city_ratio = np.full(n, np.nan)
    monday = data.monday(w)
    s1, c1, s2, c2 = calendar.season(monday + timedelta(days=3))
    workdays, holidays = calendar.week_calendar(monday)
    recent_workdays = sum(calendar.week_calendar(data.monday(i))[0] for i in range(max(0, t - 4), t)) / max(
        1, min(4, t)
    )
    row = np.column_stack(
        [
            data.cat1,
            data.cat2,
            np.log1p(r4),
            np.log1p(r13),
            np.log1p(city_r4),
            np.log(ly_ratio),
            np.log(city_ratio),
            np.full(n, h),
            np.full(n, s1),
            np.full(n, c1),
            np.full(n, s2),
            np.full(n, c2),
            np.full(n, workdays),
            np.full(n, holidays),
            np.full(n, workdays - recent_workdays),
        ]
    )
    return row


MIN_ORIGIN_WEEKS = 8  # history needed before a week can be an origin


class WeeklyModel:
    def __init__(self, horizon: int = 8, max_rows: int = MAX_TRAIN_ROWS):
        self.horizon, self.max_rows = horizon, max_rows
        self.booster: HistGradientBoostingRegressor | None = None

    def fit(self, data: Weekly, t_end: int) -> WeeklyModel:
        """Learn from every origin whose target weeks end before t_end (nothing after it is read)."""
        city = data.by_category()
        rng = np.random.default_rng(0)
        xs, ys = [], []
        pairs = [(t, h) for t in range(MIN_ORIGIN_WEEKS, t_end) for h in range(1, self.horizon + 1) if t + h <= t_end]
        per_pair = max(1, self.max_rows // max(1, len(pairs)))
        for t, h in pairs:
            keep = _sample(data.counts.shape[0], rng, per_pair)
            xs.append(weekly_features(data, t, h, city)[keep])
            ys.append(data.counts[keep, t + h - 1])
        if not xs:
            return self
        with threadpool_limits(THREADS):
            self.booster = _booster(WEEKLY_CATEGORICAL).fit(np.vstack(xs), np.concatenate(ys))
        return self

    def predict(self, data: Weekly, t: int) -> np.ndarray:
        """Series × horizon: expected orders in weeks t … t + horizon − 1. Without a fitted model (too
        little history) the recent mean."""
        city = data.by_category()
        if self.booster is None:
            r4 = data.counts[:, max(0, t - 4) : t].mean(axis=1) if t else np.zeros(data.counts.shape[0])
            return np.repeat(r4[:, None], self.horizon, axis=1)
        with threadpool_limits(THREADS):
            out = [self.booster.predict(weekly_features(data, t, h, city)) for h in range(1, self.horizon + 1)]
        return np.column_stack(out)


def weekly_seasonal_naive(data: Weekly, t: int, horizon: int) -> np.ndarray:
    """The same week a year earlier; the last observed week when there is no year of history."""
    cols = []
    for h in range(1, horizon + 1):
        w = t + h - 1
        cols.append(data.counts[:, w - YEAR_WEEKS] if w - YEAR_WEEKS >= 0 else data.counts[:, t - 1])
    return np.column_stack(cols)


# --- Calls per half hour ----------------------------------------------------------------------------
@dataclass
class Slots:
    first_day: date
    counts: np.ndarray  # days × 48: calls received in each half hour

    def day(self, index: int) -> date:
        return self.first_day + timedelta(days=index)


SLOT_CATEGORICAL = [0, 1, 2]
MIN_ORIGIN_DAYS = 28


def slot_features(data: Slots, t: int, i: int) -> np.ndarray:
    """48 rows: the half hours of day t + i forecast from origin day t (days < t observed)."""
    s = data.counts
    d = t + i
    day = data.day(d)
    kind = calendar.day_type(day)
    working = kind == calendar.WORKDAY
    past = range(t - 1, max(-1, t - 29), -1)
    same = [p for p in past if (calendar.day_type(data.day(p)) == calendar.WORKDAY) == working][:4]
    profile = s[same].mean(axis=0) if same else np.zeros(SLOTS)
    level = s[max(0, t - 28) : t].sum(axis=1).mean() if t else 0.0
    if d - YEAR_DAYS >= 0 and t - YEAR_DAYS - 28 >= 0:
        ratio = (s[d - YEAR_DAYS].sum() + 1) / (s[t - YEAR_DAYS - 28 : t - YEAR_DAYS].sum(axis=1).mean() + 1)
    else:
        ratio = np.nan
    s1, c1, s2, c2 = calendar.season(day)
    return np.column_stack(
        [
            np.arange(SLOTS),
            np.full(SLOTS, day.weekday()),
            np.full(SLOTS, kind),
            np.log1p(profile),
            np.full(SLOTS, np.log1p(level)),
            np.full(SLOTS, np.log(ratio)),
            np.full(SLOTS, i),
            np.full(SLOTS, s1),
            np.full(SLOTS, c1),
            np.full(SLOTS, s2),
            np.full(SLOTS, c2),
        ]
    )


class SlotModel:
    def __init__(self, days: int = 14, every: int = 3):
        self.days, self.every = days, every
        self.booster: HistGradientBoostingRegressor | None = None

    def fit(self, data: Slots, t_end: int) -> SlotModel:
        xs, ys = [], []
        for t in range(MIN_ORIGIN_DAYS, t_end, self.every):
            for i in range(self.days):
                if t + i >= t_end:
                    break
                xs.append(slot_features(data, t, i))
                ys.append(data.counts[t + i])
        if xs:
            with threadpool_limits(THREADS):
                self.booster = _booster(SLOT_CATEGORICAL).fit(np.vstack(xs), np.concatenate(ys))
        return self

    def predict(self, data: Slots, t: int) -> np.ndarray:
        """Days × 48 expected calls for days t … t + days − 1."""
        if self.booster is None:
            return slot_seasonal_naive(data, t, self.days)
        with threadpool_limits(THREADS):
            return np.vstack([self.booster.predict(slot_features(data, t, i)) for i in range(self.days)])


def slot_seasonal_naive(data: Slots, t: int, days: int) -> np.ndarray:
    """The same half hour on the same weekday of the last observed week."""
    rows = []
    for i in range(days):
        back = t + i - 7 * (i // 7 + 1)
        rows.append(data.counts[back] if back >= 0 else np.zeros(SLOTS))
    return np.vstack(rows)


def extend(data: Slots, days: int) -> Slots:
    """The slots with `days` empty future days appended (the features read only the past)."""
    return Slots(data.first_day, np.vstack([data.counts, np.zeros((days, SLOTS))]))


def extend_weeks(data: Weekly, weeks: int) -> Weekly:
    zeros = np.zeros((data.counts.shape[0], weeks))
    return Weekly(data.first_week, np.hstack([data.counts, zeros]), data.cat1, data.cat2)
