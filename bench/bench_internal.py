"""Time the street desk with internal owners (二次派单) over HTTP on a large table (PostgreSQL).

    export DATABASE_URL=postgres://…   # a copy of the 1M-order bench database, migrated
    .venv/bin/python bench/bench_internal.py --setup          # once: sections, members, assignments
    .venv/bin/python bench/bench_internal.py [--n 200]        # starts gunicorn (2 workers) and times pages

--setup gives the busiest street 6 sections plus its community committees (from the division data),
one member per section and a center account, and assigns 80 % of the street's orders round-robin to
them (open ones with a current Assignment row and an internal due time, closed ones with a finished
one), in SQL. The timing run starts gunicorn on --port, logs in through the login page's session
(Django test client against the same database, cookie reused), then for each URL sends --n
sequential GETs from one client process (http.client, keep-alive) and prints p50/p95/max ms together
with the load average of the machine at the start and end of that URL.
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from districts.communities import communities_of  # noqa: E402
from districts.models import Section, Unit  # noqa: E402
from hotline.models import User  # noqa: E402
from workorders.models import OPEN_STATES, Assignment, WorkOrder  # noqa: E402

SECTIONS = ["城管办", "平安办", "社区办", "综合办", "规划办", "物业办"]


def busiest_street() -> Unit:
    row = (
        WorkOrder.objects.filter(lead_unit__kind=Unit.Kind.STREET)
        .values("lead_unit_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    return Unit.objects.get(pk=row["lead_unit_id"])


def setup(unit: Unit) -> None:
    with transaction.atomic():
        sections = [Section.objects.get_or_create(unit=unit, name=name)[0] for name in SECTIONS]
        for i, c in enumerate(communities_of(unit.division_id)):
            sections.append(
                Section.objects.get_or_create(
                    unit=unit, name=c.name, defaults={"kind": Section.Kind.COMMUNITY, "division": c, "sort": i}
                )[0]
            )
        center, _ = User.objects.get_or_create(username="bench-center", defaults={"role": "street", "unit": unit})
        members = []
        for i, section in enumerate(sections):
            member, _ = User.objects.get_or_create(
                username=f"bench-member-{i}", defaults={"role": "street", "unit": unit, "section": section}
            )
            members.append(member)
        ids = [s.pk for s in sections]
        member_of = {m.section_id: m.pk for m in members}
        w, a = WorkOrder._meta.db_table, Assignment._meta.db_table
        with connection.cursor() as cur:
            # Round-robin over the sections for 80 % of the unit's orders; the first member of each
            # section holds every second one personally.
            cases = " ".join(f"WHEN {k} THEN {pk}" for k, pk in enumerate(ids))
            person = " ".join(f"WHEN {pk} THEN {member_of[pk]}" for pk in ids)
            cur.execute(
                f"""UPDATE {w} SET section_id = CASE MOD(id, {len(ids)}) {cases} END
                    WHERE lead_unit_id = %s AND MOD(id, 10) < 8 AND section_id IS NULL""",
                [unit.pk],
            )
            cur.execute(
                f"""UPDATE {w} SET assignee_id = CASE section_id {person} END
                    WHERE lead_unit_id = %s AND section_id IS NOT NULL AND MOD(id, 2) = 0""",
                [unit.pk],
            )
            open_states = tuple(OPEN_STATES)
            cur.execute(
                f"""UPDATE {w} SET internal_due_at = LEAST(resolution_deadline, dispatched_at + interval '2 days'),
                        internal_warn_at = dispatched_at + interval '36 hours'
                    WHERE lead_unit_id = %s AND section_id IS NOT NULL AND state IN %s""",
                [unit.pk, open_states],
            )
            cur.execute(
                f"""INSERT INTO {a} (order_id, unit_id, round, section_id, assignee_id, assigned_by_id,
                        assigned_at, note, due_at, warn_at, responded_at, response_seconds, ended_at, "end")
                    SELECT id, lead_unit_id, round, section_id, assignee_id, %s,
                        dispatched_at + interval '10 minutes', '', internal_due_at, internal_warn_at,
                        dispatched_at + (interval '1 minute' * (20 + MOD(id, 240))), 600 + 60 * MOD(id, 240),
                        CASE WHEN state IN %s THEN NULL ELSE COALESCE(closed_at, dispatched_at) END,
                        CASE WHEN state IN %s THEN '' ELSE 'closed' END
                    FROM {w} o WHERE lead_unit_id = %s AND section_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM {a} x WHERE x.order_id = o.id)""",
                [center.pk, open_states, open_states, unit.pk],
            )
        for user in [center, *members]:
            user.set_password("bench-password-12345")
            user.save(update_fields=["password"])
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {WorkOrder._meta.db_table}")
        cur.execute(f"ANALYZE {Assignment._meta.db_table}")
    assigned = WorkOrder.objects.filter(lead_unit=unit, section__isnull=False).count()
    print(f"{unit.name}: {len(sections)} sections/committees, {assigned} orders assigned")


def session_cookie(username: str) -> str:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies["sessionid"].value


def time_url(port: int, path: str, cookie: str, n: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"}
    samples = []
    load_before = os.getloadavg()[0]
    for i in range(n + 3):
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status} {body[:200]!r}")
        if i >= 3:  # warm-up
            samples.append((time.perf_counter() - t) * 1000)
    conn.close()
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[int(len(samples) * 0.95) - 1],
        "max": samples[-1],
        "load": (load_before, os.getloadavg()[0]),
        "bytes": len(body),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--port", type=int, default=8712)
    parser.add_argument(
        "--root", default=str(ROOT), help="checkout whose gunicorn serves (e.g. /work/main for a before/after)"
    )
    parser.add_argument("--only", default="", help="comma-separated substrings: time only matching URLs")
    args = parser.parse_args()
    unit = busiest_street()
    if args.setup:
        setup(unit)
        return
    total = WorkOrder.objects.filter(lead_unit=unit).count()
    assigned = WorkOrder.objects.filter(lead_unit=unit, section__isnull=False).count()
    member = User.objects.get(username="bench-member-0")
    mine = WorkOrder.objects.filter(lead_unit=unit, section_id=member.section_id).count()
    print(f"{WorkOrder.objects.count():,} orders; {unit.name}: {total:,} orders, {assigned:,} with an internal owner")
    print(f"member bench-member-0 ({member.section.name}): {mine:,} orders of the section")
    static = os.environ.get("STATIC_ROOT", "/tmp/bench-internal-static")
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING", "STATIC_ROOT": static}
    # production settings serve hashed static files: collect them once
    root = Path(args.root)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=root, env=env, check=True
    )
    server = subprocess.Popen(
        [
            str(root / ".venv/bin/gunicorn"),
            "hotline.config.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
    )
    print(f"served by {root}")
    try:
        time.sleep(4)
        center, mem = session_cookie("bench-center"), session_cookie("bench-member-0")
        section_id = member.section_id
        urls = [
            ("center", center, "/orders/?tab=to_sign"),
            ("center", center, "/orders/?tab=in_progress"),
            ("center", center, "/orders/?tab=due_soon"),
            ("center", center, "/orders/?tab=overdue"),
            ("center", center, "/orders/?tab=closed"),
            ("center", center, f"/orders/?tab=in_progress&owner={section_id}"),
            ("center", center, "/orders/?tab=closed&owner=none"),
            ("center", center, "/orders/sections/scorecard/"),
            ("center", center, "/orders/poll.json"),
            ("member", mem, "/orders/?tab=in_progress"),
            ("member", mem, "/orders/?tab=closed"),
            ("member", mem, "/orders/?tab=overdue&owner=me"),
            ("member", mem, "/orders/poll.json"),
        ]
        print(f"{'who':<7} {'url':<48} {'p50':>7} {'p95':>7} {'max':>7}  load 1-min (start → end)")
        only = [o for o in args.only.split(",") if o]
        for who, cookie, path in urls:
            if only and not any(o in path for o in only):
                continue
            r = time_url(args.port, path, cookie, args.n)
            print(
                f"{who:<7} {path:<48} {r['p50']:7.1f} {r['p95']:7.1f} {r['max']:7.1f}"
                f"  {r['load'][0]:.2f} → {r['load'][1]:.2f}"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"at {timezone.now():%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
