"""Intake through the real HTTP API, against the configured database (use PostgreSQL).

Starts gunicorn on a free 127.0.0.1 port (the same WSGI app as production), authenticates with a
DRF token like an integration would, and measures:

1. throughput: N intakes (POST /api/v1/intake/: validation + routing + dispatch catalogue + order +
   participants + event + notifications, one transaction each) from a pool of HTTP client threads,
   → orders/s; then the same rows written as plain INSERTs (one transaction per order, same
   concurrency) on the same database, and the ratio between the two;
2. latency at a steady 30 requests/s (open loop: requests start on schedule whatever the server
   does) → p50/p95/p99;
3. the agent form's round trips (routing, caller history, duplicate check, dispatch preview) over
   HTTP with at least --orders existing orders (1 M by default), generated in bulk with
   INSERT … SELECT generate_series when missing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench .venv/bin/python bench/bench_intake.py
        [--n 3000] [--clients 16] [--workers <cores>] [--threads 1] [--rate 30] [--seconds 20] [--orders 1000000]

The database needs the divisions (`manage.py load_divisions`); the script migrates it first.
Rows it creates are marked (caller name "bench", order numbers starting with G for generated ones).
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
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402

from districts.models import Division, Unit  # noqa: E402
from districts.routing import route_address  # noqa: E402
from hotline.models import Category, User  # noqa: E402

COMPLAINTS = [
    "楼道电梯停运两天，老人上下楼困难",
    "小区门口占道经营，噪音扰民",
    "暖气不热，室温只有十五度",
    "自来水停水两天了没人管",
    "路灯不亮，晚上出行不便",
    "楼上漏水，物业推诿",
    "夜间施工扰民，过了十点还在干",
    "共享单车乱停放堵塞消防通道",
    "下水道堵塞返水，污水漫到楼门口",
    "垃圾三天没人清运，气味很大",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- CPU accounting ------------------------------------------------------------------------------
# Wall-clock figures depend on what else the machine runs (a shared CI box, other test suites).
# The CPU seconds the web workers and their PostgreSQL backends spend per intake do not, and
# 2 cores / CPU per intake is the throughput the same work reaches on two idle cores.
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(ppid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def _backends() -> list[int]:
    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [r[0] for r in cur.fetchall()]


def cpu_snapshot(server: Server) -> dict[int, tuple[str, float]]:
    pids = {pid: "web" for pid in [server.proc.pid, *_children(server.proc.pid)]}
    if connection.vendor == "postgresql":
        pids.update({pid: "db" for pid in _backends()})
    snap = {pid: (kind, _cpu_of(pid)) for pid, kind in pids.items()}
    connection.close()
    return snap


def cpu_spent(before: dict, after: dict, kind: str | None = None) -> float:
    return sum(cpu - before.get(pid, (k, 0.0))[1] for pid, (k, cpu) in after.items() if kind is None or k == kind)


# --- the server --------------------------------------------------------------------------------
class Server:
    def __init__(self, workers: int, threads: int = 1, access_log: bool = False, preload: bool = False):
        self.port = free_port()
        env = dict(os.environ)
        # Persistent connections for the whole run, so each worker keeps one PostgreSQL backend
        # (production does the same; it also keeps the backends' CPU accounting complete).
        env.update(DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING", DB_CONN_MAX_AGE="3600")
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.proc = subprocess.Popen(
            [
                gunicorn,
                "hotline.config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync" if threads == 1 else "gthread",
                "--threads",
                str(threads),
                *(["--access-logfile", "-"] if access_log else []),
                *(["--preload"] if preload else []),
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL if access_log else None,
        )

    def wait(self, token: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = request(self.port, "GET", "/api/v1/categories/?level=1", token)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not come up")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def request(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def raw_post(port: int, path: str, token: str, body: dict) -> bytes:
    """A whole HTTP/1.1 POST, built before the clock starts: the load generator shares the
    server's two cores, so it should spend as little of them as it can (http.client per request
    cost about 0.5 ms of CPU)."""
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\n"
        f"Accept: application/json\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + data


def send_raw(port: int, raw: bytes) -> tuple[int, bytes]:
    """Send a prepared request, read the answer to the end; (status, first bytes of the answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    try:
        return int(answer[9:12]), answer[:400]
    except ValueError:
        return 0, answer[:400]


# --- data --------------------------------------------------------------------------------------
def bench_agent() -> tuple[User, str]:
    from rest_framework.authtoken.models import Token

    center, _ = Unit.objects.get_or_create(
        code="11-center", defaults={"name": "北京市民热线服务中心", "kind": "center"}
    )
    user, created = User.objects.get_or_create(
        username="bench-agent", defaults={"role": "agent", "unit": center, "last_name": "压测"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key


def unit_staff(per_unit: int) -> int:
    """Every street office and department gets `per_unit` active handler accounts with an e-mail
    address (usernames bench-<unit code>-<i>), so each order notifies real people and queues their
    e-mail on commit, as in production. Returns how many accounts were created."""
    role_of = {"street": "street", "department": "department"}
    have = set(User.objects.filter(username__startswith="bench-").values_list("username", flat=True))
    new = []
    for unit in Unit.objects.filter(kind__in=list(role_of), is_active=True):
        for i in range(per_unit):
            name = f"bench-{unit.code}-{i}"
            if name not in have:
                new.append(
                    User(
                        username=name,
                        role=role_of[unit.kind],
                        unit=unit,
                        email=f"{name}@example.invalid",
                        password="!",  # unusable
                    )
                )
    User.objects.bulk_create(new, batch_size=1000)
    return len(new)


def addresses(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(address, street code) that route to exactly one best street, like an agent's confirmed pick."""
    rows = list(
        Division.objects.filter(level=Division.Level.COMMUNITY)
        .select_related("district", "parent")
        .values_list("name", "district__name", "parent__code")
    )
    rng.shuffle(rows)
    out = []
    for name, district, street_code in rows:
        text = f"{district}{name}{rng.randint(1, 30)}号楼"
        cands = route_address(text)
        if cands and cands[0].street_code == street_code and (len(cands) == 1 or cands[0].score > cands[1].score):
            out.append((text, street_code))
        if len(out) >= count:
            break
    return out


def payloads(rng: random.Random, n: int) -> list[dict]:
    leaves = list(Category.objects.filter(level=3, is_active=True).values_list("code", flat=True))
    places = addresses(rng, 400)
    out = []
    for i in range(n):
        address, _street = rng.choice(places)
        out.append(
            {
                "phone": f"139{rng.randint(0, 99_999_999):08d}",
                "caller_name": "bench",
                "channel": "phone",
                "request_type": "complaint",
                "category": rng.choice(leaves),
                "address": address,
                "description": f"{rng.choice(COMPLAINTS)}（压测 {i}）",
                "action": "order",
            }
        )
    return out


# --- 1. throughput -----------------------------------------------------------------------------
def _client_process(args) -> tuple[list[float], list]:
    """One client process: its share of the requests from its own threads. Several processes, so
    the client is not held back by one interpreter's GIL (a single threaded client under-reported
    the server by 20-45 % against wrk)."""
    port, prepared, threads, start_at = args
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()

    def one(raw: bytes) -> None:
        t0 = time.perf_counter()
        status, content = send_raw(port, raw)
        dt = time.perf_counter() - t0
        with lock:
            latencies.append(dt)
            if status != 201:
                failures.append((status, content[:200]))

    time.sleep(max(0.0, start_at - time.time()))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, prepared))
    return latencies, failures


def throughput(port: int, token: str, bodies: list[dict], clients: int, processes: int = 2):
    import multiprocessing as mp

    prepared = [raw_post(port, "/api/v1/intake/", token, body) for body in bodies]
    processes = max(1, min(processes, clients))
    start_at = time.time() + 1.0
    jobs = [(port, prepared[i::processes], max(1, clients // processes), start_at) for i in range(processes)]
    print(f"  client: {processes} processes x {max(1, clients // processes)} threads; {os.getloadavg()=}")
    with mp.get_context("fork").Pool(processes) as pool:
        results = pool.map(_client_process, jobs)
    wall = time.time() - start_at
    latencies = [x for lat, _ in results for x in lat]
    failures = [f for _, fs in results for f in fs]
    if failures:
        print(f"  failures: {len(failures)}, e.g. {failures[0]}")
    print(f"  {os.getloadavg()=}")
    return (len(bodies) - len(failures)) / wall, latencies, len(failures)


def plain_insert(rows: int, clients: int) -> float:
    """The same rows (call, order, supervision copy, event, the unit's notifications) as bare
    INSERTs, one transaction per order, from the same number of concurrent connections: what the
    database alone costs."""
    places = list(
        Division.objects.filter(level=Division.Level.COMMUNITY).values_list("id", "parent_id", "district_id")[:400]
    )
    street_units = dict(Unit.objects.filter(kind="street").values_list("division_id", "id"))
    district_units = dict(Unit.objects.filter(kind="district").values_list("division_id", "id"))
    cats = list(Category.objects.filter(level=3).values_list("id", "default_tier_id"))
    agent = User.objects.get(username="bench-agent")
    call_cols = _insert_columns("hotline_call")
    order_cols = _insert_columns("workorders_workorder")
    prefix = f"P{int(time.time()) % 100000:05d}"
    counter = iter(range(rows))
    counter_lock = threading.Lock()

    def worker() -> None:
        rng = random.Random()
        with connection.cursor() as cur:
            while True:
                with counter_lock:
                    i = next(counter, None)
                if i is None:
                    break
                community, street, district = rng.choice(places)
                cat, tier = rng.choice(cats)
                with transaction.atomic():
                    cur.execute(
                        _sql("hotline_call", call_cols),
                        _values(
                            call_cols,
                            caller_phone=f"139{rng.randint(0, 99_999_999):08d}",
                            caller_name="bench-plain",
                            channel="phone",
                            request_type="complaint",
                            category_id=cat,
                            tier_id=tier,
                            address="丰台区洋桥北里12号楼",
                            description=rng.choice(COMPLAINTS),
                            outcome="order",
                            community_id=community,
                            street_id=street,
                            district_id=district,
                            agent_id=agent.pk,
                        ),
                    )
                    call_id = cur.fetchone()[0]
                    cur.execute(
                        _sql("workorders_workorder", order_cols),
                        _values(
                            order_cols,
                            number=f"{prefix}{i:09d}",
                            call_id=call_id,
                            category_id=cat,
                            request_type="complaint",
                            tier_id=tier,
                            title=rng.choice(COMPLAINTS),
                            address="丰台区洋桥北里12号楼",
                            community_id=community,
                            street_id=street,
                            district_id=district,
                            lead_unit_id=street_units[street],
                            state="dispatched",
                            round=1,
                            created_by_id=agent.pk,
                        ),
                    )
                    order_id = cur.fetchone()[0]
                    cur.execute(
                        "INSERT INTO workorders_orderparticipant (order_id, unit_id, role, added_at) "
                        "VALUES (%s, %s, 'supervisor', now())",
                        [order_id, district_units[district]],
                    )
                    cur.execute(
                        "INSERT INTO workorders_orderevent (order_id, at, kind, actor_id, from_state, to_state, round,"
                        " note, data) VALUES (%s, now(), 'created', %s, '', 'dispatched', 1, '', '{}')",
                        [order_id, agent.pk],
                    )
                    cur.execute(
                        "INSERT INTO workorders_notification (user_id, kind, title, body, url, order_id, created_at)"
                        " SELECT id, 'new_order', %s, '', '', %s, now() FROM hotline_user"
                        " WHERE unit_id = %s AND is_active",
                        [f"新工单 {prefix}{i:09d}", order_id, street_units[street]],
                    )
        connection.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rows / (time.perf_counter() - start)


def _insert_columns(table: str) -> dict[str, str]:
    """NOT NULL columns without a default (Django sets no DB defaults) → their type, so the plain
    INSERT and the bulk generator fill every column whatever later migrations add."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
            "AND column_name <> 'id' AND (is_nullable = 'NO' OR column_name LIKE '%%\\_id')",
            [table],
        )
        return dict(cur.fetchall())


FILLERS = {
    "boolean": "false",
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "jsonb": "'{}'",
    "date": "current_date",
    "timestamp with time zone": "now()",
}


def _fill(data_type: str) -> str:
    return FILLERS.get(data_type, "''")


def _sql(table: str, columns: dict[str, str]) -> str:
    cols = ", ".join(columns)
    return f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id"


def _values(columns: dict[str, str], **given) -> list:
    from django.utils import timezone

    now = timezone.now()
    out = []
    for name, data_type in columns.items():
        if name in given:
            out.append(given[name])
        elif name.endswith("_id"):
            out.append(None)
        elif data_type.startswith("timestamp"):
            out.append(now)
        elif data_type == "boolean":
            out.append(False)
        elif data_type in ("integer", "smallint", "bigint"):
            out.append(0)
        elif data_type == "jsonb":
            out.append("{}")
        elif data_type == "date":
            out.append(now.date())
        else:
            out.append("")
    return out


def drain_outbound() -> tuple[int, int]:
    from workorders.notifications import outbox as notifications

    claimed = batches = 0
    while n := notifications.queue_outbound():
        claimed, batches = claimed + n, batches + 1
    connection.close()
    return claimed, batches


# --- 2. latency at a fixed rate ----------------------------------------------------------------
def steady(port: int, token: str, bodies: list[dict], rate: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    interval = 1.0 / rate
    prepared = [raw_post(port, "/api/v1/intake/", token, body) for body in bodies]
    start = time.perf_counter() + 0.2

    def one(i: int, body: bytes) -> None:
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t0 = time.perf_counter()
        status, _ = send_raw(port, body)
        if status == 201:
            with lock:
                latencies.append(time.perf_counter() - t0)

    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(one, range(len(prepared)), prepared))
    return latencies


# --- 3. form round trips at a million orders ----------------------------------------------------
def ensure_orders(target: int) -> int:
    from workorders.models import WorkOrder

    have = WorkOrder.objects.count()
    if have >= target or connection.vendor != "postgresql":
        return have
    need = target - have
    print(f"  generating {need:,} orders with INSERT … SELECT generate_series …", flush=True)
    t0 = time.perf_counter()
    call_cols = _insert_columns("hotline_call")
    order_cols = _insert_columns("workorders_workorder")
    agent = User.objects.get(username="bench-agent")
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_places, bench_cats")
        cur.execute(
            "CREATE TEMP TABLE bench_places AS SELECT (row_number() OVER (ORDER BY c.id)) - 1 AS rn,"
            " c.id AS community_id, c.parent_id AS street_id, c.district_id, c.name AS cname, u.id AS unit_id"
            " FROM districts_division c JOIN districts_unit u ON u.division_id = c.parent_id WHERE c.level = 4"
        )
        cur.execute(
            "CREATE TEMP TABLE bench_cats AS SELECT (row_number() OVER (ORDER BY id)) - 1 AS rn, id, default_tier_id"
            " FROM hotline_category WHERE level = 3"
        )
        cur.execute("SELECT count(*) FROM bench_places")
        n_places = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM bench_cats")
        n_cats = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM hotline_call")
        max_call = cur.fetchone()[0]
        call_values = {
            "caller_phone": "'139' || lpad((g % 20000000)::text, 8, '0')",
            "caller_name": "'bench-gen'",
            "channel": "'phone'",
            "request_type": "'complaint'",
            "category_id": "c.id",
            "tier_id": "c.default_tier_id",
            "address": "p.cname || (g % 40) || '号楼'",
            "description": "'历史工单 ' || g",
            "outcome": "'order'",
            "community_id": "p.community_id",
            "street_id": "p.street_id",
            "district_id": "p.district_id",
            "agent_id": str(agent.pk),
            "received_at": "now() - (g % 525600) * interval '1 minute'",
            "created_at": "now() - (g % 525600) * interval '1 minute'",
        }
        cols = [c for c in call_cols if c in call_values or not c.endswith("_id")]
        select = ", ".join(call_values.get(c, _fill(call_cols[c])) for c in cols)
        batch = 250_000
        for lo in range(0, need, batch):
            hi = min(need, lo + batch)
            cur.execute(
                f"INSERT INTO hotline_call ({', '.join(cols)}) SELECT {select}"
                f" FROM generate_series({lo}, {hi - 1}) g"
                f" JOIN bench_places p ON p.rn = g % {n_places}"
                f" JOIN bench_cats c ON c.rn = (g / 3) % {n_cats}"
            )
            print(f"    calls {hi:,}/{need:,}", flush=True)
        order_values = {
            "number": "'G' || k.id",
            "call_id": "k.id",
            "category_id": "k.category_id",
            "request_type": "'complaint'",
            "tier_id": "k.tier_id",
            "title": "left(k.description, 100)",
            "address": "k.address",
            "community_id": "k.community_id",
            "street_id": "k.street_id",
            "district_id": "k.district_id",
            "lead_unit_id": "u.id",
            # most history is finished; about one in eight is still open
            "state": "CASE WHEN k.id %% 8 = 0 THEN 'dispatched' WHEN k.id %% 8 = 1 THEN 'signed' ELSE 'completed' END",
            "round": "1",
            "created_by_id": str(agent.pk),
            "created_at": "k.received_at",
            "dispatched_at": "k.received_at",
            "response_deadline": "k.received_at + interval '1 day'",
            "resolution_deadline": "k.received_at + interval '7 days'",
        }
        cols = [c for c in order_cols if c in order_values or not c.endswith("_id")]
        select = ", ".join(order_values.get(c, _fill(order_cols[c])) for c in cols)
        cur.execute(
            f"INSERT INTO workorders_workorder ({', '.join(cols)}) SELECT {select}"
            " FROM hotline_call k JOIN districts_unit u ON u.division_id = k.street_id"
            " WHERE k.id > %s AND k.caller_name = 'bench-gen'",
            [max_call],
        )
        cur.execute("ANALYZE hotline_call")
        cur.execute("ANALYZE workorders_workorder")
    print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return WorkOrder.objects.count()


def round_trips(port: int, token: str, rng: random.Random, n: int) -> dict[str, list[float]]:
    from workorders.models import WorkOrder

    places = addresses(rng, 200)
    leaves = list(Category.objects.filter(level=3).values_list("code", flat=True))
    phones = list(
        WorkOrder.objects.filter(state__in=["dispatched", "signed"])
        .order_by("-id")
        .values_list("call__caller_phone", flat=True)[:500]
    )
    results: dict[str, list[float]] = {"routing": [], "caller history": [], "duplicates": [], "dispatch preview": []}
    for _ in range(n):
        address, street = rng.choice(places)
        category = rng.choice(leaves)
        # (method, path, JSON body): caller history and the duplicate check are POSTs, so phones and
        # the caller's words never travel in URLs
        calls = [
            ("routing", "GET", f"/api/v1/route/?{urllib.parse.urlencode({'q': address})}", None),
            ("caller history", "POST", "/api/v1/intake/caller-history/", {"phone": rng.choice(phones)}),
            (
                "duplicates",
                "POST",
                "/api/v1/intake/duplicates/",
                {"category": category, "street": street, "address": address, "description": "楼道灯不亮，晚上看不见路"},
            ),
            (
                "dispatch preview",
                "GET",
                "/api/v1/intake/dispatch-preview/?" + urllib.parse.urlencode({"category": category, "street": street}),
                None,
            ),
        ]
        for name, method, path, body in calls:
            t0 = time.perf_counter()
            status, answer = request(port, method, path, token, body)
            results[name].append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"{method} {path} → {status} {answer[:200]!r}")
    return results


def show(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{label:<18} n={len(ms):>5}  p50 {pct(ms, 50):6.1f} ms  p95 {pct(ms, 95):6.1f} ms  "
        f"p99 {pct(ms, 99):6.1f} ms  max {max(ms):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000, help="intakes for the throughput run")
    parser.add_argument("--clients", type=int, default=16)
    # One sync worker per core: measured faster than 2×cores or gthread on a CPU-bound box, where
    # every extra process only adds context switches (see bench/README.md).
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (>1: gthread)")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false", help="(default: on, as production)")
    parser.add_argument("--no-preload", dest="preload", action="store_false", help="(default: preload, as production)")
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--orders", type=int, default=1_000_000, help="existing orders for the round-trip run")
    parser.add_argument("--round-trips", type=int, default=300)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--staff", type=int, default=3, help="handler accounts per street office and department")
    parser.add_argument("--skip", default="", help="comma list of phases to skip: throughput,steady,roundtrips")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    rng = random.Random(args.seed)

    call_command("migrate", verbosity=0)
    if not Division.objects.filter(level=Division.Level.COMMUNITY).exists():
        sys.exit("load the divisions first: manage.py load_divisions")
    _, token = bench_agent()
    unit_staff(args.staff)
    staffed = User.objects.filter(username__startswith="bench-", is_active=True).exclude(role="agent").count()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; cpus: {os.cpu_count()}")
    print(f"broker: {settings.CELERY_BROKER_URL.split('://')[0]}; {staffed:,} handler accounts with e-mail")
    connections.close_all()

    server = Server(args.workers, args.threads, args.access_log, args.preload)
    try:
        server.wait(token)
        kind = "sync" if args.threads == 1 else f"gthread ×{args.threads} threads"
        extras = "".join([", --preload" if args.preload else "", ", access log" if args.access_log else ""])
        print(f"gunicorn: {args.workers} {kind} workers{extras} on 127.0.0.1:{server.port}")
        # warm every worker (routing index, catalogue) before timing
        throughput(server.port, token, payloads(rng, args.workers * 20), args.clients)

        if "throughput" not in skip:
            bodies = payloads(rng, args.n)
            drain_outbound()  # notifications left by earlier runs are not this run's
            load_before = os.getloadavg()[0]
            cpu_before = cpu_snapshot(server)
            client_cpu = time.process_time()
            rate, lat, failed = throughput(server.port, token, bodies, args.clients)
            client_cpu = time.process_time() - client_cpu
            cpu_after = cpu_snapshot(server)
            done = max(1, args.n - failed)
            cpu = cpu_spent(cpu_before, cpu_after) / done
            web, db = (cpu_spent(cpu_before, cpu_after, k) / done for k in ("web", "db"))
            print(f"\n1. intake throughput, {args.n} POST /api/v1/intake/ from {args.clients} client threads")
            print(f"   load average before: {load_before:.1f} on {os.cpu_count()} cores")
            print(f"   {rate:,.0f} orders/s wall clock  ({failed} failed)")
            print("   " + show("latency (loaded)", lat))
            print(
                f"   CPU per intake: {cpu * 1000:.1f} ms (gunicorn {web * 1000:.1f} + PostgreSQL {db * 1000:.1f})"
                f"  → {(os.cpu_count() or 1) / cpu:,.0f} orders/s on {os.cpu_count()} idle cores"
            )
            print(f"   load generator (client threads): {client_cpu * 1000 / done:.2f} ms CPU per request")
            # What the beat task then does with the notifications those intakes wrote.
            t0, c0 = time.perf_counter(), time.process_time()
            claimed, batches = drain_outbound()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(
                f"   then the outbound queue (beat task): {claimed:,} notifications handed to delivery in {batches}"
                f" batches, {wall * 1000:.0f} ms ({wall * 1e6 / max(1, claimed):.0f} µs wall,"
                f" {cpu * 1e6 / max(1, claimed):.0f} µs of its own CPU per notification)"
            )
            plain = plain_insert(args.n, args.clients)
            print(
                f"   plain INSERT of the same rows (call, order, supervision copy, event, notifications;"
                f" {args.clients} connections):"
            )
            print(f"   {plain:,.0f} orders/s   → the API path costs {plain / rate:.1f}× a bare INSERT")

        if "steady" not in skip:
            bodies = payloads(rng, int(args.rate * args.seconds))
            lat = steady(server.port, token, bodies, args.rate)
            print(f"\n2. intake at a steady {args.rate:.0f} requests/s for {args.seconds:.0f} s (open loop)")
            print("   " + show("latency", lat))

        if "roundtrips" not in skip:
            total = ensure_orders(args.orders)
            print(f"\n3. agent form round trips over HTTP with {total:,} orders in the database")
            for name, values in round_trips(server.port, token, rng, args.round_trips).items():
                print("   " + show(name, values))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
