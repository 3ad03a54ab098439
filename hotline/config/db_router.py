"""Reads of reports, dashboards, rankings and exports from a PostgreSQL replica; writes never.

Set `DATABASE_REPLICA_URL` (a streaming replica of `DATABASE_URL`) and the settings add the
`replica` database, this router and `ReplicaReadsMiddleware`. What goes to the replica is decided
here and only here:

- the pages and API endpoints named in `REPLICA_READ_VIEWS` (GET/HEAD only), for the whole
  request including a streamed export's rows, or any code inside `with replica_reads():`;
- inside that, reads of every model except the accounts and sessions (a log-in, log-out or a
  permission change must count at once, not after the replica's lag);
- not inside a transaction on the primary, and not after the request has written anything
  (a page that computes and stores a figure reads it back from the primary).

Writes always go to the primary (`db_for_write`), and migrations only run there.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import Resolver404, resolve

REPLICA_ALIAS = "replica"

# url names whose GET requests read from the replica: figures that may lag a few seconds.
REPLICA_READ_VIEWS = frozenset(
    {
        "assessment-index",
        "assessment-district-streets",
        "assessment-city-streets",
        "assessment-districts",
        "assessment-departments",
        "assessment-export-ranking",
        "assessment-scorecard",
        "assessment-orders",
        "assessment-export-orders",
        "assessment-dashboard",
        "assessment-dashboard-data",
        "assessment-governance",
        "assessment-reports",
        "assessment-report-download",
        "assessment-topics",
        "api-assessment-rankings",
        "api-assessment-rates",
        "api-assessment-orders",
    }
)
# Never from the replica: who is logged in and what they may do.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "contenttypes", "authtoken", "admin", "live"})
PRIMARY_ONLY_MODELS = frozenset({("hotline", "user"), ("hotline", "apiclient")})

_state: contextvars.ContextVar[dict | None] = contextvars.ContextVar("replica_reads", default=None)


def replica_configured() -> bool:
    return REPLICA_ALIAS in connections.settings


@contextmanager
def replica_reads():
    """Reads inside go to the replica (when one is configured), as the router allows."""
    if not replica_configured():
        yield
        return
    token = _state.set({"wrote": False})
    try:
        yield
    finally:
        _state.reset(token)


def reading_from_replica() -> bool:
    state = _state.get()
    return state is not None and not state["wrote"] and not connections[DEFAULT_DB_ALIAS].in_atomic_block


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        meta = model._meta
        if meta.app_label in PRIMARY_ONLY_APPS or (meta.app_label, meta.model_name) in PRIMARY_ONLY_MODELS:
            return DEFAULT_DB_ALIAS
        return REPLICA_ALIAS if reading_from_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        state = _state.get()
        if state is not None:
            state["wrote"] = True  # read your own writes: the rest of this request reads the primary
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS


def _replica_iter(content):
    with replica_reads():
        yield from content


class ReplicaReadsMiddleware:
    """Runs the views in REPLICA_READ_VIEWS inside replica_reads() (GET/HEAD), including the
    iteration of a streamed response (exports)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not replica_configured():
            return self.get_response(request)
        try:
            name = resolve(request.path_info).url_name
        except Resolver404:
            name = None
        if name not in REPLICA_READ_VIEWS:
            return self.get_response(request)
        with replica_reads():
            response = self.get_response(request)
        if getattr(response, "streaming", False) and not getattr(response, "is_async", False):
            response.streaming_content = _replica_iter(response.streaming_content)
        return response
