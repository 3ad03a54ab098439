"""Bulk-generate realistic calls, orders and their events for benchmarks and the assessment.

    manage.py generate_orders --orders 1000000 --months 3 [--open 50000] [--seed 12345]
    manage.py generate_orders --orders 25000000 --year          # a year of Beijing (~70,000 a day)

Day by day, oldest first: each day's volume follows the season (more in the heating months and
the summer storms, less at the Spring Festival and National Day), China's calendar (statutory
holidays quieter, a weekend made a working day (调休) as busy as a weekday), the weekday, the hour of
the day and a growth trend (TREND_PER_YEAR); its problems follow the season too (heating complaints
from 15 November to 15 March, flooded drains and standing water in July and August, noise in summer
nights), each landing in the categories of its kind (PROBLEM_CATEGORIES). Now and then an incident
(a burst main, a flooded underpass) brings 5–10 calls of one problem from one community within 40
minutes — what the surge warning (爆单) is for; incidents follow the day's problem mix, so flooding
bursts come in the rainy summer and heating ones in winter. Each order comes with its call, its
events, the district's supervision copy (participant), a co-handler now and then, attachment
metadata for some handling records, and, once completed, its callback (with attempts) and the
assessment outcome; `assessment_fact_rows` is where derived assessment facts are added.

Before writing it estimates the disk the rows need and refuses a size the database's disk cannot
hold. Each chunk of days commits with its progress row (table generate_orders_progress), so a
run that stops (Ctrl-C, a crash) continues where it stopped when started again with the same
arguments (`--restart` forgets the progress), also when it stopped in the closing steady state. It
ends in a steady state: the deadline sweep has marked what is due, and the tables are VACUUM
ANALYZEd.

Spread over the real streets (weighted, so some are busy and some quiet), categories, urgency
tiers and states; the oldest orders are closed or completed with the assessment outcome columns
filled (valid callbacks ~90 % of completed, contacted ~98 %, resolved ~96 %, satisfied / basic /
unsatisfied ~90 / 6 / 4 with a spread across streets, ~0.5 % excluded); the newest `--open` orders
are still with their units, some of them overdue (already marked, as if swept). On PostgreSQL rows
go in with COPY (a million orders with ~3.5 million events in a few minutes); elsewhere with
bulk_create (fine for small N).
"""

from __future__ import annotations

import bisect
import io
import json
import os
import random
import shutil
import sys
import time
from datetime import date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from districts.models import Division, Unit
from hotline.models import Call, Category, Role, User
from workorders.lifecycle.deadlines import is_workday
from workorders.models import (
    Callback,
    CallbackAttempt,
    OrderAttachment,
    OrderEvent,
    OrderParticipant,
    OrderSequence,
    UrgencyTier,
    WorkOrder,
)

# Disk per order, all tables and indexes (call, ~4 events, participants, callback, attachments):
# measured 2.3 KB on hl_bench_base (1 M orders, 2,277 MB) before participants/callbacks were added;
# the estimate uses 3.2 KB and asks for 30 % more for WAL and VACUUM on top.
BYTES_PER_ORDER = 3200
HEADROOM = 1.3
PROGRESS_TABLE = "generate_orders_progress"

# Season: relative volume by month (heating from 15 Nov, summer storms, Spring Festival, 国庆).
MONTH_VOLUME = {1: 1.15, 2: 0.9, 3: 1.0, 4: 0.95, 5: 0.95, 6: 1.0, 7: 1.1, 8: 1.1, 9: 0.95, 10: 0.9, 11: 1.1, 12: 1.2}
WEEKDAY_VOLUME = [1.05, 1.0, 1.0, 1.0, 1.0, 0.85, 0.8]
HOLIDAY_VOLUME = 0.7  # a statutory holiday (春节, 国庆 …) on top of the month's level
TREND_PER_YEAR = 0.12  # requests grow year on year (Beijing: 11 M in 2020, 25 M in 2025)
INCIDENT_SHARE = 0.015  # share of the orders that come in incident bursts
INCIDENT_CALLS = (5, 10)
HOUR_VOLUME = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3, 5, 6, 6, 5.5, 4, 5, 5.5, 5.5, 5, 4.5, 4, 4.5, 4, 3, 2, 1.5]

REQUEST_TYPES = [("complaint", 45), ("help", 30), ("report", 10), ("suggestion", 8), ("consultation", 5), ("praise", 2)]
TIER_MIX = {"T2H": 5, "T24H": 20, "T7D": 65, "T15D": 10}
PROBLEMS = [
    "楼道电梯停运",
    "暖气不热",
    "小区门口占道经营",
    "夜间施工噪音扰民",
    "下水道堵塞返水",
    "路灯不亮",
    "垃圾清运不及时",
    "私搭乱建",
    "停车难、乱停车",
    "自来水水压低",
    "物业不作为",
    "违规群租房",
]


# The leaf categories a seasonal problem is filed under (by name; the generic key-word match otherwise).
PROBLEM_CATEGORIES = {
    "暖气不热": ("室温不达标", "暖气漏水", "停暖"),
    "下水道堵塞返水": ("下水道堵塞", "雨后积水", "污水外溢"),
    "夜间施工噪音扰民": ("夜间施工扰民", "社会生活噪声"),
}


def heating_season(day: date) -> bool:
    """Beijing's heating period: 15 November to 15 March."""
    return (day.month, day.day) >= (11, 15) or (day.month, day.day) <= (3, 15)


def problem_weights(day: date) -> list[tuple[str, float]]:
    """How often each problem is raised on this day: heating complaints only in the heating
    season (and a burst in its first weeks), drains in the rainy summer, noise on summer nights."""
    w = dict.fromkeys(PROBLEMS, 1.0)
    if heating_season(day):
        w["暖气不热"] = 4.0 if (day.month, day.day) <= (12, 15) and day.month >= 11 else 2.5
    else:
        w["暖气不热"] = 0.02
    if day.month in (7, 8):
        w["下水道堵塞返水"] = 2.5
    if day.month in (6, 7, 8):
        w["夜间施工噪音扰民"] = 1.8
    return list(w.items())


def day_volume(day: date) -> float:
    from assessment.forecasts.calendar import HOLIDAY, WORKDAY, day_type

    kind = day_type(day)
    weekday = WEEKDAY_VOLUME[day.weekday()] if kind != WORKDAY or day.weekday() < 5 else 1.0
    return MONTH_VOLUME[day.month] * weekday * (HOLIDAY_VOLUME if kind == HOLIDAY else 1.0)


def assessment_fact_rows(orders: list[dict], callbacks: list[dict]) -> list[tuple[type, list[dict]]]:
    """Hook for the immutable assessment facts (assessment.models' fact tables, written in production by the
    callback transition): return [(Model, rows)] derived from this chunk's completed orders and
    their callbacks, and they are COPYed with the chunk. Nothing yet: steady_state() derives them
    afterwards with assessment.facts.backfill (one INSERT … SELECT), as the demo data does."""
    return []


def _weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for value, w in pairs:
        x -= w
        if x <= 0:
            return value
    return pairs[-1][0]


class Workdays:
    """Working-day arithmetic by date, cached: add_workdays without the per-order loop."""

    def __init__(self):
        self.cache: dict[tuple[date, int], date] = {}

    def add(self, day: date, n: int) -> date:
        key = (day, n)
        if key not in self.cache:
            d, counted = day, 0
            while counted < n:
                d += timedelta(days=1)
                if is_workday(d):
                    counted += 1
            self.cache[key] = d
        return self.cache[key]


class Command(BaseCommand):
    help = "Bulk-generate realistic orders with events (benchmarks, assessment)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=10000)
        parser.add_argument("--months", type=int, default=3)
        parser.add_argument("--year", action="store_true", help="twelve months ending today")
        parser.add_argument("--open", type=int, default=None, help="force the newest N open (default: as they fall)")
        parser.add_argument("--seed", type=int, default=12345)
        parser.add_argument("--chunk", type=int, default=50000, help="orders per transaction (whole days)")
        parser.add_argument("--restart", action="store_true", help="forget the progress of an earlier run")
        parser.add_argument("--reserve-gb", type=float, default=10.0, help="disk to leave free (default 10)")
        parser.add_argument("--estimate", action="store_true", help="print the disk estimate and stop")

    def handle(self, *args, orders, months, year, open, seed, chunk, restart, reserve_gb, estimate, **options):
        if orders < 1:
            raise CommandError("--orders must be at least 1")
        months = 12 if year else months
        started = time.monotonic()
        self.check_disk(orders, reserve_gb, only_print=estimate)
        if estimate:
            return
        params = {"orders": orders, "months": months, "open": open, "seed": seed}
        progress = self.progress(params, restart)
        self.now_iso = progress["now"]
        now = datetime.fromisoformat(progress["now"])
        rng = random.Random(seed)
        self.setup(rng)
        self.workdays = Workdays()
        days, counts = self.plan(orders, months, now)
        self.days_total = len(days)
        open_from = orders - min(orders, open) if open is not None else None
        done_days = progress["days_done"]
        index = sum(counts[:done_days])
        if done_days:
            self.stdout.write(f"resuming after {days[done_days - 1]}: {index:,} of {orders:,} orders already there")
        order_id = (WorkOrder.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        call_id = (Call.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        callback_id = (Callback.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        made = 0
        rows = self.empty_chunk()
        for d in range(done_days, len(days)):
            day, n = days[d], counts[d]
            drng = random.Random(f"{seed}:{day.isoformat()}")  # each day on its own: resumable, repeatable
            seq = 0
            times = self.times_of(drng, day, n, now)
            incidents = self.incidents(drng, day, times, now)
            for i, at in enumerate(times):
                seq += 1
                is_open = None if open_from is None else index >= open_from
                incident = incidents.get(i)
                self.make(drng, at, now, order_id, call_id, callback_id, is_open, day, seq, rows, incident)
                if rows["callbacks"] and rows["callbacks"][-1]["id"] == callback_id:
                    callback_id += 1
                order_id += 1
                call_id += 1
                index += 1
            rows["seq"][day] = seq
            if len(rows[WorkOrder]) >= chunk or d == len(days) - 1:
                self.flush(rows, params, d + 1)
                made += len(rows[WorkOrder])
                self.progress_line(index, orders, made, started, rows["events_total"])
                rows = self.empty_chunk(rows["events_total"])
        self.stdout.write("")
        self.steady_state(now)
        with transaction.atomic():
            self.save_progress(params, len(days), len(days), steady=True)
        self.stdout.write(
            self.style.SUCCESS(
                f"generated {made:,} orders ({index:,} in all, "
                f"{WorkOrder.objects.exclude(state__in=['closed', 'completed']).count():,} open now) "
                f"in {time.monotonic() - started:.1f} s"
            )
        )

    # --- planning, disk, progress -----------------------------------------------------------------
    def plan(self, orders: int, months: int, now: datetime) -> tuple[list[date], list[int]]:
        """The days (oldest first) and how many orders each gets: the season's and the weekday's
        share of the total; today only the part of the day already past."""
        today = timezone.localdate(now)
        first = today - timedelta(days=round(30.4 * months) - 1)
        days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
        local_now = timezone.localtime(now)
        weights = [day_volume(d) * (1 + TREND_PER_YEAR * (d - first).days / 365.25) for d in days]
        weights[-1] *= sum(HOUR_VOLUME[: local_now.hour]) / sum(HOUR_VOLUME) + 1e-3
        total = sum(weights)
        counts = [int(orders * w / total) for w in weights]
        short = orders - sum(counts)
        for i in sorted(range(len(days)), key=lambda i: -weights[i])[:short]:
            counts[i] += 1
        return days, counts

    def times_of(self, rng, day: date, n: int, now: datetime) -> list[datetime]:
        start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
        hours = list(range(24))
        out = []
        for _ in range(n):
            h = rng.choices(hours, weights=HOUR_VOLUME)[0]
            at = start + timedelta(hours=h, seconds=rng.uniform(0, 3600))
            out.append(min(at, now - timedelta(seconds=rng.uniform(1, 600))))
        out.sort()
        return out

    def incidents(self, rng, day: date, times: list[datetime], now: datetime) -> dict[int, tuple]:
        """Bursts of one problem at one community: order index → (street, community, problem,
        category); the burst's calls are moved to within 40 minutes of its first one."""
        out: dict[int, tuple] = {}
        mean_size = sum(INCIDENT_CALLS) / 2
        expected = len(times) * INCIDENT_SHARE / mean_size
        count = int(expected) + (rng.random() < expected - int(expected))
        for _ in range(count):
            size = rng.randint(*INCIDENT_CALLS)
            if len(times) <= size:
                break
            first = rng.randrange(len(times) - size)
            if any(i in out for i in range(first, first + size)):
                continue
            street = self.pick_street(rng)
            comms = self.communities.get(street[1])
            problem = _weighted(rng, self.problems_of(day))
            place = (street, rng.choice(comms) if comms else None, problem, self.category_for(rng, problem))
            for i in range(first, first + size):
                out[i] = place
                times[i] = min(times[first] + timedelta(minutes=rng.uniform(0, 40)), now - timedelta(seconds=1))
        return out

    def check_disk(self, orders: int, reserve_gb: float, *, only_print: bool = False) -> None:
        need = int(orders * BYTES_PER_ORDER * HEADROOM)
        where, free = self.free_disk()
        msg = (
            f"estimate: {orders:,} orders need about {need / 1e9:.1f} GB "
            f"({BYTES_PER_ORDER * HEADROOM / 1000:.1f} KB per order with WAL/VACUUM headroom); "
            f"free on {where}: {free / 1e9:.1f} GB, keeping {reserve_gb:g} GB free"
        )
        self.stdout.write(msg)
        if not only_print and need > free - reserve_gb * 1e9:
            raise CommandError(
                f"refused: {orders:,} orders need about {need / 1e9:.1f} GB but only "
                f"{max(0.0, free / 1e9 - reserve_gb):.1f} GB can be used on {where}. "
                "Generate fewer orders or free disk space."
            )

    def free_disk(self) -> tuple[str, int]:
        """Free bytes where the database keeps its files (the data directory when PostgreSQL lets
        us see it, else the file system of the database file or of this checkout)."""
        path = None
        if connection.vendor == "postgresql":
            try:
                with connection.cursor() as cur:
                    cur.execute("SHOW data_directory")
                    path = cur.fetchone()[0]
            except Exception:  # noqa: BLE001 - not a superuser: fall back below
                path = None
        elif connection.vendor == "sqlite":
            path = os.path.dirname(os.path.abspath(str(connection.settings_dict["NAME"])))
        if not path or not os.path.exists(path):
            path = os.getcwd()
        return path, shutil.disk_usage(path).free

    def progress(self, params: dict, restart: bool) -> dict:
        """The progress row of an earlier run with the same arguments, or a fresh one."""
        with connection.cursor() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (id integer PRIMARY KEY, state text NOT NULL)")
            cur.execute(f"SELECT state FROM {PROGRESS_TABLE} WHERE id = 1")
            row = cur.fetchone()
        state = json.loads(row[0]) if row else None
        # an earlier run resumes until its steady state is done too (a run stopped in the steady
        # state goes on with it, rather than starting another year)
        unfinished = state and (state["days_done"] < state.get("days", 10**9) or state.get("steady") is False)
        if unfinished and not restart:
            if state["params"] != params:
                raise CommandError(
                    f"an earlier run with other arguments stopped part-way ({state['params']}); "
                    "repeat those arguments to continue it, or pass --restart"
                )
            return state
        return {"params": params, "now": timezone.now().isoformat(), "days_done": 0}

    def save_progress(self, params: dict, days_done: int, days: int, *, steady: bool = False) -> None:
        state = json.dumps(
            {"params": params, "now": self.now_iso, "days_done": days_done, "days": days, "steady": steady}
        )
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {PROGRESS_TABLE} WHERE id = 1")
            cur.execute(f"INSERT INTO {PROGRESS_TABLE} (id, state) VALUES (1, %s)", [state])

    def progress_line(self, index, orders, made, started, events):
        elapsed = time.monotonic() - started
        rate = made / elapsed if elapsed else 0
        eta = (orders - index) / rate if rate else 0
        line = (
            f"  {index:,}/{orders:,} orders ({100 * index / orders:.1f} %), {events:,} events, "
            f"{rate:,.0f} orders/s, {elapsed:.0f} s elapsed, ETA {eta:.0f} s"
        )
        if sys.stdout.isatty():
            self.stdout.write("\r" + line, ending="")
            self.stdout.flush()
        else:
            self.stdout.write(line)

    # --- chunks -------------------------------------------------------------------------------------
    def empty_chunk(self, events_total: int = 0) -> dict:
        return {
            Call: [],
            WorkOrder: [],
            OrderEvent: [],
            OrderParticipant: [],
            OrderAttachment: [],
            "callbacks": [],
            "attempts": [],
            "seq": {},
            "events_total": events_total,
        }

    def flush(self, rows: dict, params: dict, days_done: int) -> None:
        """One transaction: the chunk's rows, the day sequences and the progress row."""
        facts = assessment_fact_rows(rows[WorkOrder], rows["callbacks"])
        with transaction.atomic():
            self.skip_fk_triggers()
            self.insert(Call, rows[Call])
            self.insert(WorkOrder, rows[WorkOrder])
            self.insert(OrderEvent, rows[OrderEvent])
            self.insert(OrderParticipant, rows[OrderParticipant])
            self.insert(Callback, rows["callbacks"])
            self.insert(CallbackAttempt, rows["attempts"])
            self.insert(OrderAttachment, rows[OrderAttachment])
            for model, fact_rows in facts:
                self.insert(model, fact_rows)
            for day, count in rows["seq"].items():
                last = self.seq_base.get(day, 0) + count
                seq_row, _ = OrderSequence.objects.select_for_update().get_or_create(day=day)
                if seq_row.last < last:
                    seq_row.last = last
                    seq_row.save(update_fields=["last"])
            self.reset_sequences()
            self.save_progress(params, days_done, self.days_total)
        rows["events_total"] += len(rows[OrderEvent])

    def steady_state(self, now: datetime) -> None:
        """What a running system would have done by now: the sweep marks what is due (warnings,
        overdue, escalations); then fresh planner statistics and visibility maps."""
        from assessment import facts
        from workorders.lifecycle import sweep

        tables = (Call, WorkOrder, OrderEvent, OrderParticipant, Callback, CallbackAttempt, OrderAttachment)
        # Planner statistics first: on tables just filled by COPY the planner has none and picks
        # plans (a bitmap of every valid callback per order) that make the backfill quadratic.
        self.maintain("ANALYZE", tables)
        t = time.monotonic()
        facts.backfill()  # the assessment facts the callback / exclusion transitions would have written
        self.stdout.write(f"assessment facts: ({time.monotonic() - t:.1f} s)")
        t = time.monotonic()
        marked = sweep.run()
        self.stdout.write(f"sweep: {marked} ({time.monotonic() - t:.1f} s)")
        self.maintain("VACUUM ANALYZE", tables)

    def maintain(self, command: str, models) -> None:
        """ANALYZE / VACUUM ANALYZE the tables (PostgreSQL; nothing to do elsewhere)."""
        if connection.vendor != "postgresql":
            return
        t = time.monotonic()
        with connection.cursor() as cur:
            for model in models:
                cur.execute(f"{command} {model._meta.db_table}")
        self.stdout.write(f"{command} done ({time.monotonic() - t:.0f} s)")

    # --- reference data --------------------------------------------------------------------------
    def setup(self, rng):
        self.tiers = {t.code: t for t in UrgencyTier.objects.all()}
        missing = set(TIER_MIX) - set(self.tiers)
        if missing:
            raise SystemExit(f"urgency tiers missing: {sorted(missing)} (run migrate)")
        cats = list(Category.objects.filter(is_active=True, level=3).values_list("id", flat=True)) or list(
            Category.objects.filter(is_active=True).values_list("id", flat=True)
        )
        if not cats:
            for i, name in enumerate(PROBLEMS):
                Category.objects.get_or_create(code=f"GEN-{i:02d}", defaults={"name": name, "level": 3, "sort": i})
            cats = list(Category.objects.filter(code__startswith="GEN-").values_list("id", flat=True))
        self.categories = cats
        streets = list(
            Unit.objects.filter(kind=Unit.Kind.STREET, is_active=True, division__isnull=False).values_list(
                "id", "division_id", "district_id"
            )
        )
        if not streets:
            raise SystemExit("no street units: run load_divisions first")
        communities: dict[int, list[int]] = {}
        for cid, parent in Division.objects.filter(level=Division.Level.COMMUNITY).values_list("id", "parent_id"):
            communities.setdefault(parent, []).append(cid)
        depts: dict[int, list[int]] = {}
        for uid, district in Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, district__isnull=False).values_list(
            "id", "district_id"
        ):
            depts.setdefault(district, []).append(uid)
        self.communities, self.depts = communities, depts
        self.district_units = dict(
            Unit.objects.filter(kind=Unit.Kind.DISTRICT, division__isnull=False).values_list("division_id", "id")
        )
        # A problem's orders go to a category whose name shares its key word when there is one.
        names = dict(Category.objects.filter(id__in=cats).values_list("id", "name"))
        keys = {p: p[:2] for p in PROBLEMS}
        self.problem_categories = {p: [cid for cid, n in names.items() if k in n] for p, k in keys.items()}
        for p, leaves in PROBLEM_CATEGORIES.items():
            self.problem_categories[p] = [cid for cid, n in names.items() if n in leaves] or self.problem_categories[p]
        self._problem_cache = {}
        # numbers already taken per day (an earlier run, or a copied database)
        self.seq_base = dict(OrderSequence.objects.values_list("day", "last"))
        self.uploader = User.objects.get_or_create(
            username="generated-handler", defaults={"role": Role.STREET, "is_active": False, "password": "!"}
        )[0].pk
        # Busy and quiet streets; each street has its own quality so the rates spread.
        self.streets = streets
        self.street_weights = [rng.lognormvariate(0, 0.8) for _ in streets]
        self.quality = {s[0]: min(1.0, max(0.0, rng.gauss(0.0, 1.0))) for s in streets}
        self.cum = []
        total = 0.0
        for w in self.street_weights:
            total += w
            self.cum.append(total)
        self.total_weight = total

    def pick_street(self, rng):

        return self.streets[bisect.bisect_left(self.cum, rng.uniform(0, self.total_weight))]

    def deadline(self, start: datetime, amount: int, unit: str) -> datetime:
        if unit == "hours":
            return start + timedelta(hours=amount)
        if unit == "minutes":
            return start + timedelta(minutes=amount)
        local = timezone.localtime(start)
        return timezone.make_aware(datetime.combine(self.workdays.add(local.date(), amount), local.time()))

    # --- one order ---------------------------------------------------------------------------------
    def make(self, rng, at, now, order_id, call_id, callback_id, is_open, day, seq, rows, incident=None):
        """One call and order with everything that has happened to it by `now`, appended to rows.
        is_open None: open if its unit would not have closed it yet; True/False: forced. An
        incident fixes the street, community, problem and category."""
        unit_id, street_id, district_id = incident[0] if incident else self.pick_street(rng)
        lead = unit_id
        if rng.random() < 0.06 and self.depts.get(district_id):
            lead = rng.choice(self.depts[district_id])
        tier = self.tiers[_weighted(rng, list(TIER_MIX.items()))]
        rtype = _weighted(rng, REQUEST_TYPES)
        if incident:
            _street, community, problem, category = incident
        else:
            problem = _weighted(rng, self.problems_of(day))
            comms = self.communities.get(street_id)
            community = rng.choice(comms) if comms else None
            category = self.category_for(rng, problem)
        response_deadline = self.deadline(at, tier.response_limit, tier.response_unit)
        resolution_deadline = self.deadline(at, tier.resolution_limit, tier.resolution_unit)
        response_deadline = min(response_deadline, resolution_deadline)
        ratio = float(tier.warn_ratio)
        # the upper half of the day's numbers (no clash with orders taken live), after any
        # generated earlier for that day (adding to an existing database)
        number = f"{day:%Y%m%d}{self.seq_base.get(day, 0) + seq + 500000:06d}"
        call = {
            "id": call_id,
            "caller_phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            "channel": "phone",
            "request_type": rtype,
            "category_id": category,
            "tier_id": tier.pk,
            "address": f"{problem}（生成数据）",
            "description": f"{problem}，请尽快处理。",
            "outcome": "order",
            "street_id": street_id,
            "district_id": district_id,
            "community_id": community,
            "received_at": at - timedelta(minutes=3),
            "created_at": at - timedelta(minutes=3),
        }
        o = {
            "id": order_id,
            "number": number,
            "call_id": call_id,
            "category_id": category,
            "request_type": rtype,
            "tier_id": tier.pk,
            "title": problem,
            "address": call["address"],
            "community_id": community,
            "street_id": street_id,
            "district_id": district_id,
            "lead_unit_id": lead,
            "round": 1,
            "created_at": at,
            "dispatched_at": at,
            "response_deadline": response_deadline,
            "resolution_deadline": resolution_deadline,
            "response_warn_at": at + (response_deadline - at) * ratio,
            "resolution_warn_at": at + (resolution_deadline - at) * ratio,
        }
        q = self.quality[unit_id]
        events = [self.event(order_id, at, "created", "", "dispatched")]
        span = resolution_deadline - at
        late = rng.random() < 0.04
        closed = at + span * (rng.uniform(1.0, 1.3) if late else rng.uniform(0.1, 0.95))
        if is_open is None:
            is_open = closed >= now - timedelta(minutes=1)
        if is_open:
            state = _weighted(rng, [("dispatched", 12), ("signed", 80), ("parked", 3), ("return_requested", 5)])
            if state == "dispatched" and now - at > timedelta(hours=6):
                state = "signed"
        else:
            state = "closed"
        o["state"] = state
        supervisor = self.district_units.get(district_id)
        if supervisor and supervisor != lead:
            rows[OrderParticipant].append(
                {"order_id": order_id, "unit_id": supervisor, "role": "supervisor", "added_at": at}
            )
        if rng.random() < 0.05 and self.depts.get(district_id):
            co = rng.choice(self.depts[district_id])
            if co != lead:
                rows[OrderParticipant].append({"order_id": order_id, "unit_id": co, "role": "co", "added_at": at})
        if state != "dispatched":
            signed = at + timedelta(minutes=rng.randint(2, 90))
            signed = min(signed, now)
            o["signed_at"] = signed
            events.append(self.event(order_id, signed, "signed", "dispatched", "signed"))
            responded = min(
                now, signed + (response_deadline - at) * rng.uniform(0.05, 0.9 if rng.random() > 0.03 else 1.4)
            )
            o["responded_at"], o["responded_in_time"] = responded, responded <= response_deadline
            events.append(self.event(order_id, responded, "responded", note="已电话联系市民"))
            if rng.random() < 0.15:  # a photo of the site with the handling record
                rows[OrderAttachment].append(
                    {
                        "order_id": order_id,
                        "file": f"generated/{day:%Y/%m}/{order_id}.jpg",
                        "name": "现场照片.jpg",
                        "size": rng.randint(200_000, 3_000_000),
                        "content_type": "image/jpeg",
                        "uploaded_by_id": self.uploader,
                        "unit_id": lead,
                        "uploaded_at": responded,
                    }
                )
        if state == "closed":
            closed = max(min(closed, now - timedelta(minutes=1)), o.get("responded_at", at))
            o["closed_at"] = closed
            solved_p = 0.93 + 0.05 * q
            result = "resolved" if rng.random() < solved_p else rng.choice(["partly", "unresolved"])
            o["result"], o["result_note"], o["action_taken"] = result, "已处理并答复市民。", "现场核实并协调处置。"
            events.append(self.event(order_id, closed, "closed", "signed", "closed", note="已处理并答复市民。"))
            if late:
                o["resolution_overdue_at"] = resolution_deadline + timedelta(minutes=1)
                o["resolution_warned_at"] = o["resolution_warn_at"]
            if closed < now - timedelta(days=2):
                self.complete(rng, o, q, result, lead, callback_id, events, rows)
        else:
            if state == "parked":
                o["parked_at"] = o.get("signed_at", at) + timedelta(hours=2)
                o["parked_until"] = timezone.localdate(now) + timedelta(days=rng.randint(20, 120))
            # already swept: marks for what is past
            if o["response_warn_at"] <= now and not o.get("responded_at"):
                o["response_warned_at"] = o["response_warn_at"]
            if response_deadline <= now and not o.get("responded_at"):
                o["response_overdue_at"] = response_deadline
            if o["resolution_warn_at"] <= now:
                o["resolution_warned_at"] = o["resolution_warn_at"]
            if resolution_deadline <= now and state != "parked":
                o["resolution_overdue_at"] = resolution_deadline
                o["escalated_at"] = resolution_deadline
        rows[Call].append(call)
        rows[WorkOrder].append(o)
        rows[OrderEvent].extend(events)

    def complete(self, rng, o, q, result, lead, callback_id, events, rows):
        """The callback after closing: attempts, then valid (the three answers) or unreachable."""
        o["state"] = "completed"
        o["completed_at"] = o["closed_at"] + timedelta(hours=rng.uniform(4, 40))
        o["assessed_unit_id"] = lead
        o["callback_at"] = o["completed_at"]
        valid = rng.random() < 0.90
        cb = {
            "id": callback_id,
            "order_id": o["id"],
            "round": 1,
            "status": "valid" if valid else "unreachable",
            "channel": "phone",
            "created_at": o["closed_at"],
            "completed_at": o["completed_at"],
        }
        failed = rng.choice([0, 0, 0, 1, 2]) if valid else 3
        t = o["closed_at"] + timedelta(hours=2)
        for _ in range(failed):
            rows["attempts"].append({"callback_id": callback_id, "at": t, "result": "no_answer"})
            t += (o["completed_at"] - t) / 2
        if valid:
            rows["attempts"].append({"callback_id": callback_id, "at": o["completed_at"], "result": "reached"})
            o["callback_valid"] = True
            o["contacted"] = cb["contacted"] = rng.random() < 0.97 + 0.02 * q
            o["solved"] = cb["solved"] = result if rng.random() < 0.97 else "resolved"
            sat_p, basic_p = 0.86 + 0.08 * q, 0.06
            x = rng.random()
            o["satisfaction"] = cb["satisfaction"] = (
                "satisfied" if x < sat_p else ("basic" if x < sat_p + basic_p else "unsatisfied")
            )
            o["excluded"] = rng.random() < 0.005
            events.append(self.event(o["id"], o["completed_at"], "callback_valid", "closed", "completed"))
        else:
            o["callback_valid"] = False
            events.append(self.event(o["id"], o["completed_at"], "callback_unreachable", "closed", "completed"))
        rows["callbacks"].append(cb)

    def problems_of(self, day: date):
        if day not in self._problem_cache:
            self._problem_cache[day] = problem_weights(day)
        return self._problem_cache[day]

    def category_for(self, rng, problem: str) -> int:
        matching = self.problem_categories.get(problem)
        return rng.choice(matching) if matching else rng.choice(self.categories)

    def event(self, order_id, at, kind, from_state="", to_state="", note=""):
        return {
            "order_id": order_id,
            "at": at,
            "kind": kind,
            "from_state": from_state,
            "to_state": to_state,
            "round": 1,
            "note": note,
            "data": {},
        }

    # --- writing -------------------------------------------------------------------------------------
    def insert(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        fields = [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in rows[0])]
        if connection.vendor == "postgresql":
            self.copy(model, fields, rows)
        else:
            objs = []
            for r in rows:
                kwargs = {f.attname: r[f.attname] for f in fields if f.attname in r}
                objs.append(model(**kwargs))
            # the generated times, not "now", for auto_now_add columns (COPY writes them as given)
            stamped = [f for f in fields if getattr(f, "auto_now_add", False) and f.attname in rows[0]]
            for f in stamped:
                f.auto_now_add = False
            try:
                model.objects.bulk_create(objs, batch_size=500)
            finally:
                for f in stamped:
                    f.auto_now_add = True

    def skip_fk_triggers(self) -> None:
        """The rows are generated consistent with each other and the reference data, so on
        PostgreSQL (as a superuser) the per-row foreign-key triggers are skipped for the chunk's
        transaction: that is most of the load time. Without the right, they simply run."""
        if connection.vendor != "postgresql":
            return
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = replica")
        except Exception:  # noqa: BLE001 - not a superuser: keep the checks
            pass

    def copy(self, model, fields, rows):

        defaults = {}
        for f in fields:
            defaults[f.attname] = f.get_default() if f.has_default() else (None if f.null else "")
        buf = io.StringIO()
        for r in rows:
            out = []
            for f in fields:
                v = r.get(f.attname, defaults[f.attname])
                if v is None:
                    out.append("\\N")
                elif isinstance(v, bool):
                    out.append("t" if v else "f")
                elif isinstance(v, datetime | date):
                    out.append(v.isoformat())
                elif isinstance(v, dict | list):
                    out.append(json.dumps(v, ensure_ascii=False).replace("\\", "\\\\"))
                else:
                    out.append(str(v).replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n").replace("\r", ""))
            buf.write("\t".join(out))
            buf.write("\n")
        buf.seek(0)
        columns = ", ".join(f'"{f.column}"' for f in fields)
        with connection.cursor() as cur:
            cur.cursor.copy_expert(f"COPY {model._meta.db_table} ({columns}) FROM STDIN", buf)

    def reset_sequences(self):

        models = [Call, WorkOrder, OrderEvent, OrderParticipant, Callback, CallbackAttempt, OrderAttachment]
        sql = connection.ops.sequence_reset_sql(no_style(), models)
        with connection.cursor() as cur:
            for statement in sql:
                cur.execute(statement)
