"""The live channel: GET /live/stream, a server-sent event stream (served by the ASGI live
process; `make run` starts it beside the web server, docker-compose as the `live` service).

Events carry no data, only which of the connection's own topic kinds changed ("unit",
"district", "city", "user"); the page then re-reads its own endpoints, which are scoped as ever.
The topics come from `access.live_topics` at connection time. The session is checked again when
the user's own topic changes (log-out, role/unit/active changed: hotline.live.signals) and every
few minutes; when it no longer yields the same topics the stream says `closed` and ends.
"""

from __future__ import annotations

import asyncio
import json
import random
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends.base import SessionBase
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.request import split_domain_port
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from hotline import access
from hotline.live.hub import Connection, hub, in_db_thread
from hotline.live.signals import CITY

HEARTBEAT_SECONDS = 25
RECHECK_SECONDS = 300
KINDS = {"u": "unit", "s": "unit", "d": "district", "c": "city", "p": "user"}  # a section's pages are its unit's


def _kind(topic: str) -> str:
    return KINDS.get(topic.split(":", 1)[0], "other")


def _session_user(session_key: str | None):
    """The user a session belongs to now (AnonymousUser once logged out, expired or its password
    changed), read the way the auth middleware reads it."""
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    probe = HttpRequest()
    probe.session = store
    return get_user(probe)


def still_allowed(session_key: str | None, user_pk: int, topics: frozenset) -> bool:
    user = _session_user(session_key)
    return getattr(user, "pk", None) == user_pk and frozenset(access.live_topics(user)) == topics


def _subscriber(session_key: str | None):
    user = _session_user(session_key)
    return getattr(user, "pk", None), frozenset(access.live_topics(user))


def site_origin_allowed(request, origin: str) -> bool:
    """Is `origin` the site's own pages? The live process may run on its own port (`make run`:
    LIVE_PORT): then the pages are on the same host at the web server's port (SITE_PORT), or one of
    CSRF_TRUSTED_ORIGINS. Any other port on the host is another program, never let in with the
    session cookie. Without LIVE_PORT the stream is on the site's own origin and needs no CORS."""
    if not settings.LIVE_PORT or not origin:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    try:
        parts = urlsplit(origin)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return False
    host = split_domain_port(request.get_host())[0].strip("[]")
    return parts.scheme in ("http", "https") and parts.hostname == host and port == settings.SITE_PORT


def _cors(request, response):
    origin = request.headers.get("Origin", "")
    if site_origin_allowed(request, origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
    response["Vary"] = "Origin"
    return response


@require_GET
async def stream(request):
    if not isinstance(request, ASGIRequest):
        # A sync worker would be held for the life of the connection: pages keep polling instead.
        return _cors(request, JsonResponse({"detail": _("实时更新由实时服务提供。")}, status=404))
    # The session is read on the live process's own database threads (hub.in_db_thread), as the
    # auth middleware would read it, so an open stream holds no database connection.
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    user_pk, topics = await in_db_thread(_subscriber, session_key)
    if not topics:
        return _cors(request, JsonResponse({"detail": _("请先登录。")}, status=403))
    response = StreamingHttpResponse(
        _events(Connection(topics), session_key, user_pk), content_type="text/event-stream; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must not buffer the stream
    return _cors(request, response)


async def _events(conn: Connection, session_key, user_pk):
    loop = asyncio.get_running_loop()
    hub.register(conn)
    next_check = loop.time() + RECHECK_SECONDS * random.uniform(0.5, 1.0)
    try:
        yield "retry: 5000\nevent: ready\ndata: {}\n\n"
        while True:
            try:
                await asyncio.wait_for(
                    conn.wake.wait(), timeout=min(HEARTBEAT_SECONDS, max(0.05, next_check - loop.time()))
                )
            except TimeoutError:
                pass
            topics = conn.take()
            if any(t.startswith("p:") for t in topics) or loop.time() >= next_check:
                if not await in_db_thread(still_allowed, session_key, user_pk, conn.topics):
                    yield "event: closed\ndata: {}\n\n"
                    return
                # The log-out signal fires just before the session is flushed: look once more soon.
                soon = loop.time() + 2 if any(t.startswith("p:") for t in topics) else None
                next_check = soon or loop.time() + RECHECK_SECONDS
            if topics:
                data = {"topics": sorted({_kind(t) for t in topics})}
                if CITY in topics and hub.city_payload is not None:
                    data["today"] = hub.city_payload  # the hall's counter, computed once for all
                yield f"event: change\ndata: {json.dumps(data)}\n\n"
            else:
                yield ": ping\n\n"
    finally:
        hub.unregister(conn)
