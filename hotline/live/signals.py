"""The one function writers call: `publish(units=…, sections=…, districts=…, users=…, city=…)`.

A unit's topic is heard by the unit's center (and its own department/street accounts without a
section); a section's members hear only their section's topic and their own (access.live_topics),
as their lists show only their section's orders — so a writer that changes an order of a section
names the section (and the assignee) too: `publish(sections=[order.section_id], users=[order.assignee_id], …)`,
the section it left as well when it is reassigned.

Called inside the writer's transaction; the topics are collected per transaction and their change
markers are bumped once, after the commit (a rolled-back transaction tells nobody anything, and no
row lock on a hot topic is held while the transaction runs). Two stores, one interface:

- Redis (`LIVE_REDIS_URL`, else `CELERY_BROKER_URL` when it is redis://): a sorted set
  topic → time of the last change; a bump is one ZADD, a poll one ZRANGEBYSCORE.
- otherwise the `live_version` table (the embedded default of `make run`): an upsert per topic,
  a poll one indexed SELECT of the rows changed in the last seconds.

A bump that fails (Redis down) is logged and dropped: the data is committed, pages fall back to
their slow poll while the live connection is down, and the next change brings them up to date.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

log = logging.getLogger(__name__)

CITY = "c"
REDIS_KEY = "hotline:live"
KEEP_SECONDS = 3600  # markers older than this are pruned (the poller reads only the last seconds)


def unit_topic(pk) -> str:
    return f"u:{pk}"


def district_topic(division_id) -> str:
    return f"d:{division_id}"


def user_topic(pk) -> str:
    return f"p:{pk}"


def section_topic(pk) -> str:
    return f"s:{pk}"


def topics_for(
    *,
    units: Iterable = (),
    sections: Iterable = (),
    districts: Iterable = (),
    users: Iterable = (),
    city: bool = False,
) -> set:
    keys = {unit_topic(getattr(u, "pk", u)) for u in units if u is not None}
    keys |= {section_topic(getattr(s, "pk", s)) for s in sections if s is not None}
    keys |= {district_topic(getattr(d, "pk", d)) for d in districts if d is not None}
    keys |= {user_topic(getattr(u, "pk", u)) for u in users if u is not None}
    if city:
        keys.add(CITY)
    return keys


def publish(
    *,
    units: Iterable = (),
    sections: Iterable = (),
    districts: Iterable = (),
    users: Iterable = (),
    city: bool = False,
) -> None:
    """Tell the open pages of these units, sections (their members), districts (their managers), users
    and the city-wide pages (agents, the city center) that something changed, once the current
    transaction commits."""
    keys = topics_for(units=units, sections=sections, districts=districts, users=users, city=city)
    if not keys:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    if not conn.in_atomic_block:
        _bump(keys)
        return
    flush = getattr(conn, "_live_flush", None)
    # A flush registered earlier in this transaction is reused; one dropped by a rolled-back
    # savepoint (or left from a rolled-back transaction) is not in run_on_commit any more.
    if flush is None or not any(entry[1] is flush for entry in conn.run_on_commit):
        pending: set = set()

        def flush(pending=pending):
            if getattr(conn, "_live_flush", None) is flush:
                conn._live_flush = None
            _bump(pending)

        flush.pending = pending
        conn._live_flush = flush
        transaction.on_commit(flush)
    flush.pending.update(keys)


def _bump(keys: set) -> None:
    if not keys:
        return
    try:
        backend().bump(sorted(keys))
    except Exception:
        log.warning("live update bump failed for %s", sorted(keys)[:10], exc_info=True)


# --- stores -----------------------------------------------------------------------------------
class DatabaseStore:
    name = "database"

    def bump(self, keys: list[str]) -> None:
        from hotline.live.models import LiveVersion

        conn = connections[DEFAULT_DB_ALIAS]
        table = conn.ops.quote_name(LiveVersion._meta.db_table)
        now = conn.ops.adapt_datetimefield_value(datetime.now(UTC))
        rows = ", ".join(["(%s, 1, %s)"] * len(keys))
        params = []
        for key in keys:
            params += [key, now]
        with conn.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO {table} ("key", version, changed_at) VALUES {rows} '
                f'ON CONFLICT ("key") DO UPDATE SET version = {table}.version + 1, changed_at = EXCLUDED.changed_at',
                params,
            )

    def changes(self, since: float) -> dict[str, float]:
        from hotline.live.models import LiveVersion

        rows = LiveVersion.objects.filter(changed_at__gte=datetime.fromtimestamp(since, UTC))
        return {key: at.timestamp() for key, at in rows.values_list("key", "changed_at")}


class RedisStore:
    name = "redis"

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def bump(self, keys: list[str]) -> None:
        now = time.time()
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(REDIS_KEY, dict.fromkeys(keys, now))
        if random.random() < 0.01:
            pipe.zremrangebyscore(REDIS_KEY, "-inf", now - KEEP_SECONDS)
        pipe.execute()

    def changes(self, since: float) -> dict[str, float]:
        rows = self.client.zrangebyscore(REDIS_KEY, since, "+inf", withscores=True)
        return {key.decode(): score for key, score in rows}


def redis_url() -> str:
    url = settings.LIVE_REDIS_URL
    if not url:
        broker = getattr(settings, "CELERY_BROKER_URL", "") or ""
        url = broker if broker.startswith(("redis://", "rediss://")) else ""
    return url


@lru_cache(maxsize=1)
def backend():
    url = redis_url()
    return RedisStore(url) if url else DatabaseStore()


# --- who must be told when an account changes -------------------------------------------------
def _user_changed(sender, instance=None, user=None, **kwargs):
    who = instance if instance is not None else user
    if who is not None and getattr(who, "pk", None):
        # Its open connections re-check their session and permissions now and close if either is gone.
        publish(users=[who.pk])


def connect_receivers() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_out
    from django.db.models.signals import post_delete, post_save

    user_model = get_user_model()
    user_logged_out.connect(_user_changed, dispatch_uid="live-logged-out")
    post_save.connect(_user_changed, sender=user_model, dispatch_uid="live-user-saved")
    post_delete.connect(_user_changed, sender=user_model, dispatch_uid="live-user-deleted")
