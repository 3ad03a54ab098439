"""Time the callback queue and the callback write path on a large table (PostgreSQL).

Fill the database first (a million orders; the last two days' closings await a callback):

    DATABASE_URL=postgres://… .venv/bin/python manage.py generate_orders --orders 1000000 --open 50000
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_callback.py [--n 50] [--indexes]

Prints p50/p95/max milliseconds of the agent's callback queue (selector: first page + count; and the
whole page through the Django test client), its query plan, and the time of recording a valid
callback that re-dispatches (rolled back). With --indexes it first creates the partial index
proposed for WorkOrder (see README "callback queue"), measures again, and drops them.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from districts.models import Unit  # noqa: E402
from hotline.models import User  # noqa: E402
from workorders.callbacks import selectors as callback_selectors  # noqa: E402
from workorders.lifecycle import callbacks  # noqa: E402
from workorders.lifecycle.callbacks import Answers  # noqa: E402
from workorders.models import WorkOrder  # noqa: E402

# The indexes the queue wants (partial: they hold only the orders awaiting a callback, so they stay
# small however large the table grows).
# As a Django index on WorkOrder:
#   models.Index(
#       Case(When(state="closed", then=F("closed_at")), default=F("resolution_deadline")), F("id"),
#       name="order_callback_queue", condition=Q(state__in=["closed", "dispatched", "signed"]),
#   )
PROPOSED = [
    "CREATE INDEX IF NOT EXISTS order_callback_queue ON workorders_workorder "
    "((CASE WHEN state = 'closed' THEN closed_at ELSE resolution_deadline END), id) "
    "WHERE state IN ('closed', 'dispatched', 'signed')",
]
DROP = ["DROP INDEX IF EXISTS order_callback_queue"]


def timed(fn, n):
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[max(0, int(len(samples) * 0.95) - 1)], "max": samples[-1]}


def fmt(r):
    return f"p50 {r['p50']:7.1f} ms   p95 {r['p95']:7.1f} ms   max {r['max']:7.1f} ms"


def measure(agent, client, n):
    def selector():
        qs = callback_selectors.callback_queue(user=agent)
        list(qs[:50])
        qs.count()

    print(f"  queue selector (first 50 + count): {fmt(timed(selector, n))}")
    print(f"  queue page GET /callbacks/:        {fmt(timed(lambda: client.get('/callbacks/'), n))}")
    print(f"  page 20 GET /callbacks/?page=20:   {fmt(timed(lambda: client.get('/callbacks/?page=20'), n))}")
    plan = callback_selectors.callback_queue(user=agent)[:50].explain(analyze=True)
    print("  plan (first page):")
    print("    " + plan.replace("\n", "\n    "))


def record_cost(agent, n):
    """A valid, unsatisfied callback: lock, callback row, attempt, outcome, new round, event,
    notifications. Each one rolled back."""
    ids = list(WorkOrder.objects.filter(state="closed").order_by("closed_at").values_list("pk", flat=True)[: max(n, 1)])
    samples = []
    for pk in ids:
        with transaction.atomic():
            t = time.perf_counter()
            callbacks.callback_record(pk, actor=agent, answers=Answers(True, "unresolved", "unsatisfied"))
            samples.append((time.perf_counter() - t) * 1000)
            transaction.set_rollback(True)
    samples.sort()
    if samples:
        print(
            f"  callback_record → re-dispatch ({len(samples)} orders, rolled back): "
            f"p50 {statistics.median(samples):.1f} ms"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--indexes", action="store_true", help="also measure with the proposed partial indexes")
    args = parser.parse_args()

    now = timezone.now()
    total = WorkOrder.objects.count()
    closed = WorkOrder.objects.filter(state="closed").count()
    overdue = WorkOrder.objects.filter(state__in=["dispatched", "signed"], resolution_deadline__lt=now).count()
    print(
        f"database: {connection.vendor}; orders {total:,}; closed awaiting callback {closed:,}; "
        f"open past limit {overdue:,}"
    )
    center = Unit.objects.get(code="11-center")
    agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": "agent", "unit": center})
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        DEBUG=False,
    ):
        client = Client()
        client.force_login(agent)
        assert client.get("/callbacks/").status_code == 200
        print("\nwith the indexes WorkOrder has today:")
        measure(agent, client, args.n)
        record_cost(agent, min(args.n, 20))
        if args.indexes and connection.vendor == "postgresql":
            with connection.cursor() as cur:
                t = time.perf_counter()
                for sql in PROPOSED:
                    cur.execute(sql)
                cur.execute("ANALYZE workorders_workorder")
                print(f"\nwith the proposed partial indexes (built in {(time.perf_counter() - t):.1f} s):")
            try:
                measure(agent, client, args.n)
            finally:
                with connection.cursor() as cur:
                    for sql in DROP:
                        cur.execute(sql)


if __name__ == "__main__":
    main()
