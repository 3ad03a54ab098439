"""Benchmark of the assessment on a large month (run it on PostgreSQL).

    # once: orders over the last 30 days with outcomes — the handling area's generator (realistic, with
    # events, ~1,000 orders/s) and/or this script's SQL generator (orders and calls only, ~2 M/min):
    DATABASE_URL=postgres://… .venv/bin/python manage.py generate_orders --orders 350000 --months 1
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_assessment.py --generate 1650000
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_assessment.py

Prints:
1. the time to compute every unit's rates, composite and ranks in SQL (`services.snapshot_rows_compute`:
   one GROUP BY pass over the orders into a temporary table, then one INSERT … SELECT with RANK()
   per scope: 343 streets, 16 districts, the departments), the movement UPDATE, and the dashboard
   aggregates stored with the snapshot — over all valid callbacks of the last 31 days (one "month"
   holding the generated 2 M orders);
2. page times from the stored results (ranking pages, scorecard, dashboard page and its JSON), p50
   and p95 over repeated requests through the whole Django stack;
3. a 1 M-row order export (CSV and Excel) in a child process each, with peak RSS next to the RSS of
   the same process before exporting and after a 100 k-row export: flat memory means the 1 M figure
   is close to the 100 k one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")


def setup_django():
    import django

    django.setup()


def rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def export_child(fmt: str, rows: int) -> None:
    """Export `rows` counted callbacks as the city would (no phone in full) and report memory: the
    export's own table (exports.order_table over callback facts, as the drill-down's export reads
    them) for the newest callbacks, `counted_bits` 0 for all (the bench measures the streaming)."""
    setup_django()
    from django.db.models import Value

    from assessment import exports
    from assessment.models import CallbackFact
    from hotline.models import User

    user = User.objects.filter(role="city").first() or User(role="city")
    baseline = rss_kb()
    related = ("order", "order__call", "order__street", "category", "assessed_unit")
    qs = (
        CallbackFact.objects.select_related(*related)
        .annotate(counted_bits=Value(0))
        .order_by("-callback_at", "-id")[:rows]
    )
    started = time.perf_counter()
    n = 0
    if fmt == "csv":
        response = exports.stream_csv("bench", exports.order_table(qs, user=user))
        with open(os.devnull, "w", encoding="utf-8") as sink:
            for chunk in response.streaming_content:
                sink.write(chunk if isinstance(chunk, str) else chunk.decode())
                n += 1
    else:
        import tempfile

        with tempfile.TemporaryFile() as tmp:
            exports.write_xlsx(exports.order_table(qs, user=user), tmp, title="bench")
            n = tmp.tell()
    print(
        json.dumps(
            {
                "fmt": fmt,
                "rows": rows,
                "seconds": time.perf_counter() - started,
                "baseline_kb": baseline,
                "peak_kb": rss_kb(),
                "chunks_or_bytes": n,
            }
        )
    )


def generate(n: int, days: int) -> None:
    """Top the database up with `n` called-back orders (and their calls) over the last `days` days,
    in SQL on PostgreSQL (INSERT … SELECT generate_series): each ranked street gets a level of its
    own (resolution and satisfaction ~90–99.5 %, ~97 % on average), 5 % of orders go to a district
    department, 3 % are still open, 0.5 % are excluded. Columns not set here get their model
    default."""
    from django.db import connection, transaction
    from django.utils import timezone
    from psycopg2.extras import Json

    from districts.models import Division, Unit
    from hotline.models import Call, Category
    from workorders.models import UrgencyTier, WorkOrder

    assert connection.vendor == "postgresql", "the generator is PostgreSQL-only"
    categories = list(Category.objects.filter(level=3).values_list("id", flat=True)[:60]) or list(
        Category.objects.values_list("id", flat=True)[:60]
    )
    tier = UrgencyTier.objects.get(code="T7D").pk
    started = time.perf_counter()

    def columns(model, explicit: dict[str, str]) -> tuple[str, str, list]:
        names, exprs, params = [], [], []
        for f in model._meta.concrete_fields:
            if f.primary_key and f.column not in explicit:
                continue
            names.append(f.column)
            if f.column in explicit:
                exprs.append(explicit[f.column])
            elif f.null:
                exprs.append("NULL")
            else:
                exprs.append("%s")
                default = f.get_default()
                if default is None and f.get_internal_type() == "DateTimeField":
                    default = timezone.now()
                elif isinstance(default, (dict, list)):
                    default = Json(default)
                params.append(default)
        return ", ".join(names), ", ".join(exprs), params

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_streets; DROP TABLE IF EXISTS bench_depts")
        cur.execute(
            f"""CREATE TEMP TABLE bench_streets AS
                SELECT row_number() OVER (ORDER BY u.id) AS idx, u.id AS unit_id, u.division_id AS street_id,
                       u.district_id, 0.90 + 0.095 * random() AS quality
                  FROM {Unit._meta.db_table} u JOIN {Division._meta.db_table} d ON d.id = u.division_id
                 WHERE u.kind = 'street' AND d.kind <> 'special_zone'"""
        )
        cur.execute(
            f"""CREATE TEMP TABLE bench_depts AS
                SELECT district_id, row_number() OVER (PARTITION BY district_id ORDER BY id) AS idx, id AS unit_id
                  FROM {Unit._meta.db_table} WHERE kind = 'department' AND district_id IS NOT NULL"""
        )
        cur.execute("SELECT count(*) FROM bench_streets")
        streets = cur.fetchone()[0]
        cur.execute(f"SELECT COALESCE(max(id), 0) FROM {Call._meta.db_table}")
        call_base = cur.fetchone()[0]
        cur.execute(f"SELECT COALESCE(max(id), 0) FROM {WorkOrder._meta.db_table}")
        order_base = cur.fetchone()[0]
        cur.execute(
            f"""CREATE TEMP TABLE bench_rows AS
                SELECT g, 1 + floor(random() * {streets})::int AS si, 1 + floor(random() * 12)::int AS di,
                       now() - interval '1 day' * {days} * random() AS callback_at,
                       random() AS r_dispatch, random() AS r_resp, random() AS r_contact, random() AS r_solve,
                       random() AS r_sat, random() AS r_dept, random() AS r_open, random() AS r_excl,
                       (%s::bigint[])[1 + floor(random() * %s)::int] AS category_id,
                       (ARRAY['complaint','complaint','complaint','help','help','report','suggestion',
                              'consultation'])[1 + floor(random() * 8)::int] AS request_type
                  FROM generate_series(1, %s) g""",
            [categories, len(categories), n],
        )
        cur.execute("ALTER TABLE bench_rows ADD COLUMN dispatched_at timestamptz")
        cur.execute("UPDATE bench_rows SET dispatched_at = callback_at - interval '1 hour' * (24 + 170 * r_dispatch)")
        names, exprs, params = columns(
            Call,
            {
                "id": f"{call_base} + r.g",
                "caller_phone": "'139' || lpad(mod(r.g, 100000000)::text, 8, '0')",
                "request_type": "r.request_type",
                "category_id": "r.category_id",
                "description": "'生成的诉求（bench）'",
                "street_id": "s.street_id",
                "district_id": "s.district_id",
                "received_at": "r.dispatched_at - interval '3 minutes'",
                "outcome": "'order'",
            },
        )
        cur.execute(
            f"INSERT INTO {Call._meta.db_table} ({names}) SELECT {exprs} "
            f"FROM bench_rows r JOIN bench_streets s ON s.idx = r.si",
            params,
        )
        unit = "CASE WHEN r.r_dept < 0.05 AND dp.unit_id IS NOT NULL THEN dp.unit_id ELSE s.unit_id END"
        is_open = "r.r_open < 0.03"
        names, exprs, params = columns(
            WorkOrder,
            {
                "id": f"{order_base} + r.g",
                "number": "'B' || lpad((" + str(order_base) + " + r.g)::text, 14, '0')",
                "call_id": f"{call_base} + r.g",
                "category_id": "r.category_id",
                "request_type": "r.request_type",
                "tier_id": str(tier),
                "title": "'生成的工单（bench）'",
                "street_id": "s.street_id",
                "district_id": "s.district_id",
                "lead_unit_id": unit,
                "state": f"CASE WHEN {is_open} THEN 'signed' ELSE 'completed' END",
                "dispatched_at": "r.dispatched_at",
                "responded_at": "r.dispatched_at + interval '1 hour' * (40 * r.r_resp * r.r_resp)",
                "completed_at": f"CASE WHEN {is_open} THEN NULL ELSE r.callback_at END",
                "response_deadline": "r.dispatched_at + interval '1 day'",
                "resolution_deadline": "r.dispatched_at + interval '7 days'",
                "callback_valid": f"NOT ({is_open})",
                "callback_at": f"CASE WHEN {is_open} THEN NULL ELSE r.callback_at END",
                "contacted": f"CASE WHEN {is_open} THEN NULL ELSE r.r_contact < 0.985 END",
                "solved": f"CASE WHEN {is_open} THEN '' WHEN r.r_solve < s.quality THEN 'resolved' "
                "WHEN r.r_solve < s.quality + 0.02 THEN 'partly' ELSE 'unresolved' END",
                "satisfaction": f"CASE WHEN {is_open} THEN '' WHEN r.r_sat < s.quality - 0.02 THEN 'satisfied' "
                "WHEN r.r_sat < s.quality + 0.01 THEN 'basic' ELSE 'unsatisfied' END",
                "excluded": f"NOT ({is_open}) AND r.r_excl < 0.005",
                "assessed_unit_id": f"CASE WHEN {is_open} THEN NULL ELSE {unit} END",
            },
        )
        cur.execute(
            f"INSERT INTO {WorkOrder._meta.db_table} ({names}) SELECT {exprs} FROM bench_rows r "
            f"JOIN bench_streets s ON s.idx = r.si LEFT JOIN bench_depts dp ON dp.district_id = s.district_id "
            f"AND dp.idx = r.di",
            params,
        )
        for model in (Call, WorkOrder):
            t = model._meta.db_table
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
        cur.execute("DROP TABLE bench_rows; DROP TABLE bench_streets; DROP TABLE bench_depts")
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {Call._meta.db_table}; ANALYZE {WorkOrder._meta.db_table}")
    print(f"generated {n:,} orders with their calls in {time.perf_counter() - started:.0f} s")


def timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, math.ceil(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=31, help="the month: callbacks of the last N days")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--export-child", nargs=2, metavar=("FMT", "ROWS"))
    parser.add_argument("--generate", type=int, default=0, help="first add this many orders (PostgreSQL)")
    parser.add_argument("--facts", metavar="PERIOD", help="frozen membership: top up, freeze, drill-down over HTTP")
    parser.add_argument("--callbacks", type=int, default=2_000_000, help="with --facts: callback facts in the period")
    parser.add_argument("--clients", type=int, default=4, help="with --facts: HTTP client processes")
    args = parser.parse_args()
    if args.facts:
        setup_django()
        import bench_assessment_facts

        bench_assessment_facts.main(
            period=args.facts, callbacks=args.callbacks, requests=args.repeat * 20, clients=args.clients
        )
        return
    if args.export_child:
        export_child(args.export_child[0], int(args.export_child[1]))
        return

    setup_django()
    from datetime import timedelta

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from assessment import periods, rulesets
    from assessment.models import Scope, Snapshot
    from assessment.snapshots import services
    from districts.models import Unit
    from hotline.models import User
    from workorders.models import WorkOrder

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    if args.generate:
        generate(args.generate, days=30)
    now = timezone.now()
    start, end = now - timedelta(days=args.days), now + timedelta(minutes=1)
    in_month = WorkOrder.objects.filter(callback_valid=True, callback_at__gte=start, callback_at__lt=end)
    total_orders = WorkOrder.objects.count()
    valid = in_month.count()
    print(f"orders in the database: {total_orders:,}; valid callbacks in the month: {valid:,}")

    # --- 1. the computation --------------------------------------------------------------------
    ruleset = rulesets.ruleset_active()
    Snapshot.objects.filter(label="bench").delete()
    with transaction.atomic():
        # A labelled snapshot of the current period over the bench window (deleted at the end).
        snap = Snapshot.objects.create(
            period=periods.period_of(now, ruleset.period_start_day),
            period_start=start,
            period_end=end,
            ruleset=ruleset,
            kind="recomputed",
            computed_at=now,
            label="bench",
        )
        timings = {}
        t0 = time.perf_counter()
        services._aggregate(snap, ruleset)
        aggregate = time.perf_counter() - t0
        for scope in (Scope.STREET, Scope.DISTRICT, Scope.DEPARTMENT):
            t = time.perf_counter()
            n = services._insert_rows(snap, ruleset, scope)
            timings[scope] = (time.perf_counter() - t, n)
        services._drop_aggregate()
        rates_and_ranks = time.perf_counter() - t0
        t = time.perf_counter()
        services._set_movement(snap)
        movement = time.perf_counter() - t
        t = time.perf_counter()
        snap.stats = services._dashboard_stats(start, end)
        snap.save(update_fields=["stats"])
        stats = time.perf_counter() - t
    print(f"  one pass over the orders (GROUP BY unit, district → temp table): {aggregate * 1000:8.0f} ms")
    for scope, (secs, n) in timings.items():
        print(f"  {scope:<10} {n:>4} rows  {secs * 1000:8.0f} ms")
    print(f"rates, composite and ranks of all units (SQL): {rates_and_ranks:.2f} s")
    print(f"movement update: {movement * 1000:.0f} ms; dashboard aggregates stored with it: {stats:.2f} s")
    print(f"full snapshot computation: {rates_and_ranks + movement + stats:.2f} s")

    try:
        # --- 2. pages from the stored results --------------------------------------------------------
        city = User.objects.filter(role="city").first()
        if city is None:
            city = User.objects.create(
                username="bench-city",
                role="city",
                unit=Unit.objects.get_or_create(
                    code="11-center", defaults={"name": "北京市民热线服务中心", "kind": "center"}
                )[0],
            )
        manager = User.objects.filter(role="district", unit__code="110106").first()
        if manager is None:
            manager = User.objects.create(
                username="bench-fengtai", role="district", unit=Unit.objects.get(code="110106")
            )
        street_unit = Unit.objects.get(code="110106003")
        plain = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        pages = [
            (manager, f"/assessment/rankings/streets/?snapshot={snap.pk}", "district: its streets"),
            (manager, f"/assessment/rankings/districts/?snapshot={snap.pk}", "district: districts"),
            (city, f"/assessment/rankings/streets/city/?snapshot={snap.pk}", "city: all 343 streets"),
            (city, f"/assessment/rankings/departments/?snapshot={snap.pk}", "city: departments"),
            (manager, f"/assessment/dashboard/?snapshot={snap.pk}", "dashboard page"),
            (manager, f"/assessment/dashboard/data/?snapshot={snap.pk}", "dashboard data (district)"),
            (city, f"/assessment/dashboard/data/?snapshot={snap.pk}", "dashboard data (city)"),
            (manager, f"/api/v1/assessment/rankings/?snapshot={snap.pk}&scope=street", "API ranking (district)"),
        ]
        print(f"pages from stored results ({args.repeat} requests each, after one warm-up):")
        with override_settings(STORAGES=plain, ALLOWED_HOSTS=["testserver"]):
            clients = {}
            for user in (city, manager):
                c = Client()
                c.force_login(user)
                clients[user.pk] = c
            for user, url, label in pages:
                c = clients[user.pk]
                # the warm-up request also counts the queries: a page's count must not grow with the data
                with CaptureQueriesContext(connection) as captured:
                    resp = c.get(url)
                queries = len(captured)  # now: the next request empties the log the count is read from
                assert resp.status_code == 200, (url, resp.status_code)
                p50, p95 = timed(lambda c=c, url=url: c.get(url), args.repeat)
                print(f"  {label:<28} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {queries:3d} queries")
            # the scorecard counts the orders behind the lost points live (indexed), so it is listed apart
            c = clients[manager.pk]
            url = f"/assessment/units/{street_unit.pk}/?snapshot={snap.pk}"
            c.get(url)
            p50, p95 = timed(lambda: c.get(url), args.repeat)
            print(f"  {'scorecard (live lost points)':<28} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    finally:
        # never leave the bench snapshot behind: it would be the period's published result
        Snapshot.objects.filter(pk=snap.pk).delete()

    # --- 3. exports in constant memory ------------------------------------------------------------
    if args.skip_export:
        return
    rows = min(args.export_rows, total_orders)
    print("order export (child process each; ru_maxrss):")
    for fmt in ("csv", "xlsx"):
        for n in (100_000, rows):
            out = subprocess.run(
                [sys.executable, __file__, "--export-child", fmt, str(n)], capture_output=True, text=True, check=True
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"  {fmt:<4} {n:>9,} rows  {r['seconds']:6.1f} s  ({n / r['seconds']:,.0f} rows/s)  "
                f"RSS before {r['baseline_kb'] / 1024:6.1f} MB → peak {r['peak_kb'] / 1024:6.1f} MB"
            )


if __name__ == "__main__":
    main()
