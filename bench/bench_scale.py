"""The scale table's page and sweep figures, over HTTP, on a large PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_h15_bench .venv/bin/python bench/bench_scale.py [--n 100]

Starts the web server as `make run` does (gunicorn, 2 workers × 4 threads, DEBUG off) and times,
from 2 client processes (one request at a time each, so the figures are response times, not a
queue), with real sessions:

- the busiest street's inbox, every tab (GET /orders/?tab=…): p50/p95 per tab, and the worst p95;
  the closed tab's page 40 (rows 976–1,000) and the API list of the closed tab;
- its district manager's inbox, every tab (the whole district's orders); an agent's inbox (all);
- the governance page of that district's manager and of the city (10 requests each);
- the order page (GET /orders/<id>/) of random orders of that street;
- the district supervision page (GET /orders/supervision/) of that street's district;

then in-process: the deadline sweep in steady state (`sweep.run()` when a minute's worth of orders
at Beijing's volume, ~50, has just become due; rolled back) and the database size per order.
The machine load (os.getloadavg) is printed with every figure: the machine is shared.

`--root DIR` serves the same database from another checkout (e.g. a worktree of an older commit), so
a before/after runs on the same data in the same minute; `--pages-only` skips the sweep and sizes.
"""

import argparse
import http.client
import json
import multiprocessing as mp
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
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def session_for(user):
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    s = import_module(settings.SESSION_ENGINE).SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key


def _client(args):
    port, cookie, paths = args
    samples, bad = [], 0
    for path in paths:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        t = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        resp = conn.getresponse()
        resp.read()
        samples.append((time.perf_counter() - t) * 1000)
        if resp.status != 200:
            bad += 1
            if bad == 1:
                print(f"  {path}: HTTP {resp.status}", flush=True)
        conn.close()
    return samples, bad


def timed(port, cookie, paths, procs=2):
    """Response times of `paths`, split over `procs` client processes."""
    chunks = [(port, cookie, paths[i::procs]) for i in range(procs)]
    before = load()
    with mp.Pool(procs) as pool:
        results = pool.map(_client, chunks)
    samples = sorted(s for r, _ in results for s in r)
    bad = sum(b for _, b in results)
    return {
        "n": len(samples),
        "p50": round(statistics.median(samples), 1),
        "p95": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
        "max": round(samples[-1], 1),
        "non_200": bad,
        "load_before": before,
        "load_after": load(),
    }


def start_web(port, root=ROOT):
    env = dict(os.environ, LOG_LEVEL="WARNING", ALLOWED_HOSTS="127.0.0.1,localhost", DEBUG="0")
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "hotline.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--preload",
            "--graceful-timeout",
            "5",
        ],
        env=env,
        cwd=root,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return web
        except OSError:
            if time.time() > deadline:
                raise SystemExit("web server did not start") from None
            time.sleep(0.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="requests per page")
    parser.add_argument("--port", type=int, default=18160)
    parser.add_argument("--due", type=int, default=50, help="orders newly due for the steady-state sweep")
    parser.add_argument("--root", default=str(ROOT), help="serve from this checkout (same database)")
    parser.add_argument("--pages-only", action="store_true", help="only the HTTP figures")
    args = parser.parse_args()
    # one key for the sessions made here and the server (which may be another checkout)
    os.environ.setdefault("SECRET_KEY", "bench-scale-" + "k" * 50)
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count

    from districts.models import Unit
    from hotline.models import User
    from workorders.handling import selectors
    from workorders.models import WorkOrder

    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL (DATABASE_URL).")

    # pages render with DEBUG off: the served checkout's static manifest must exist
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=args.root, check=True
    )
    total = WorkOrder.objects.count()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        size = cur.fetchone()[0]
    print(
        f"database {connection.settings_dict['NAME']}: {total:,} orders, {size / 1e9:.2f} GB, "
        f"{size / max(1, total) / 1024:.2f} KB per order; {load()}"
    )
    busiest = (
        WorkOrder.objects.filter(lead_unit__kind="street").values("lead_unit_id").annotate(n=Count("pk")).order_by("-n")
    ).first()
    street = Unit.objects.get(pk=busiest["lead_unit_id"])
    district = Unit.objects.get(kind="district", division_id=street.district_id)

    def user(name, role, unit):
        return User.objects.get_or_create(username=name, defaults={"role": role, "unit": unit})[0]

    from django.conf import settings

    cookie_name = settings.SESSION_COOKIE_NAME
    street_cookie = f"{cookie_name}={session_for(user('bench-street', 'street', street))}"
    district_cookie = f"{cookie_name}={session_for(user('bench-district', 'district', district))}"
    center = Unit.objects.filter(kind="center").first()
    agent_cookie = f"{cookie_name}={session_for(user('bench-agent', 'agent', center))}" if center else None
    city_cookie = f"{cookie_name}={session_for(user('bench-city', 'city', center))}"
    if Path(args.root).resolve() == ROOT:
        # the governance page reads the lists the beat task stores every 10 minutes: refresh them once
        from assessment.governance import services as governance

        t = time.perf_counter()
        n = governance.governance_lists_refresh()
        print(f"governance lists refreshed: {n} lists in {time.perf_counter() - t:.1f} s ({load()})", flush=True)
    ids = list(WorkOrder.objects.filter(lead_unit=street).values_list("pk", flat=True)[:5000])
    random.Random(1).shuffle(ids)
    print(f"street {street.name}: {busiest['n']:,} orders; district {district.name}")
    connection.close()

    print(f"serving from {args.root}")
    web = start_web(args.port, Path(args.root))
    results = {}
    try:
        for warm in ("/orders/", "/orders/supervision/"):
            timed(args.port, street_cookie if warm == "/orders/" else district_cookie, [warm] * 4)
        worst = 0.0
        for tab in selectors.TAB_NAMES:
            r = timed(args.port, street_cookie, [f"/orders/?tab={tab}"] * args.n)
            worst = max(worst, r["p95"])
            results[f"inbox {tab}"] = r
            print(f"inbox tab {tab:12s} {json.dumps(r, ensure_ascii=False)}", flush=True)
        results["inbox worst tab p95"] = worst
        print(f"→ inbox worst tab p95 {worst} ms (target < 100 ms)")
        for label, path in (
            ("closed page 40", "/orders/?tab=closed&page=40"),
            ("API closed tab", "/api/v1/orders/?tab=closed"),
            ("poll.json", "/orders/poll.json"),
        ):
            r = timed(args.port, street_cookie, [path] * max(20, args.n // 2))
            results[label] = r
            print(f"street {label:15s} {json.dumps(r, ensure_ascii=False)}", flush=True)
        worst_d = 0.0
        for tab in selectors.TAB_NAMES:
            r = timed(args.port, district_cookie, [f"/orders/?tab={tab}"] * max(20, args.n // 2))
            worst_d = max(worst_d, r["p95"])
            results[f"district inbox {tab}"] = r
            print(f"district inbox {tab:12s} {json.dumps(r, ensure_ascii=False)}", flush=True)
        print(f"→ district inbox worst tab p95 {worst_d} ms")
        if agent_cookie:  # an agent's inbox covers every order of the city
            for tab in ("to_sign", "overdue", "closed"):
                r = timed(args.port, agent_cookie, [f"/orders/?tab={tab}"] * max(20, args.n // 2))
                results[f"agent inbox {tab}"] = r
                print(f"agent inbox {tab:12s} {json.dumps(r, ensure_ascii=False)}", flush=True)
        for label, cookie in (("district", district_cookie), ("city", city_cookie)):
            r = timed(args.port, cookie, ["/assessment/governance/"] * 10)
            results[f"governance {label}"] = r
            print(f"governance page {label:9s} {json.dumps(r, ensure_ascii=False)}", flush=True)
        r = timed(args.port, street_cookie, [f"/orders/{pk}/" for pk in (ids * 2)[: args.n]])
        results["order page"] = r
        print(f"order page           {json.dumps(r, ensure_ascii=False)} (target p95 < 150 ms)", flush=True)
        r = timed(args.port, district_cookie, ["/orders/supervision/"] * max(20, args.n // 2))
        results["district supervision"] = r
        print(f"district supervision {json.dumps(r, ensure_ascii=False)} (target p95 < 300 ms)", flush=True)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=20)
    if args.pages_only:
        return

    # the sweep, steady state: a minute's worth newly due, then nothing
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_handling import sweep_once

    print(f"sweep, steady state ({load()}):")
    sweep_once(args.due)
    print(f"{load()}")


if __name__ == "__main__":
    main()
