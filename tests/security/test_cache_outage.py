"""The API with CACHE_URL on a Redis that dies: rate limits count per process until it is back, and
no request answers 5xx because of it. A Redis of the test's own (tests/redis_server.py)."""

import logging

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from hotline.accounts import throttles
from tests.redis_server import own_redis  # noqa: F401


@pytest.fixture
def redis_cache(own_redis, settings):  # noqa: F811
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": own_redis.url}}
    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**old, "user": "3/min"}
    yield own_redis
    SimpleRateThrottle.THROTTLE_RATES = old
    throttles.fallback_cache.local.clear()
    throttles.fallback_cache.down_until = 0.0


def test_it_keeps_answering_and_limiting_while_the_cache_is_down(db, agent, redis_cache, caplog):
    # given: a signed-in agent, one request counted in Redis
    client = Client(raise_request_exception=False)
    client.force_login(agent)
    assert client.get("/api/v1/me/").status_code == 200
    # when: Redis dies
    redis_cache.stop()
    with caplog.at_level(logging.WARNING, logger="hotline.accounts.throttles"):
        codes = [client.get("/api/v1/me/").status_code for _ in range(4)]
    # then: answers as usual, the limit still holds (counted in this process), the outage is logged once
    assert codes == [200, 200, 200, 429]
    assert [r.message for r in caplog.records if "cache unreachable" in r.message][:1]
    assert len([r for r in caplog.records if "cache unreachable" in r.message]) == 1


def test_it_counts_in_the_shared_cache_again_once_it_is_back(db, agent, redis_cache):
    # given: Redis died and came back (empty)
    client = Client(raise_request_exception=False)
    client.force_login(agent)
    redis_cache.stop()
    assert client.get("/api/v1/me/").status_code == 200
    redis_cache.start()
    throttles.fallback_cache.down_until = 0.0  # the retry interval has passed
    # when
    assert client.get("/api/v1/me/").status_code == 200
    # then: the counter is in Redis again
    assert len(cache.get(f"throttle_user_{agent.pk}")) == 1
