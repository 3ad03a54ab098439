"""Request-rate limits for the API and Open311 (DRF's throttles, keyed by who is asking).

- API, signed in (session or token): API_THROTTLE_USER per user (default 6000/min, i.e. 100 requests
  a second: an integration feeding the intake stays well under it, a runaway loop does not);
- API, anonymous: API_THROTTLE_ANON per client address (default 120/min);
- Open311: OPEN311_THROTTLE per API key, or per client address for reads without a key (default
  600/min).
Over the limit: 429 with Retry-After (seconds). Counters live in Django's cache (CACHE_URL: Redis
shares them between web processes; without it each process counts on its own). The client address
is the one the login throttle uses (hotline.accounts.login.client_ip: TRUSTED_PROXIES).
"""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from hotline.accounts.login import client_ip


class _RealAddress:
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
