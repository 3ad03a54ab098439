"""One poller per live process: reads the change markers once a second and wakes the
connections subscribed to a changed topic. Its cost does not grow with idle connections."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.db import connections

from hotline.live.signals import CITY, backend

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
WINDOW_SECONDS = 10.0  # markers are read back this far, so a slow commit or a missed tick is not lost
# The city topic changes with every call in the city (> 1/s at peak) and is heard by every agent:
# it is passed on at most this often, with today's figures computed once for all its listeners,
# so 750 agents' counters cost one query, not 750 requests.
CITY_MIN_INTERVAL = 3.0


# Every database read of the live process (the poll, opening and re-checking a stream) runs on
# these two threads: two database connections however many browsers are connected (the default
# per-request threads of Django's ASGI handler would hold one per open stream).
DB_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-db")


def _guarded(fn, *args):
    try:
        return fn(*args)
    except Exception:
        for conn in connections.all(initialized_only=True):
            conn.close()  # a broken connection is reopened by the next call
        raise


async def in_db_thread(fn, *args):
    return await sync_to_async(_guarded, thread_sensitive=False, executor=DB_THREADS)(fn, *args)


class Connection:
    __slots__ = ("pending", "topics", "wake")

    def __init__(self, topics):
        self.topics = frozenset(topics)
        self.pending: set[str] = set()
        self.wake = asyncio.Event()

    def push(self, topic: str) -> None:
        self.pending.add(topic)
        self.wake.set()

    def take(self) -> set[str]:
        self.wake.clear()
        topics, self.pending = self.pending, set()
        return topics


class Hub:
    def __init__(self):
        self.subscribers: dict[str, set[Connection]] = defaultdict(set)
        self.seen: dict[str, float] = {}
        self.task: asyncio.Task | None = None
        self.loop = None
        self.ticks = 0
        self.city_due = False
        self.city_sent = float("-inf")
        self.city_payload: dict | None = None

    def register(self, conn: Connection) -> None:
        for topic in conn.topics:
            self.subscribers[topic].add(conn)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            self.loop = loop
            self.task = loop.create_task(self.run())

    def unregister(self, conn: Connection) -> None:
        for topic in conn.topics:
            subs = self.subscribers.get(topic)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self.subscribers[topic]

    def connections(self) -> int:
        return len({c for subs in self.subscribers.values() for c in subs})

    def dispatch(self, changes: dict[str, float], now: float | None = None) -> set[str]:
        """Wake the subscribers of every topic whose marker (time of its last change) moved."""
        changed = set()
        for topic, marker in changes.items():
            if marker > self.seen.get(topic, float("-inf")):
                self.seen[topic] = marker
                changed.add(topic)
        now = time.monotonic() if now is None else now
        if CITY in changed or self.city_due:
            changed.discard(CITY)
            self.city_due = True
            if now - self.city_sent >= CITY_MIN_INTERVAL:
                self.city_due, self.city_sent = False, now
                changed.add(CITY)
        for topic in changed:
            for conn in self.subscribers.get(topic, ()):
                conn.push(topic)
        return changed

    async def poll_once(self) -> set[str]:
        since = time.time() - WINDOW_SECONDS
        changes = await in_db_thread(_read_changes, since)
        if self.city_due or (CITY in changes and changes[CITY] > self.seen.get(CITY, float("-inf"))):
            if time.monotonic() - self.city_sent >= CITY_MIN_INTERVAL and self.subscribers.get(CITY):
                self.city_payload = await in_db_thread(city_figures)
        return self.dispatch(changes)

    async def run(self) -> None:
        # The first poll may wake a few pages for changes of the last seconds: a harmless refresh.
        while True:
            try:
                await self.poll_once()
                self.ticks += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live poll failed", exc_info=True)
            await asyncio.sleep(POLL_SECONDS)


def _read_changes(since: float) -> dict[str, float]:
    return backend().changes(since)


def city_figures() -> dict:
    """Today's intake as every listener of the city topic sees it: agents and the city center,
    whose scope is every call (access.live_topics gives the topic to no one else)."""
    from hotline.intake.selectors import intake_today
    from hotline.models import Role, User

    return intake_today(user=User(role=Role.AGENT, is_active=True))


hub = Hub()
