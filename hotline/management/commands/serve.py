"""Run the web server, the live-update server, the Celery worker and Celery beat together, and stop
them together. The live server (uvicorn, ASGI: hotline/live) listens on the next port; pages find
it through LIVE_PORT.

`make run` ends with this. Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others
are stopped too and the command exits non-zero, so a broken worker never goes unnoticed.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from hotline.config.celery import notify_queue
from hotline.config.env import env_int
from hotline.management.commands.setup_demo import demo_logins


class Command(BaseCommand):
    help = "Run web (gunicorn), Celery worker and Celery beat in one foreground command."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="default: $PORT or 8000")
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port, host, **options):

        port = port or env_int("PORT", 8000, minimum=1)
        bindir = os.path.dirname(sys.executable)
        celery = os.path.join(bindir, "celery")
        uvicorn = os.path.join(bindir, "uvicorn")
        live_port = int(os.environ.get("LIVE_PORT") or port + 1)
        os.environ["LIVE_PORT"] = str(live_port)  # read by the web server's settings (pages link to it)
        os.environ["PORT"] = str(port)  # the live process lets in only the pages served on this port
        gunicorn = os.path.join(bindir, "gunicorn")
        schedule = settings.CELERY_BEAT_SCHEDULE_FILENAME
        commands = {
            "web": [
                gunicorn,
                "hotline.config.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--preload",  # a bad environment stops the master with one line, not a respawn loop
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            # Server-sent events for every open page: one asyncio process holds the idle connections.
            "live": [
                uvicorn,
                "hotline.config.asgi:application",
                "--host",
                host,
                "--port",
                str(live_port),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "3",
            ],
            "worker": [
                celery,
                "-A",
                "hotline",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                "worker@%h",
                "--queues",
                settings.CELERY_TASK_DEFAULT_QUEUE,
            ],
            # Outbound e-mail/webhooks on their own queue and worker: threads, since they wait on the network.
            "notifier": [
                celery,
                "-A",
                "hotline",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "threads",
                "--concurrency",
                "8",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                "notifier@%h",
                "--queues",
                notify_queue(),
            ],
            "beat": [celery, "-A", "hotline", "beat", "--loglevel", "INFO", "--schedule", schedule],
        }
        procs: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, cmd in commands.items():
            # Each child in its own process group, so our Ctrl-C handling decides the order.
            procs[name] = subprocess.Popen(cmd, start_new_session=True)

        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\n12345 接诉即办 is running at {url}"))
        self.stdout.write("Demo logins:\n" + demo_logins())
        self.stdout.write(
            "Web, live updates, Celery workers (tasks, notifications) and beat are running;"
            " press Ctrl-C to stop them all.\n"
        )

        exit_code = 0
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with code {proc.returncode}; stopping the others.")
                    exit_code = 1
                    stopping = True
                    break
            time.sleep(0.5)

        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stdout.write("stopped.")
        sys.exit(exit_code)
