"""Time the handling pages and the deadline sweep on a large table (PostgreSQL).

Fill the database first (a million orders, 50,000 open, in a few minutes):

    DATABASE_URL=postgres://… .venv/bin/python manage.py generate_orders --orders 1000000 --open 50000
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_handling.py [--n 200] [--overdue 2000]

Prints p50/p95/max milliseconds of a street's inbox page (each tab) and of the district supervision
page through the Django test client (the whole view: scoping, counts, list, template), the query
plans of the inbox queries, and the time of one full sweep that finds and marks `--overdue` newly
overdue orders among the open ones, for a few sizes (everything the bench writes is rolled back).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from districts.models import Unit  # noqa: E402
from hotline.models import User  # noqa: E402
from workorders.handling import selectors  # noqa: E402
from workorders.lifecycle import sweep  # noqa: E402
from workorders.models import CLOCK_STATES, WorkOrder  # noqa: E402


def timed(fn, n):
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[int(len(samples) * 0.95) - 1],
        "max": samples[-1],
    }


def user_for(username, role, unit):
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role, "unit": unit})
    return user


def fmt(r):
    return f"p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms   max {r['max']:6.1f} ms"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--overdue", default="200,500,2000", help="newly overdue orders per run, comma-separated")
    args = parser.parse_args()

    total = WorkOrder.objects.count()
    open_ = WorkOrder.objects.filter(state__in=["dispatched", "signed", "return_requested", "parked"]).count()
    print(f"database: {connection.vendor}; orders {total:,}; open {open_:,}")
    # The busiest street: the worst case for a street inbox.
    busiest = (
        WorkOrder.objects.filter(lead_unit__kind="street")
        .values("lead_unit_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    street_unit = Unit.objects.get(pk=busiest["lead_unit_id"])
    district_unit = Unit.objects.get(kind="district", division_id=street_unit.district_id)
    street_user = user_for("bench-street", "street", street_unit)
    district_user = user_for("bench-district", "district", district_unit)
    per_street = list(
        WorkOrder.objects.filter(lead_unit__kind="street").values("lead_unit_id").annotate(n=Count("pk")).order_by("n")
    )
    median = per_street[len(per_street) // 2]
    typical_unit, typical_orders = Unit.objects.get(pk=median["lead_unit_id"]), median["n"]
    typical_user = user_for("bench-street-typical", "street", typical_unit)
    street_orders = WorkOrder.objects.filter(lead_unit=street_unit).count()
    district_orders = WorkOrder.objects.filter(district_id=district_unit.division_id).count()
    print(
        f"street: {street_unit.name} ({street_orders:,} orders); district: {district_unit.name} ({district_orders:,})"
    )

    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        DEBUG=False,
    ):
        street = Client()
        street.force_login(street_user)
        district = Client()
        district.force_login(district_user)
        for c, url in ((street, "/orders/"), (district, "/orders/supervision/")):
            assert c.get(url).status_code == 200
        print("\nstreet inbox page (GET /orders/?tab=…), whole request:")
        worst = 0.0
        for tab in selectors.TAB_NAMES:
            r = timed(lambda tab=tab: street.get(f"/orders/?tab={tab}"), args.n)
            worst = max(worst, r["p95"])
            print(f"  {tab:12s} {fmt(r)}")
        typical = Client()
        typical.force_login(typical_user)
        r = timed(lambda: typical.get("/orders/?tab=in_progress"), args.n)
        print(f"  typical street ({typical_unit.name}, {typical_orders:,} orders), in progress: {fmt(r)}")
        r = timed(lambda: street.get("/orders/?tab=closed&page=20"), args.n)
        print(f"  closed p.20    {fmt(r)}")
        r = timed(lambda: street.get("/orders/poll.json"), args.n)
        print(f"  poll.json    {fmt(r)}")
        print(f"  → worst tab p95 {worst:.1f} ms (target < 100 ms)")
        r = timed(lambda: district.get("/orders/supervision/"), max(20, args.n // 2))
        print(f"\ndistrict supervision page (GET /orders/supervision/): {fmt(r)} (target p95 < 300 ms)")
        r = timed(lambda: district.get("/orders/?tab=in_progress"), max(20, args.n // 2))
        print(f"district inbox (in progress):                       {fmt(r)}")

    if connection.vendor == "postgresql":
        now = timezone.now()
        qs = selectors.inbox_orders(street_user, tab="to_sign", now=now)[:25]
        print("\nplan, street inbox list (to sign):")
        print("  " + qs.explain().replace("\n", "\n  "))
        tabs = {t: Count("state", filter=selectors.tab_q(t, now)) for t in selectors.TAB_NAMES if t != "assisting"}
        qs = selectors.inbox_scope(street_user).values("lead_unit_id").annotate(**tabs)
        print("plan, street tab counts (one aggregate):")
        print("  " + qs.explain(analyze=True).replace("\n", "\n  "))

    # --- the sweep --------------------------------------------------------------------------------
    print(f"\nsweep over {total:,} orders ({open_:,} open):")
    for n_due in [int(x) for x in args.overdue.split(",")]:
        sweep_once(n_due)


def sweep_once(n_due: int) -> None:
    with transaction.atomic():
        now = timezone.now()
        # Make `n_due` open orders newly due: deadlines just passed, not yet marked.
        ids = list(
            WorkOrder.objects.filter(state__in=CLOCK_STATES, resolution_overdue_at__isnull=True)
            .order_by("?")
            .values_list("pk", flat=True)[:n_due]
        )
        WorkOrder.objects.filter(pk__in=ids).update(
            resolution_deadline=now - timedelta(minutes=1),
            response_deadline=now - timedelta(minutes=2),
            resolution_warn_at=now - timedelta(minutes=30),
            response_warn_at=now - timedelta(minutes=40),
        )
        print(f"  {len(ids):,} orders made newly due:")
        t = time.perf_counter()
        first = {}
        for phase in sweep.PHASES:
            tp = time.perf_counter()
            first[phase.name] = sweep._run_phase(phase, now, sweep.BATCH)
            print(f"    {phase.name:20s} {first[phase.name]:6,} marked in {(time.perf_counter() - tp) * 1000:7.1f} ms")
        first_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        second = sweep.run(now=now)
        second_ms = (time.perf_counter() - t) * 1000
        print(
            f"    whole sweep {first_ms:7.1f} ms; run again at once: {second_ms:.1f} ms, {sum(second.values())} marked"
        )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
