"""Request-rate limits for the API and Open311 (DRF's throttles, keyed by who is asking).

- API, signed in (session or token): API_THROTTLE_USER per user (default 6000/min, i.e. 100 requests
  a second: an integration feeding the intake stays well under it, a runaway loop does not);
- API, anonymous: API_THROTTLE_ANON per client address (default 120/min);
- Open311: OPEN311_THROTTLE per API key, or per client address for reads without a key (default
  600/min).
Over the limit: 429 with Retry-After (seconds). Counters live in Django's cache (CACHE_URL: Redis
shares them between web processes; without it each process counts on its own). The client address
is the one the login throttle uses (hotline.accounts.login.client_ip: TRUSTED_PROXIES).

The counters never decide whether the API works: while the shared cache is unreachable each process
counts on its own (a per-process memory cache, logged once per outage) and tries the shared one
again after CACHE_RETRY_SECONDS — intake, handling and callbacks never answer 5xx because of Redis.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import cache as shared_cache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from hotline.accounts.login import client_ip

logger = logging.getLogger(__name__)

# How long a process counts on its own after the shared cache failed before it tries it again: a
# Redis that hangs instead of refusing costs one timeout per process per interval, not per request.
CACHE_RETRY_SECONDS = 5.0


class FallbackCache:
    """The shared cache (CACHE_URL), or this process's memory while the shared one fails."""

    def __init__(self, shared=shared_cache):
        self.shared = shared
        self.local = LocMemCache("throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})
        self.down_until = 0.0
        self.lock = threading.Lock()

    def _call(self, method: str, *args):
        if time.monotonic() >= self.down_until:
            try:
                return getattr(self.shared, method)(*args)
            except Exception as exc:  # noqa: BLE001 - any backend's connection error; the limit is not worth a 5xx
                with self.lock:
                    if time.monotonic() >= self.down_until:
                        logger.warning(
                            "rate-limit cache unreachable (%s: %s): counting per process for %ss",
                            exc.__class__.__name__,
                            exc,
                            CACHE_RETRY_SECONDS,
                        )
                    self.down_until = time.monotonic() + CACHE_RETRY_SECONDS
        return getattr(self.local, method)(*args)

    def get(self, key, default=None):
        return self._call("get", key, default)

    def set(self, key, value, timeout=None):
        return self._call("set", key, value, timeout)


fallback_cache = FallbackCache()


class _RealAddress:
    cache = fallback_cache

    def get_ident(self, request):
        return client_ip(request) or "unknown"


class UserThrottle(_RealAddress, UserRateThrottle):
    scope = "user"


class AnonThrottle(_RealAddress, AnonRateThrottle):
    scope = "anon"


class Open311Throttle(_RealAddress, SimpleRateThrottle):
    scope = "open311"

    def __init__(self, client=None):
        self.client = client
        super().__init__()

    def get_cache_key(self, request, view):
        ident = f"key-{self.client.pk}" if self.client is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def open311_wait(request, client) -> int | None:
    """None when the request may go on; else the seconds to wait (for Retry-After)."""
    throttle = Open311Throttle(client)
    if throttle.allow_request(request, None):
        return None
    return max(1, int(throttle.wait() or 1))
