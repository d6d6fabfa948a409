"""Rate limits per key, in process and on the real Redis."""

import time

from redis import Redis

from app.ratelimit import RateLimiter, ShortMemory


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _exercise(limiter: RateLimiter, clock: Clock) -> None:
    assert [limiter.allow("shop:1:cust:9", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("shop:1:cust:10", 3, 60) is True
    clock.now += 60
    assert limiter.allow("shop:1:cust:9", 3, 60) is True


def test_the_in_process_limiter_counts_per_key_and_resets_each_window():
    clock = Clock()
    _exercise(RateLimiter(clock=clock), clock)


def test_the_redis_limiter_counts_per_key_and_resets_each_window(redis_url):
    clock = Clock()
    conn = Redis.from_url(redis_url)
    try:
        _exercise(RateLimiter(conn, clock=clock), clock)
    finally:
        conn.close()


def _remembers_until_it_expires(memory: ShortMemory, clock: Clock) -> None:
    assert memory.recall("lookup:shop:1") is None
    memory.remember("lookup:shop:1", "missing", 60)
    assert memory.recall("lookup:shop:1") == "missing"
    assert memory.recall("lookup:shop:2") is None
    clock.now += 61
    if memory.redis is None:
        assert memory.recall("lookup:shop:1") is None


def test_the_in_process_memory_forgets_after_its_ttl():
    clock = Clock()
    _remembers_until_it_expires(ShortMemory(clock=clock), clock)


def test_the_redis_memory_keeps_a_value_with_an_expiry(redis_url):
    conn = Redis.from_url(redis_url)
    try:
        memory = ShortMemory(conn)
        _remembers_until_it_expires(memory, Clock())
        assert 0 < conn.ttl("memory:lookup:shop:1") <= 60
    finally:
        conn.close()


def test_with_redis_unreachable_the_limits_hold_in_this_process_without_waiting_again():
    # A closed port: every Redis call fails at once, as in an outage.
    dead = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5, socket_timeout=0.5)
    clock = Clock()
    limiter, memory = RateLimiter(dead, clock=clock), ShortMemory(dead, clock=clock)
    try:
        assert [limiter.allow("shop:1:cust:9", 3, 60) for _ in range(4)] == [
            True, True, True, False]
        memory.remember("lookup:shop:1", "missing", 60)
        started = time.monotonic()
        assert memory.recall("lookup:shop:1") == "missing"
        assert limiter.allow("shop:1:cust:10", 3, 60) is True
        # Redis is not asked again for a while: no request waits on it.
        assert time.monotonic() - started < 0.1
    finally:
        dead.close()
