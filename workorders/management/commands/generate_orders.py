"""Bulk-generate realistic calls, orders and their events for benchmarks and the assessment.

    manage.py generate_orders --orders 1000000 --months 3 [--open 50000] [--seed 12345]

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
import random
import time
from datetime import date, datetime, timedelta

from django.core.management.base import BaseCommand
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from assessment import facts
from districts.models import Division, Unit
from hotline.models import Call, Category
from workorders.lifecycle.deadlines import is_workday
from workorders.models import OrderEvent, OrderSequence, UrgencyTier, WorkOrder

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
        parser.add_argument("--open", type=int, default=None, help="orders still open (default 5 %%)")
        parser.add_argument("--seed", type=int, default=12345)
        parser.add_argument("--chunk", type=int, default=50000)

    def handle(self, *args, orders, months, open, seed, chunk, **options):
        started = time.monotonic()
        rng = random.Random(seed)
        now = timezone.now()
        self.setup(rng)
        open_target = min(orders, open if open is not None else orders // 20)
        span = timedelta(days=30 * months)
        self.workdays = Workdays()
        # The newest orders are the open ones: draw times, sort, then generate oldest first.
        times = sorted(now - span * rng.random() ** 1.0 for _ in range(orders))
        # keep the open ones recent: squeeze the last `open_target` into the last ~10 days
        if open_target:
            recent_start = now - timedelta(days=10)
            for i in range(orders - open_target, orders):
                if times[i] < recent_start:
                    times[i] = recent_start + (now - recent_start) * rng.random()
            times.sort()
        order_id = (WorkOrder.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        call_id = (Call.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        seq = {}
        created = {"calls": 0, "orders": 0, "events": 0}
        for start in range(0, orders, chunk):
            calls, rows, events = [], [], []
            for i in range(start, min(orders, start + chunk)):
                is_open = i >= orders - open_target
                call, order, evs = self.make(rng, times[i], now, order_id, call_id, is_open, seq)
                calls.append(call)
                rows.append(order)
                events.extend(evs)
                order_id += 1
                call_id += 1
            with transaction.atomic():
                self.skip_fk_triggers()
                self.insert(Call, calls)
                self.insert(WorkOrder, rows)
                self.insert(OrderEvent, events)
            created["calls"] += len(calls)
            created["orders"] += len(rows)
            created["events"] += len(events)
            self.stdout.write(
                f"  {created['orders']:,} orders, {created['events']:,} events ({time.monotonic() - started:.0f} s)"
            )
        with transaction.atomic():
            for day, last in seq.items():
                row, _ = OrderSequence.objects.select_for_update().get_or_create(day=day)
                if row.last < last:
                    row.last = last
                    row.save(update_fields=["last"])
            self.reset_sequences()
            facts.backfill()  # the assessment facts the callback / exclusion transitions would have written
        if connection.vendor == "postgresql":
            # Fresh statistics for the planner, and a visibility map so counts are index-only scans.
            with connection.cursor() as cur:
                for table in ("workorders_workorder", "workorders_orderevent", "hotline_call"):
                    cur.execute(f"VACUUM ANALYZE {table}")
        self.stdout.write(
            self.style.SUCCESS(
                f"generated {created['orders']:,} orders ({open_target:,} open), {created['events']:,} events "
                f"in {time.monotonic() - started:.1f} s"
            )
        )

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
    def make(self, rng, at, now, order_id, call_id, is_open, seq):
        unit_id, street_id, district_id = self.pick_street(rng)
        lead = unit_id
        if rng.random() < 0.06 and self.depts.get(district_id):
            lead = rng.choice(self.depts[district_id])
        tier = self.tiers[_weighted(rng, list(TIER_MIX.items()))]
        rtype = _weighted(rng, REQUEST_TYPES)
        problem = rng.choice(PROBLEMS)
        comms = self.communities.get(street_id)
        community = rng.choice(comms) if comms else None
        category = rng.choice(self.categories)
        response_deadline = self.deadline(at, tier.response_limit, tier.response_unit)
        resolution_deadline = self.deadline(at, tier.resolution_limit, tier.resolution_unit)
        response_deadline = min(response_deadline, resolution_deadline)
        ratio = float(tier.warn_ratio)
        day = timezone.localdate(at)
        seq[day] = seq.get(day, 0) + 1
        number = f"{day:%Y%m%d}{seq[day] + 500000:06d}"  # the upper half of the day's numbers: no clash
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
        if is_open:
            state = _weighted(rng, [("dispatched", 12), ("signed", 80), ("parked", 3), ("return_requested", 5)])
            if state == "dispatched" and now - at > timedelta(hours=6):
                state = "signed"
        else:
            state = "closed"
        o["state"] = state
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
        if state == "closed":
            late = rng.random() < 0.04
            closed = at + span * (rng.uniform(1.0, 1.3) if late else rng.uniform(0.1, 0.95))
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
                o["state"] = "completed"
                o["completed_at"] = closed + timedelta(hours=rng.uniform(4, 40))
                o["assessed_unit_id"] = lead
                o["callback_at"] = o["completed_at"]
                if rng.random() < 0.90:
                    o["callback_valid"] = True
                    o["contacted"] = rng.random() < 0.97 + 0.02 * q
                    o["solved"] = result if rng.random() < 0.97 else "resolved"
                    sat_p, basic_p = 0.86 + 0.08 * q, 0.06
                    x = rng.random()
                    o["satisfaction"] = (
                        "satisfied" if x < sat_p else ("basic" if x < sat_p + basic_p else "unsatisfied")
                    )
                    o["excluded"] = rng.random() < 0.005
                else:
                    o["callback_valid"] = False
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
        return call, o, events

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
            model.objects.bulk_create(objs, batch_size=500)

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

        sql = connection.ops.sequence_reset_sql(no_style(), [Call, WorkOrder, OrderEvent])
        with connection.cursor() as cur:
            for statement in sql:
                cur.execute(statement)
