"""One poller per live process: reads the change markers once a second and wakes the
connections subscribed to a changed topic. Its cost does not grow with idle connections."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from hotline.live.signals import backend

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
WINDOW_SECONDS = 10.0  # markers are read back this far, so a slow commit or a missed tick is not lost


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

    def dispatch(self, changes: dict[str, float]) -> set[str]:
        """Wake the subscribers of every topic whose marker (time of its last change) moved."""
        changed = set()
        for topic, marker in changes.items():
            if marker > self.seen.get(topic, float("-inf")):
                self.seen[topic] = marker
                changed.add(topic)
        for topic in changed:
            for conn in self.subscribers.get(topic, ()):
                conn.push(topic)
        return changed

    async def poll_once(self) -> set[str]:
        since = time.time() - WINDOW_SECONDS
        changes = await sync_to_async(_read_changes)(since)
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
                await sync_to_async(close_old_connections)()
            await asyncio.sleep(POLL_SECONDS)


def _read_changes(since: float) -> dict[str, float]:
    return backend().changes(since)


hub = Hub()
