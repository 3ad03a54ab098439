"""Frozen membership at scale (issue 13), PostgreSQL only; imported by bench/bench_assessment.py --facts.

1. tops the period up to `--callbacks` (default 2 M) current valid callback facts (extra rounds of
   existing orders, callback times spread over the period), in SQL;
2. freezes the period (services.snapshot_freeze: rates, ranks and the membership of every counted
   fact) and prints the time, the member rows and the stored size (table + indexes);
3. serves the site with gunicorn and measures the frozen drill-down (the orders behind a figure,
   page 1 and a later page, several units and measures) over HTTP with a multi-process client:
   p50/p95, with the machine load (os.getloadavg) next to each figure.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def top_up(period: str, target: int) -> int:
    from django.db import connection

    from assessment import rates
    from assessment.models import AssessScope, CallbackFact
    from assessment.rulesets import ruleset_active
    from workorders.models import WorkOrder

    ruleset = ruleset_active()
    start, end = rates.period_bounds(ruleset, period)
    have = rates.current_facts().filter(valid=True, callback_at__gte=start, callback_at__lt=end).count()
    missing = target - have
    if missing > 0:
        t = time.perf_counter()
        fact_t, order_t = CallbackFact._meta.db_table, WorkOrder._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"""
                INSERT INTO {fact_t} (order_id, round, assessed_unit_id, district_id, category_id, request_type,
                                      callback_at, valid, invalid_reason, contacted, solved, satisfaction, comment,
                                      scope, ruleset_version, recorded_at, reason)
                SELECT o.id, 10 + r, o.lead_unit_id, o.district_id, o.category_id, o.request_type, x.at, TRUE, '',
                       random() < 0.98,
                       CASE WHEN random() < 0.95 THEN 'resolved' ELSE 'unresolved' END,
                       CASE WHEN x.s < 0.9 THEN 'satisfied' WHEN x.s < 0.96 THEN 'basic' ELSE 'unsatisfied' END,
                       CASE WHEN x.s >= 0.96 THEN '还是没有解决（bench）' ELSE '' END,
                       '{AssessScope.FULL}', {ruleset.version}, x.at, ''
                  FROM (SELECT id, lead_unit_id, district_id, category_id, request_type FROM {order_t}
                         ORDER BY id LIMIT %s) o
                 CROSS JOIN generate_series(1, %s) r
                 CROSS JOIN LATERAL (SELECT %s::timestamptz + (%s::timestamptz - %s::timestamptz) * random() AS at,
                                            random() AS s, o.id + r AS dep) x
                 LIMIT %s
                """,
                [missing, math.ceil(missing / max(1, WorkOrder.objects.count())) + 1, start, end, start, missing],
            )
            cur.execute(f"ANALYZE {fact_t}")
        print(f"added {missing:,} callback facts in {time.perf_counter() - t:.0f} s ({load()})")
    return rates.current_facts().filter(valid=True, callback_at__gte=start, callback_at__lt=end).count()


def freeze(period: str):
    from django.db import connection, transaction

    from assessment.models import Snapshot, SnapshotMember, SnapshotRow
    from assessment.snapshots import services

    member_t, row_t = SnapshotMember._meta.db_table, SnapshotRow._meta.db_table
    with connection.cursor() as cur:
        # A bench database only: drop an earlier bench freeze of the period (and what refers to it).
        ids = list(Snapshot.objects.filter(period=period).values_list("pk", flat=True))
        if ids:
            cur.execute(f"DELETE FROM {member_t} WHERE snapshot_id = ANY(%s)", [ids])
            cur.execute(f"DELETE FROM {row_t} WHERE snapshot_id = ANY(%s)", [ids])
            cur.execute(f"UPDATE {Snapshot._meta.db_table} SET base_id = NULL WHERE base_id = ANY(%s)", [ids])
            cur.execute(f"DELETE FROM {Snapshot._meta.db_table} WHERE id = ANY(%s)", [ids])
        # Sizes below are then exactly this freeze's (a bench database holds no other membership).
        cur.execute(f"TRUNCATE {member_t}")
    steps = {}

    def timed_step(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                steps[name] = time.perf_counter() - t

        return wrapper

    originals = {n: getattr(services, n) for n in ("snapshot_rows_compute", "_store_members", "_dashboard_stats")}
    for name, fn in originals.items():
        setattr(services, name, timed_step(name, fn))
    t = time.perf_counter()
    try:
        with transaction.atomic():
            snapshot = services.snapshot_freeze(period=period)
            t_commit = time.perf_counter()
        steps["commit"] = time.perf_counter() - t_commit
    finally:
        for name, fn in originals.items():
            setattr(services, name, fn)
    seconds = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {member_t}")
        cur.execute(
            "SELECT pg_relation_size(%s), pg_indexes_size(%s), pg_total_relation_size(%s)",
            [member_t, member_t, member_t],
        )
        table, indexes, total = cur.fetchone()
    members = SnapshotMember.objects.filter(snapshot=snapshot).count()
    print(f"freeze {period}: {seconds:.1f} s ({load()})")
    print("  " + ", ".join(f"{name} {secs:.1f} s" for name, secs in steps.items()))
    print(
        f"stored membership: {members:,} rows, table {table / 2**20:.0f} MiB + indexes {indexes / 2**20:.0f} MiB"
        f" = {total / 2**20:.0f} MiB ({total / max(1, members):.0f} bytes per counted callback)"
    )
    return snapshot


def session_cookie(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _client(args) -> list[float]:
    port, cookie, paths, n, seed = args
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out = []
    for _ in range(n):
        path = rng.choice(paths)
        t = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie, "Host": "localhost"})
        resp = conn.getresponse()
        body = resp.read()
        out.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200, (resp.status, path, body[:300])
    conn.close()
    return out


def drill_down_http(snapshot, *, requests: int, clients: int) -> None:
    from assessment.models import Scope, SnapshotRow
    from districts.models import Unit
    from hotline.models import User

    city = User.objects.filter(role="city", is_active=True).first()
    if city is None:
        city = User.objects.create(
            username="bench-city", role="city", unit=Unit.objects.get_or_create(code="11-center")[0]
        )
    rows = list(
        SnapshotRow.objects.filter(snapshot=snapshot, scope=Scope.STREET, valid__gt=0)
        .order_by("-valid")
        .values_list("unit_id", "valid")[:40]
    )
    paths = []
    for unit_id, valid in rows:
        for measure in ("valid", "unsatisfied", "not_resolved"):
            paths.append(f"/assessment/orders/?snapshot={snapshot.pk}&unit={unit_id}&scope=street&measure={measure}")
        last = max(1, valid // 50)
        paths.append(
            f"/assessment/orders/?snapshot={snapshot.pk}&unit={unit_id}&scope=street&measure=valid&page={last}"
        )
    cookie = session_cookie(city)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="hotline.config.settings")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "hotline.config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        _client((port, cookie, paths, len(paths), 0))  # warm-up: every URL once
        per = max(1, requests // clients)
        t = time.perf_counter()
        with multiprocessing.Pool(clients) as pool:
            samples = [
                x
                for part in pool.map(_client, [(port, cookie, paths, per, i + 1) for i in range(clients)])
                for x in part
            ]
        wall = time.perf_counter() - t
        samples.sort()
        p95 = samples[min(len(samples) - 1, math.ceil(len(samples) * 0.95) - 1)]
        print(
            f"frozen drill-down over HTTP (gunicorn 2 workers, {clients} clients, {len(samples)} requests, "
            f"{len(rows)} streets x 4 views, up to {rows[0][1] if rows else 0:,} facts behind a figure): "
            f"p50 {statistics.median(samples):.0f} ms, p95 {p95:.0f} ms, {len(samples) / wall:.1f} req/s ({load()})"
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main(*, period: str, callbacks: int, requests: int, clients: int) -> None:
    from django.db import connection

    assert connection.vendor == "postgresql", "run the facts benchmark on PostgreSQL"
    print(f"database: {connection.settings_dict['NAME']} ({load()})")
    n = top_up(period, callbacks)
    print(f"valid callback facts in {period}: {n:,}")
    snapshot = freeze(period)
    drill_down_http(snapshot, requests=requests, clients=clients)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")
    import django

    django.setup()
    main(period=sys.argv[1] if len(sys.argv) > 1 else "2026-10", callbacks=2_000_000, requests=400, clients=4)
