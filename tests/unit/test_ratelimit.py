"""Rate limits per key, in process and on the real Redis."""

from redis import Redis

from app.ratelimit import RateLimiter


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
