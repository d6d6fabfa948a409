"""Fixed-window rate limits per key, and a short memory of answers: Redis when configured
(shared by every web process), a process-local table otherwise (the demo).

When Redis fails, this process uses its own table for REDIS_RETRY_AFTER_S before trying Redis
again: the limits still hold per process, and no request waits on a dead Redis or fails
because of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

REDIS_RETRY_AFTER_S = 30


class _RedisBreaker:
    """Whether to ask Redis now; after a failure, not for REDIS_RETRY_AFTER_S."""

    def __init__(self, redis: Any | None) -> None:
        self.redis = redis
        self._closed_until = 0.0

    def usable(self) -> bool:
        """Redis is configured and has not failed lately."""
        return self.redis is not None and time.monotonic() >= self._closed_until

    def failed(self, exc: Exception) -> None:
        """Note a failure: the local table serves until the retry time."""
        log.warning("rate limits use this process's table", extra={
            "code": "redis_unavailable", "error": type(exc).__name__})
        self._closed_until = time.monotonic() + REDIS_RETRY_AFTER_S


class RateLimiter:
    """Allows at most `limit` hits per `window` seconds for each key."""

    def __init__(self, redis: Any | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.clock = clock
        self._breaker = _RedisBreaker(redis)
        self._local: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, window: int) -> bool:
        """Count one hit for key; False once the window's limit is used up."""
        bucket = int(self.clock() // window)
        if self._breaker.usable():
            redis_key = f"ratelimit:{key}:{bucket}"
            try:
                with self.redis.pipeline() as pipe:
                    pipe.incr(redis_key)
                    pipe.expire(redis_key, window + 1)
                    count = pipe.execute()[0]
                return int(count) <= limit
            except RedisError as exc:
                self._breaker.failed(exc)
        with self._lock:
            seen_bucket, count = self._local.get(key, (bucket, 0))
            count = count + 1 if seen_bucket == bucket else 1
            self._local[key] = (bucket, count)
            if len(self._local) > 100_000:
                self._local = {k: v for k, v in self._local.items() if v[0] == bucket}
            return count <= limit


class ShortMemory:
    """Remembers a short text per key for a few seconds: Redis when configured (every web
    process sees it), a process-local table otherwise. For answers worth not recomputing
    while someone asks the same question again and again (a look-up that found nothing)."""

    def __init__(self, redis: Any | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.clock = clock
        self._breaker = _RedisBreaker(redis)
        self._local: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, value: str, ttl: int) -> None:
        """Keep value under key for ttl seconds."""
        if self._breaker.usable():
            try:
                self.redis.set(f"memory:{key}", value, ex=ttl)
                return
            except RedisError as exc:
                self._breaker.failed(exc)
        with self._lock:
            now = self.clock()
            if len(self._local) > 100_000:
                self._local = {k: v for k, v in self._local.items() if v[0] > now}
            self._local[key] = (now + ttl, value)

    def recall(self, key: str) -> str | None:
        """The value kept under key, while it has not expired."""
        if self._breaker.usable():
            try:
                value = self.redis.get(f"memory:{key}")
                return value.decode() if isinstance(value, bytes) else value
            except RedisError as exc:
                self._breaker.failed(exc)
        with self._lock:
            kept = self._local.get(key)
            if kept is None or kept[0] <= self.clock():
                return None
            return kept[1]
