"""E-mail at the city's volume: a surge of notifications drained by the production layout — `celery
beat` (its real schedule) and the notifier (threads, 16, as in docker-compose.yml) — into a real
local SMTP server, with a default-queue worker running the deadline sweep beside it.

    DATABASE_URL=postgres://…/scratch CELERY_BROKER_URL=redis://…/n \
        .venv/bin/python bench/bench_email_surge.py [--n 100000] [--seconds 900]

It writes --n notifications at once (one user each, all with e-mail) into the database named by
DATABASE_URL (a scratch database: it deletes what it made), and prints: e-mails per second (overall
and over the steady middle), the drain time of the surge, the oldest waiting e-mail's age at its
worst, what /healthz reported while the backlog was old, the gaps between deadline sweeps, the
SMTP connections used, duplicates, and the machine load (loadavg, CPU seconds of each process).
"""

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django  # noqa: E402

django.setup()

from django.test import RequestFactory  # noqa: E402

from hotline.models import User  # noqa: E402
from hotline.web import health  # noqa: E402
from tests.webhooks import SmtpSink  # noqa: E402
from workorders.models import Notification  # noqa: E402
from workorders.notifications.models import Delivery  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children that have exited (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def healthz() -> dict:
    import json

    response = health.ready(RequestFactory().get("/healthz"))
    return json.loads(response.content)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=900)
    args = parser.parse_args()
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-email-"))
    smtp = SmtpSink()
    tag = uuid.uuid4().hex[:6]
    users = User.objects.bulk_create(
        [User(username=f"bench-{tag}-{i}", email=f"b{i}@example.org", role="street") for i in range(args.n)],
        batch_size=5000,
    )
    # Only this run's notifications go out: older unqueued ones are marked as looked at.
    Notification.objects.filter(queued_at__isnull=True).update(queued_at=datetime(1970, 1, 1).astimezone())
    env = dict(os.environ, CELERY_QUEUE=queue, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port))
    celery = str(Path(sys.executable).parent / "celery")
    base = [celery, "-A", "hotline"]
    procs = {
        "beat": [*base, "beat", "--loglevel", "INFO", "--schedule", str(tmp / "schedule")],
        "worker": [*base, "worker", "-l", "INFO", "-c", "2", "-Q", queue, "-n", f"w-{queue}@%h"],
        "notifier": [*base, "worker", "-l", "INFO", "-P", "threads", "-c", "16", "-Q", f"{queue}.notify", "-n", "x"],
    }
    procs["notifier"][-1] = f"n-{queue}@%h"
    running = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=(tmp / f"{name}.log").open("w"), stderr=subprocess.STDOUT)
        for name, cmd in procs.items()
    }
    ids: set[int] = set()
    try:
        time.sleep(8)  # workers up
        load_before = os.getloadavg()
        notes = Notification.objects.bulk_create(
            [Notification(user=u, kind="whistle", title=f"bench {tag} {i}") for i, u in enumerate(users)],
            batch_size=5000,
        )
        ids = {n.pk for n in notes}
        cpu0 = {name: cpu_seconds(p.pid) for name, p in running.items()}
        started = time.monotonic()
        marks, oldest, degraded, drained = [], 0.0, None, None
        while time.monotonic() - started < args.seconds:
            got = len(smtp.subjects)
            marks.append((time.monotonic() - started, got))
            if got >= args.n:
                drained = time.monotonic() - started
                break
            if int(time.monotonic() - started) % 10 == 0:
                h = healthz()
                d = h.get("deliveries") or {}
                oldest = max(oldest, d.get("oldest_due_seconds") or 0)
                if degraded is None and h["status"] == "degraded" and d.get("behind"):
                    degraded = (round(time.monotonic() - started), d)
            time.sleep(1)
        load = os.getloadavg()
        cpu = {name: round(cpu_seconds(p.pid) - cpu0[name], 1) for name, p in running.items()}
    finally:
        for p in running.values():
            p.terminate()
        for p in running.values():
            p.wait(timeout=60)
    total = marks[-1][0] if marks else 0
    sent = len(smtp.subjects)
    mid = [(t, c) for t, c in marks if 0.1 * args.n <= c <= 0.9 * args.n]
    steady = (mid[-1][1] - mid[0][1]) / (mid[-1][0] - mid[0][0]) if len(mid) > 1 and mid[-1][0] > mid[0][0] else None
    dupes = sum(c - 1 for c in Counter(smtp.subjects).values())
    sweeps = [
        datetime.strptime(m, "%Y-%m-%d %H:%M:%S,%f")
        for m in re.findall(
            r"\[(\S+ \S+): INFO/\S+\] Task workorders.tasks.deadline_sweep\[\S+\] succeeded",
            (tmp / "worker.log").read_text(),
        )
    ]
    gaps = [round((b - a).total_seconds(), 1) for a, b in itertools.pairwise(sweeps)]
    print(f"e-mails: {args.n}; sent {sent} in {total:.1f} s; drained: {f'{drained:.1f} s' if drained else 'no'}")
    print(f"rate: {sent / total if total else 0:.0f}/s overall, {steady or 0:.0f}/s steady (10 %–90 %)")
    print(f"duplicates: {dupes}; SMTP connections: {smtp.connections}")
    print(f"oldest waiting e-mail at worst (as /healthz reports it): {oldest:.0f} s; first degraded: {degraded}")
    print(f"deadline sweeps: {len(sweeps)}; gaps (s): {gaps}")
    print(f"loadavg before {load_before[0]:.2f}, at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)")
    print(f"CPU seconds while draining: {cpu}")
    states = Counter(Delivery.objects.filter(notification_id__in=ids).values_list("status", "attempts"))
    print(f"delivery rows by state and attempts: {dict(states)}")
    Notification.objects.filter(pk__in=ids).delete()
    User.objects.filter(username__startswith=f"bench-{tag}-").delete()
    smtp.close()


if __name__ == "__main__":
    main()
