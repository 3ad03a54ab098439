"""Benchmark of the assessment on a large month (run it on PostgreSQL).

    # once: 2 M orders over the last 30 days with outcomes (the handling area's generator)
    DATABASE_URL=postgres://… .venv/bin/python manage.py generate_orders --orders 2000000 --months 1
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_assessment.py

Prints:
1. the time to compute every unit's rates, composite and ranks in SQL (the three INSERT … SELECT
   statements of `services._insert_rows`: 343 streets, 16 districts, the departments), the movement
   UPDATE, and the dashboard aggregates stored with the snapshot — over all valid callbacks of the
   last 31 days (one "month" holding the generated 2 M orders);
2. page times from the stored results (ranking pages, scorecard, dashboard page and its JSON), p50
   and p95 over repeated requests through the whole Django stack;
3. a 1 M-row order export (CSV and Excel) in a child process each, with peak RSS next to the RSS of
   the same process before exporting and after a 100 k-row export: flat memory means the 1 M figure
   is close to the 100 k one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")


def setup_django():
    import django

    django.setup()


def rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def export_child(fmt: str, rows: int) -> None:
    """Export `rows` orders as the city would (no phone in full) and report memory."""
    setup_django()
    from assessment import exports
    from hotline.models import User
    from workorders.models import WorkOrder

    user = User.objects.filter(role="city").first() or User(role="city")
    baseline = rss_kb()
    qs = WorkOrder.objects.order_by("id")[:rows]
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


def timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=31, help="the month: callbacks of the last N days")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--export-child", nargs=2, metavar=("FMT", "ROWS"))
    args = parser.parse_args()
    if args.export_child:
        export_child(args.export_child[0], int(args.export_child[1]))
        return

    setup_django()
    from datetime import timedelta

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from assessment import periods, services
    from assessment.models import Scope, Snapshot
    from districts.models import Unit
    from hotline.models import User
    from workorders.models import WorkOrder

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    now = timezone.now()
    start, end = now - timedelta(days=args.days), now + timedelta(minutes=1)
    in_month = WorkOrder.objects.filter(callback_valid=True, callback_at__gte=start, callback_at__lt=end)
    total_orders = WorkOrder.objects.count()
    valid = in_month.count()
    print(f"orders in the database: {total_orders:,}; valid callbacks in the month: {valid:,}")

    # --- 1. the computation --------------------------------------------------------------------
    ruleset = services.ruleset_active()
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
        for scope in (Scope.STREET, Scope.DISTRICT, Scope.DEPARTMENT):
            t = time.perf_counter()
            n = services._insert_rows(snap, ruleset, scope)
            timings[scope] = (time.perf_counter() - t, n)
        rates_and_ranks = time.perf_counter() - t0
        t = time.perf_counter()
        services._set_movement(snap)
        movement = time.perf_counter() - t
        t = time.perf_counter()
        snap.stats = services._dashboard_stats(start, end)
        snap.save(update_fields=["stats"])
        stats = time.perf_counter() - t
    for scope, (secs, n) in timings.items():
        print(f"  {scope:<10} {n:>4} rows  {secs * 1000:8.0f} ms")
    print(f"rates, composite and ranks of all units (SQL): {rates_and_ranks:.2f} s")
    print(f"movement update: {movement * 1000:.0f} ms; dashboard aggregates stored with it: {stats:.2f} s")
    print(f"full snapshot computation: {rates_and_ranks + movement + stats:.2f} s")

    # --- 2. pages from the stored results --------------------------------------------------------
    city = User.objects.filter(role="city").first()
    if city is None:
        city = User.objects.create(username="bench-city", role="city", unit=Unit.objects.get(kind="center"))
    manager = User.objects.filter(role="district", unit__code="110106").first()
    if manager is None:
        manager = User.objects.create(username="bench-fengtai", role="district", unit=Unit.objects.get(code="110106"))
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
            resp = c.get(url)
            assert resp.status_code == 200, (url, resp.status_code)
            p50, p95 = timed(lambda c=c, url=url: c.get(url), args.repeat)
            print(f"  {label:<28} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
        # the scorecard counts the orders behind the lost points live (indexed), so it is listed apart
        c = clients[manager.pk]
        url = f"/assessment/units/{street_unit.pk}/?snapshot={snap.pk}"
        c.get(url)
        p50, p95 = timed(lambda: c.get(url), args.repeat)
        print(f"  {'scorecard (live lost points)':<28} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
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
