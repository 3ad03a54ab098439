"""Outbound delivery under faults, with the production layout: `celery beat` (its real schedule),
a worker for the default queue (prefork, 2) and the notifier (threads, 8), a real SMTP server and
three webhooks for everyone — one healthy, one answering 500, one that never answers.

    DATABASE_URL=postgres://…/db CELERY_BROKER_URL=redis://…/n \
        .venv/bin/python bench/bench_delivery.py [--n 2000] [--seconds 150]

It writes --n notifications (one user each, all with e-mail) into the database named by
DATABASE_URL (use a scratch database: it deletes the notifications, deliveries, endpoints and
bench users it made), runs the stack for --seconds, and prints: when the healthy webhook and the
mail server had every notification, duplicates on each, requests the failing and hanging
endpoints saw, the gaps between deadline sweeps, and the machine load.
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

from hotline.models import User  # noqa: E402
from tests.webhooks import Receiver, SmtpSink  # noqa: E402
from workorders.models import Notification, WebhookEndpoint  # noqa: E402
from workorders.notifications.models import Delivery  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=150)
    args = parser.parse_args()
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    healthy, failing, hanging, smtp = Receiver(), Receiver(status=500), Receiver(hang=3600), SmtpSink()
    tag = uuid.uuid4().hex[:6]
    users = User.objects.bulk_create(
        [User(username=f"bench-{tag}-{i}", email=f"b{i}@example.org", role="street") for i in range(args.n)]
    )
    endpoints = [
        WebhookEndpoint.objects.create(name=f"bench-{name}", url=r.url, secret="k")
        for name, r in (("ok", healthy), ("500", failing), ("hang", hanging))
    ]
    Notification.objects.filter(queued_at__isnull=True).update(queued_at=datetime(1970, 1, 1).astimezone())
    env = dict(os.environ, CELERY_QUEUE=queue, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port))
    celery = str(Path(sys.executable).parent / "celery")
    base = [celery, "-A", "hotline"]
    procs = {
        "beat": [*base, "beat", "--loglevel", "INFO", "--schedule", str(tmp / "schedule")],
        "worker": [*base, "worker", "-l", "INFO", "-c", "2", "-Q", queue, "-n", f"w-{queue}@%h"],
        "notifier": [
            *base,
            "worker",
            "-l",
            "INFO",
            "-P",
            "threads",
            "-c",
            "8",
            "-Q",
            f"{queue}.notify",
            "-n",
            f"n-{queue}@%h",
        ],
    }
    running = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=(tmp / f"{name}.log").open("w"), stderr=subprocess.STDOUT)
        for name, cmd in procs.items()
    }
    try:
        time.sleep(8)  # workers up
        notes = Notification.objects.bulk_create(
            [Notification(user=u, kind="whistle", title=f"bench {i}") for i, u in enumerate(users)]
        )
        ids = {n.pk for n in notes}
        started = time.monotonic()
        done = {}
        while time.monotonic() - started < args.seconds:
            if "webhook" not in done and ids <= set(healthy.notification_ids()):
                done["webhook"] = time.monotonic() - started
            if "email" not in done and len(set(smtp.subjects)) >= args.n:
                done["email"] = time.monotonic() - started
            time.sleep(0.5)
        load = os.getloadavg()
    finally:
        for p in running.values():
            p.terminate()
        for p in running.values():
            p.wait(timeout=30)
    hook_counts = Counter(healthy.notification_ids())
    mail_counts = Counter(smtp.subjects)
    sweeps = [
        datetime.strptime(m, "%Y-%m-%d %H:%M:%S,%f")
        for m in re.findall(
            r"\[(\S+ \S+): INFO/\S+\] Task workorders.tasks.deadline_sweep\[\S+\] succeeded",
            (tmp / "worker.log").read_text(),
        )
    ]
    gaps = [round((b - a).total_seconds(), 1) for a, b in itertools.pairwise(sweeps)]
    states = Counter(Delivery.objects.filter(endpoint__in=endpoints).values_list("endpoint__name", "status"))
    print(f"notifications: {args.n}; ran {args.seconds} s; loadavg {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        f"healthy webhook: all received after {done.get('webhook', 'never')} s;"
        f" duplicates {sum(c - 1 for c in hook_counts.values())}"
    )
    mail_dupes = sum(c - 1 for c in mail_counts.values())
    print(f"e-mail: all received after {done.get('email', 'never')} s; duplicates {mail_dupes}")
    print(f"500 endpoint: {len(failing.requests)} requests; hanging endpoint: {len(hanging.requests)} requests")
    print(f"deadline sweeps: {len(sweeps)}; gaps between them (s): {gaps}")
    print(f"delivery rows by endpoint and state: {dict(states)}")
    # clean up what the bench made
    Notification.objects.filter(pk__in=ids).delete()
    WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints]).delete()
    User.objects.filter(username__startswith=f"bench-{tag}-").delete()
    for r in (healthy, failing, hanging):
        r.close()
    smtp.close()


if __name__ == "__main__":
    main()
