"""Why an intake costs more CPU in a bigger database: buffer traffic per intake, by size.

    DATABASE_URL=postgres://…/small .venv/bin/python bench/bench_intake_growth.py --n 300
    DATABASE_URL=postgres://…/large .venv/bin/python bench/bench_intake_growth.py --n 300

Runs `--n` real intakes in-process (hotline.intake.services.call_intake: the same service as the
API, one transaction each, committed; marked caller name "growth") and reports per intake: the
CPU of this process and of its PostgreSQL backend (/proc), shared-buffer hits and reads (blocks
not in shared_buffers, copied from the OS cache: pg_stat_database), the index sizes of the tables
an intake writes, and shared_buffers. Run it against a small and a large database and compare.
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")
CLK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / CLK


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    import django

    django.setup()
    from django.db import connection

    from districts.models import Unit
    from hotline.intake.services import call_intake
    from hotline.models import Category, Role, User
    from workorders.models import WorkOrder

    center = Unit.objects.get(code="11-center")
    agent = User.objects.get_or_create(username="growth-agent", defaults={"role": Role.AGENT, "unit": center})[0]
    leaves = list(
        Category.objects.filter(level=3, is_active=True, default_tier__isnull=False).values_list("code", flat=True)
    )
    streets = list(Unit.objects.filter(kind="street").select_related("division", "district")[:200])
    rng = random.Random(5)
    with connection.cursor() as cur:
        cur.execute("SHOW shared_buffers")
        sb = cur.fetchone()[0]
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
        cur.execute(
            "SELECT t.relname, count(*), sum(pg_relation_size(i.indexrelid)) FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN ('workorders_workorder', 'hotline_call', "
            "'workorders_orderevent', 'workorders_orderparticipant', 'workorders_notification') GROUP BY 1"
        )
        indexes = cur.fetchall()

    def stats():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute("SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()")
            return cur.fetchone()

    bodies = []
    for i in range(args.n):
        s = rng.choice(streets)
        bodies.append(
            {
                "phone": f"137{rng.randint(0, 99_999_999):08d}",
                "caller_name": "growth",
                "channel": "phone",
                "request_type": "complaint",
                "category": rng.choice(leaves),
                "address": f"{s.district.name if s.district else ''}{s.division.name}幸福里{rng.randint(1, 30)}号楼",
                "street": s.division.code,
                "description": f"楼道电梯停运（增长测试 {i}）",
                "action": "order",
            }
        )
    call_intake(acting_user=agent, data=bodies[0])  # warm caches
    h0, r0 = stats()
    me0, be0 = time.process_time(), cpu_of(backend)
    load0 = os.getloadavg()
    t = time.perf_counter()
    failed = 0
    for body in bodies[1:]:
        try:
            call_intake(acting_user=agent, data=body)
        except Exception as exc:  # noqa: BLE001 - count and show one
            failed += 1
            if failed == 1:
                print("failed:", exc)
    wall = time.perf_counter() - t
    n = len(bodies) - 1
    h1, r1 = stats()
    me, be = time.process_time() - me0, cpu_of(backend) - be0
    print(f"orders {WorkOrder.objects.count():,}; shared_buffers {sb}; load {load0} → {os.getloadavg()}")
    for name, count, size in indexes:
        print(f"  {name}: {count} indexes, {float(size) / 1e6:,.0f} MB")
    print(
        f"per intake ({n} done, {failed} failed): wall {1000 * wall / n:.2f} ms; CPU python {1000 * me / n:.2f} ms"
        f" + backend {1000 * be / n:.2f} ms; buffer hits {(h1 - h0) / n:.0f}, reads (not in shared_buffers)"
        f" {(r1 - r0) / n:.1f}"
    )


if __name__ == "__main__":
    main()
