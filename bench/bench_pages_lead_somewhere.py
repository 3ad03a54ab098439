"""Time the pages that lead to the orders behind a figure on a large table (PostgreSQL).

    DATABASE_URL=postgres://… .venv/bin/python bench/bench_pages_lead_somewhere.py [--n 20]

Prints p50/p95/max milliseconds (whole view through the Django test client: scoping, count, first
page, template) of the governance page, the orders behind a surge alert, a 每月一题 figure, a
dashboard load bar (a district's open / a street's overdue orders), a repeat caller, and the callback
queue with its due times — with the machine's load average. Everything it writes is rolled back.
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

from django.db import transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from assessment.models import Alert, MonthlyTopic  # noqa: E402
from districts.models import Unit  # noqa: E402
from hotline.models import Call, User  # noqa: E402
from workorders.models import WorkOrder  # noqa: E402


def timed(fn, n):
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], samples[-1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "staticfiles": plain_static}
    with override_settings(ALLOWED_HOSTS=["*"], STORAGES=storages), transaction.atomic():
        busiest = WorkOrder.objects.values("district_id").annotate(n=Count("id")).order_by("-n").first()
        district_unit = Unit.objects.get(kind=Unit.Kind.DISTRICT, division_id=busiest["district_id"])
        street = (
            WorkOrder.objects.filter(district_id=busiest["district_id"])
            .values("lead_unit_id", "street_id", "category_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        center = Unit.objects.filter(kind=Unit.Kind.CENTER).first()
        users = {
            "city": User.objects.create(username="bench-city-h12b", role="city", unit=center),
            "district": User.objects.create(username="bench-district-h12b", role="district", unit=district_unit),
            "agent": User.objects.create(username="bench-agent-h12b", role="agent", unit=center),
        }
        now = timezone.now()
        latest = WorkOrder.objects.filter(street_id=street["street_id"]).order_by("-dispatched_at").first()
        alert = Alert.objects.create(
            category_id=latest.category_id,
            district_id=busiest["district_id"],
            street_id=street["street_id"],
            window_start=latest.dispatched_at,
            window_end=latest.dispatched_at,
            calls=5,
            raised_at=now,
        )
        month = timezone.localtime(latest.dispatched_at).strftime("%Y-%m")
        topic = MonthlyTopic.objects.create(
            period=month, category_id=street["category_id"], title="bench", created_by=users["city"]
        )
        caller = Call.objects.filter(pk=latest.call_id).first()
        urls = [
            ("city", "/assessment/governance/"),
            ("district", "/assessment/governance/"),
            ("district", f"/assessment/governance/orders/?alert={alert.pk}"),
            ("city", f"/assessment/governance/orders/?topic={topic.pk}&measure=total"),
            ("city", f"/assessment/governance/orders/?topic={topic.pk}&measure=resolved"),
            ("city", f"/assessment/governance/orders/?district={busiest['district_id']}&state=open"),
            ("district", f"/assessment/governance/orders/?unit={street['lead_unit_id']}&state=overdue"),
            ("district", f"/assessment/governance/orders/?caller={caller.pk}"),
            ("agent", "/callbacks/"),
            ("city", "/assessment/rankings/streets/city/"),
        ]
        load = os.getloadavg()
        print(f"orders: {WorkOrder.objects.count():,}; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        for role, url in urls:
            client = Client()
            client.force_login(users[role])
            status = client.get(url).status_code  # warm
            p50, p95, top = timed(lambda c=client, u=url: c.get(u), args.n)
            print(f"{role:9} {url[:72]:72} {status} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {top:7.1f} ms")
        load = os.getloadavg()
        print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
