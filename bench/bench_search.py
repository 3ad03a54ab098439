"""The global search over HTTP at scale (use a PostgreSQL copy of hl_bench_base, 1 M orders).

Starts gunicorn (2 sync workers, like production on 2 cores) on a free 127.0.0.1 port against the
configured database and fires POST /api/v1/search/ from a pool of client *processes* (so the load
driver is not held by one Python GIL), as an agent (whole city) and as a street handler (scoped by
visible_orders). Queries are drawn from the database itself: the middle 6 digits of an order number,
a full caller phone, 7 digits of one, two characters of an address, a 3–4 character piece of a
description, and a two-word query. Prints p50/p95/p99 per kind and overall, with the load average.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_h11_bench .venv/bin/python bench/bench_search.py \
        [--n 600] [--clients 4] [--workers 2]

It creates two users with tokens (bench-search-agent, bench-search-street) if missing; nothing else.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from districts.models import Unit  # noqa: E402
from hotline.models import User  # noqa: E402
from workorders.models import WorkOrder  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token_for(username: str, role: str, unit: Unit) -> str:
    from rest_framework.authtoken.models import Token

    user, created = User.objects.get_or_create(username=username, defaults={"role": role, "unit": unit})
    if created:
        user.set_unusable_password()
        user.save()
    return Token.objects.get_or_create(user=user)[0].key


def queries(rng: random.Random, n: int) -> list[tuple[str, str]]:
    with connection.cursor() as cur:
        cur.execute("SELECT max(id) FROM workorders_workorder")
        top = cur.fetchone()[0]
        picked = []
        while len(picked) < 60:
            cur.execute(
                "SELECT o.number, o.address, c.caller_phone, c.description FROM workorders_workorder o "
                "JOIN hotline_call c ON c.id = o.call_id WHERE o.id >= %s ORDER BY o.id LIMIT 1",
                [rng.randint(1, top)],
            )
            row = cur.fetchone()
            if row:
                picked.append(row)
    out = []
    for i in range(n):
        number, address, phone, description = rng.choice(picked)
        kind = ["number-middle", "phone", "phone-part", "address-2", "text-3", "two-words"][i % 6]
        text = (address or description).replace("（生成数据）", "") or description
        if kind == "number-middle":
            q = number[4:10]
        elif kind == "phone":
            q = phone or number[-8:]
        elif kind == "phone-part":
            q = (phone or number)[2:9]
        elif kind == "address-2":
            start = rng.randrange(max(1, len(text) - 1))
            q = text[start : start + 2]
        elif kind == "text-3":
            start = rng.randrange(max(1, len(description) - 3))
            q = description[start : start + rng.choice([3, 4])]
        else:
            q = f"{description[:2]} {description[-4:-1]}"
        out.append((kind, q))
    return out


def one(args) -> tuple[str, str, float, int]:
    port, token, who, kind, q = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"q": q}).encode()
    started = time.perf_counter()
    conn.request(
        "POST",
        "/api/v1/search/",
        body=body,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    data = resp.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    hits = len(json.loads(data)["results"]) if resp.status == 200 else -resp.status
    return who, kind, elapsed, hits


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    orders = WorkOrder.objects.count()
    center = Unit.objects.get(code="11-center")
    street_unit = Unit.objects.filter(kind="street").order_by("code").first()
    agent_token = token_for("bench-search-agent", "agent", center)
    street_token = token_for("bench-search-street", "street", street_unit)
    work = []
    for i, (kind, q) in enumerate(queries(rng, args.n)):
        work.append((kind, q, "agent" if (i // 6) % 2 == 0 else "street"))
    connection.close()

    port = free_port()
    env = dict(os.environ, DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING", DB_CONN_MAX_AGE="3600")
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "hotline.config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                one((port, agent_token, "agent", "warm", "暖气"))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        for q in ("暖气", "20261", "不热"):  # warm both workers' caches
            one((port, agent_token, "agent", "warm", q))
        tasks = [(port, agent_token if who == "agent" else street_token, who, kind, q) for kind, q, who in work]
        started = time.perf_counter()
        with Pool(args.clients) as pool:
            results = pool.map(one, tasks, chunksize=1)
        wall = time.perf_counter() - started
        load = os.getloadavg()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    errors = [r for r in results if r[3] < 0]
    print(
        f"orders: {orders:,}; requests: {len(results)} from {args.clients} client processes; "
        f"gunicorn {args.workers} sync workers; {len(results) / wall:.1f} req/s; errors: {len(errors)}"
    )
    print(f"load average (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    groups: dict[str, list] = {}
    for who, kind, ms, hits in results:
        groups.setdefault(f"{who:6} {kind}", []).append((ms, hits))
    for key in sorted(groups):
        ms = [m for m, _h in groups[key]]
        hits = sum(1 for _m, h in groups[key] if h > 0)
        print(
            f"  {key:22} n={len(ms):4}  p50 {pct(ms, 50):7.1f}  p95 {pct(ms, 95):7.1f}  p99 {pct(ms, 99):7.1f} ms"
            f"  (found something: {hits}/{len(ms)})"
        )
    everything = [r[2] for r in results]
    print(
        f"  ALL                    n={len(everything):4}  p50 {pct(everything, 50):7.1f}  "
        f"p95 {pct(everything, 95):7.1f}  p99 {pct(everything, 99):7.1f} ms"
    )


if __name__ == "__main__":
    main()
