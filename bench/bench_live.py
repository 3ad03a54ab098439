"""What 1,500 open browsers cost: today's polling beside the live stream (hotline/live), in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_h15_bench \\
    LIVE_REDIS_URL=redis://127.0.0.1:6379/6 \\
    .venv/bin/python bench/bench_live.py --sessions 1500 --agents 750 --seconds 60 --rate 2

It creates bench users and real sessions (750 agents on the workspace with the today counter, the
rest street/department/district desks on their inbox), starts the real servers as `make run` does
(gunicorn 2 workers × 4 threads for pages, uvicorn for /live/stream) and drives them with a
multi-process asyncio client (2 processes, raw HTTP/1.1, not starved by the GIL):

1. polling, as the pages did before: desks GET /orders/poll.json every 15 s, agents GET
   /api/v1/intake/today/ every 10 s (random phase), for --seconds, while changes happen;
2. live, idle: every session holds one /live/stream connection; nothing changes for --seconds;
3. live, active: --rate changes per second (a unit, its district and the city), each session
   re-reads what the JS re-reads (desks poll.json on their unit's event; agents nothing: the figures
   come with the event), for --seconds.

For each phase: CPU seconds of the server processes (gunicorn + uvicorn) and of the PostgreSQL
backends of this database, as a share of the machine's cores; requests/s; freshness = time from a
change to the moment each affected session holds data read after it (p50/p95/max); and the load
average before/after (the machine is shared).
"""

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

HOST = "127.0.0.1"
CLK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


# --- setup (Django) ---------------------------------------------------------------------------
def prepare(n_sessions: int, n_agents: int):
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from districts.models import CENTER_UNIT_CODE, Unit
    from hotline.models import Role, User

    center = Unit.objects.get(code=CENTER_UNIT_CODE)
    desks = list(Unit.objects.filter(kind__in=["street", "department"], is_active=True).order_by("code"))
    districts = list(Unit.objects.filter(kind="district").order_by("code"))
    wanted = []
    for i in range(n_agents):
        wanted.append((f"livebench-a{i}", Role.AGENT, center))
    n_desks = n_sessions - n_agents
    n_district = min(len(districts) * 2, n_desks // 20)
    for i in range(n_desks - n_district):
        u = desks[i % len(desks)]
        wanted.append((f"livebench-s{i}", Role.STREET if u.kind == "street" else Role.DEPARTMENT, u))
    for i in range(n_district):
        wanted.append((f"livebench-d{i}", Role.DISTRICT, districts[i % len(districts)]))
    User.objects.bulk_create(
        [User(username=n, role=r, unit=u, password="!bench") for n, r, u in wanted], ignore_conflicts=True
    )
    users = {u.username: u for u in User.objects.filter(username__startswith="livebench-").select_related("unit")}
    store_cls = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    for name, role, unit in wanted:
        user = users[name]
        s = store_cls()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        sessions.append(
            {
                "cookie": s.session_key,
                "kind": "agent" if role == Role.AGENT else "desk",
                "unit": unit.pk,
                "district": unit.division_id if role == Role.DISTRICT else None,
            }
        )
    return sessions, settings.SESSION_COOKIE_NAME


def publish_change(unit_id: int, district_division_id):
    from hotline.live.signals import publish

    publish(units=[unit_id], districts=[district_division_id], city=True)


# --- servers ----------------------------------------------------------------------------------
def start_servers(port: int):
    env = dict(os.environ, LIVE_PORT=str(port + 1), LOG_LEVEL="WARNING", ALLOWED_HOSTS="127.0.0.1,localhost")
    bindir = Path(sys.executable).parent
    web = subprocess.Popen(
        [
            str(bindir / "gunicorn"),
            "hotline.config.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--preload",
            "--graceful-timeout",
            "5",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    live = subprocess.Popen(
        [
            str(bindir / "uvicorn"),
            "hotline.config.asgi:application",
            "--host",
            HOST,
            "--port",
            str(port + 1),
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "2",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.time() + 60
    for p in (port, port + 1):
        while True:
            try:
                import socket

                socket.create_connection((HOST, p), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit(f"server on port {p} did not start") from None
                time.sleep(0.3)
    return web, live


def pids_of(root_pids):
    """The given processes and all their descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = set(), list(root_pids)
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo += children.get(p, [])
    return out


def cpu_seconds(pids) -> dict:
    out = {}
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            out[p] = (int(f[11]) + int(f[12])) / CLK
        except OSError:
            pass
    return out


def db_backend_pids(dbname: str):
    import psycopg2

    from hotline.config.env import parse_database_url

    cfg = parse_database_url(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(
        dbname="postgres",
        user=cfg["USER"],
        host=cfg["HOST"] or HOST,
        port=cfg["PORT"] or 5432,
        password=cfg["PASSWORD"],
    )
    with conn, conn.cursor() as c:
        c.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [dbname])
        pids = [r[0] for r in c.fetchall()]
    conn.close()
    return pids


class CpuMeter:
    """CPU seconds of the servers (and of this database's PostgreSQL backends) over a window."""

    def __init__(self, roots, dbname):
        self.roots, self.dbname = roots, dbname

    def start(self):
        self.t0 = time.time()
        self.srv0 = cpu_seconds(pids_of(self.roots))
        self.db0 = cpu_seconds(db_backend_pids(self.dbname))
        self.load0 = os.getloadavg()

    def stop(self):
        wall = time.time() - self.t0
        srv1 = cpu_seconds(pids_of(self.roots))
        db1 = cpu_seconds(db_backend_pids(self.dbname))
        # processes that ended inside the window are not counted; new ones count from zero
        srv = sum(v - self.srv0.get(p, 0.0) for p, v in srv1.items())
        db = sum(v - self.db0.get(p, 0.0) for p, v in db1.items())
        return {
            "wall_s": round(wall, 1),
            "server_cpu_s": round(srv, 2),
            "server_share_of_cores": round(100 * srv / (wall * NCPU), 2),
            "db_cpu_s": round(db, 2),
            "db_share_of_cores": round(100 * db / (wall * NCPU), 2),
            "load_before": [round(x, 2) for x in self.load0],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        }


# --- client (separate processes, asyncio) ------------------------------------------------------
async def http_get(port, path, cookie_name, cookie):
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nCookie: {cookie_name}={cookie}\r\n"
            "Accept: application/json\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    data = await reader.read()
    writer.close()
    return int(data.split(b" ", 2)[1]) if data else 0


async def poll_session(s, port, cookie_name, stop_at, rec):
    interval = 10.0 if s["kind"] == "agent" else 15.0
    path = "/api/v1/intake/today/" if s["kind"] == "agent" else "/orders/poll.json"
    await asyncio.sleep(random.uniform(0, interval))
    while time.time() < stop_at:
        started = time.time()
        try:
            status = await http_get(port, path, cookie_name, s["cookie"])
        except OSError:
            status = 0
        rec["requests"] += 1
        rec["sent"].append(started)
        if status == 200:
            rec["fresh"].append((started, time.time()))
        else:
            rec["errors"] += 1
        await asyncio.sleep(max(0.0, interval - (time.time() - started)))


async def live_session(s, port, cookie_name, stop_at, rec, opened):
    reader, writer = await asyncio.open_connection(HOST, port + 1)
    writer.write(
        (
            f"GET /live/stream HTTP/1.1\r\nHost: {HOST}:{port + 1}\r\nCookie: {cookie_name}={s['cookie']}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        rec["errors"] += 1
        opened.append(False)
        return
    opened.append(True)
    event = None
    try:
        while time.time() < stop_at:
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=max(0.1, stop_at - time.time()))
            except TimeoutError:
                break
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "change":
                got = time.time()
                rec["events"] += 1
                data = json.loads(line[6:])
                if s["kind"] == "agent" and "today" in data:
                    rec["fresh"].append((got, got))  # the figures came with the event
                elif s["kind"] == "desk" or "reconnected" in data.get("topics", ()):
                    started = time.time()
                    status = await http_get(port, "/orders/poll.json", cookie_name, s["cookie"])
                    rec["requests"] += 1
                    rec["sent"].append(started)
                    if status == 200:
                        rec["fresh"].append((started, time.time()))
                    else:
                        rec["errors"] += 1
            elif line.startswith("data: ") and event == "closed":
                rec["closed"] += 1
                break
    finally:
        writer.close()


def client_main(idx, mode, sessions, port, cookie_name, start_at, stop_at, out):
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))

    async def run():
        recs = [{"requests": 0, "errors": 0, "events": 0, "closed": 0, "fresh": [], "sent": []} for _ in sessions]
        opened = []
        await asyncio.sleep(max(0.0, start_at - time.time()))
        if mode == "poll":
            tasks = [poll_session(s, port, cookie_name, stop_at, r) for s, r in zip(sessions, recs, strict=True)]
        else:
            tasks = []
            for s, r in zip(sessions, recs, strict=True):
                tasks.append(live_session(s, port, cookie_name, stop_at, r, opened))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = sum(1 for x in results if isinstance(x, BaseException))
        return recs, opened.count(True), failures

    recs, n_open, failures = asyncio.run(run())
    out.put((idx, recs, n_open, failures))


def run_clients(mode, sessions, port, cookie_name, start_at, stop_at, procs=2):
    q = mp.Queue()
    chunks = [sessions[i::procs] for i in range(procs)]
    ps = [
        mp.Process(target=client_main, args=(i, mode, c, port, cookie_name, start_at, stop_at, q), daemon=True)
        for i, c in enumerate(chunks)
    ]
    for p in ps:
        p.start()
    return ps, q, chunks


def collect(ps, q, chunks):
    results = sorted(q.get() for _ in ps)  # by process index: recs line up with chunks
    for p in ps:
        p.join(timeout=10)
    recs = [r for _, r, _, _ in results]
    return recs, sum(o for _, _, o, _ in results), sum(f for _, _, _, f in results)


def freshness(changes, sessions_by_proc, recs_by_proc, window):
    """For each change and each session it concerns: time until that session held data read after it."""
    delays, missed = [], 0
    for sessions, recs in zip(sessions_by_proc, recs_by_proc, strict=True):
        for s, rec in zip(sessions, recs, strict=True):
            fresh = rec["fresh"]
            for t, unit, district in changes:
                if s["kind"] == "agent" or s["unit"] == unit or (s["district"] and s["district"] == district):
                    after = [done for started, done in fresh if started >= t]
                    if after:
                        delays.append(min(after) - t)
                    elif t < window[1] - 16:  # a change near the end may legitimately be unseen
                        missed += 1
    delays.sort()
    if not delays:
        return {"pairs": 0, "missed": missed}
    return {
        "pairs": len(delays),
        "p50_s": round(statistics.median(delays), 2),
        "p95_s": round(delays[int(len(delays) * 0.95) - 1], 2),
        "max_s": round(delays[-1], 2),
        "missed": missed,
    }


def drive_changes(sessions, seconds, rate, until):
    """Real change signals (publish() as the transitions call it), at `rate` per second."""
    desks = [s for s in sessions if s["kind"] == "desk" and not s["district"]]
    changes = []
    if rate <= 0:
        time.sleep(max(0.0, until - time.time()))
        return changes
    from districts.models import Unit

    district_of = dict(Unit.objects.values_list("pk", "district_id"))
    while time.time() < until:
        s = random.choice(desks)
        t = time.time()
        publish_change(s["unit"], district_of.get(s["unit"]))
        changes.append((t, s["unit"], district_of.get(s["unit"])))
        time.sleep(max(0.0, 1.0 / rate - (time.time() - t)))
    return changes


def phase(mode, sessions, cookie_name, port, meter, seconds, rate, warmup):
    start_at = time.time() + 1
    stop_at = start_at + warmup + seconds
    ps, q, chunks = run_clients(mode, sessions, port, cookie_name, start_at, stop_at)
    time.sleep(max(0.0, start_at + warmup - time.time()))
    meter.start()
    changes = drive_changes(sessions, seconds, rate, until=stop_at - 0.5)
    cpu = meter.stop()
    recs, n_open, failures = collect(ps, q, chunks)
    window = (start_at + warmup, stop_at)
    in_window = sum(1 for rs in recs for r in rs for started in r["sent"] if window[0] <= started <= window[1])
    # request latency as the client saw it (the machine is shared: high load stretches it)
    lat = sorted(
        done - started
        for rs in recs
        for r in rs
        for started, done in r["fresh"]
        if done > started and window[0] <= started <= window[1]
    )
    total_requests = sum(r["requests"] for rs in recs for r in rs)
    result = {
        "mode": mode,
        "sessions": len(sessions),
        "open_streams": n_open if mode != "poll" else None,
        "changes": len(changes),
        "requests_per_s_in_window": round(in_window / seconds, 1),
        "requests_total": total_requests,
        "errors": sum(r["errors"] for rs in recs for r in rs),
        "client_task_failures": failures,
        "events": sum(r["events"] for rs in recs for r in rs),
        "request_latency_p50_ms": round(1000 * statistics.median(lat), 1) if lat else None,
        "request_latency_p95_ms": round(1000 * lat[int(len(lat) * 0.95) - 1], 1) if lat else None,
        **cpu,
    }
    if changes:
        result["freshness"] = freshness(changes, chunks, recs, window)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=1500)
    ap.add_argument("--agents", type=int, default=750)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rate", type=float, default=2.0, help="changes per second in the active phases")
    ap.add_argument("--port", type=int, default=18150)
    ap.add_argument("--only", choices=["poll", "live"], default=None)
    args = ap.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (a copy of hl_bench_base).")
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    sessions, cookie_name = prepare(args.sessions, args.agents)
    from django.conf import settings
    from django.db import connection

    from hotline.live.signals import backend

    dbname = settings.DATABASES["default"]["NAME"]
    connection.close()
    print(f"load before: {os.getloadavg()}  sessions: {len(sessions)}  store: {backend().name}", flush=True)
    web, live = start_servers(args.port)
    meter = CpuMeter([web.pid, live.pid], dbname)
    try:
        results = []
        if args.only in (None, "poll"):
            results.append(phase("poll", sessions, cookie_name, args.port, meter, args.seconds, args.rate, 16))
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
        if args.only in (None, "live"):
            for rate in (0.0, args.rate):
                r = phase("live", sessions, cookie_name, args.port, meter, args.seconds, rate, 15)
                r["mode"] = "live idle" if rate == 0 else "live active"
                results.append(r)
                print(json.dumps(r, ensure_ascii=False), flush=True)
        print(
            "\n| phase | sessions | changes/s | server CPU (% of 2 cores) | DB CPU (%) | requests/s"
            " | freshness p50 / p95 / max | load before → after |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in results:
            f = r.get("freshness") or {}
            fr = f"{f.get('p50_s', '—')} / {f.get('p95_s', '—')} / {f.get('max_s', '—')} s" if f else "—"
            print(
                f"| {r['mode']} | {r['sessions']} | {round(r['changes'] / max(1, r['wall_s']), 1)} | "
                f"{r['server_share_of_cores']} | {r['db_share_of_cores']} | {r['requests_per_s_in_window']} | {fr} | "
                f"{r['load_before'][0]} → {r['load_after'][0]} |"
            )
    finally:
        for p in (web, live):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in (web, live):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
