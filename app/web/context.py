"""What every blueprint reads from the running app: runtime, settings, the Shopify client, time.

Tests and the emulator inject `app.extensions["shopify_http"]` (an httpx.Client) and
`app.extensions["shopify_clock"]` (epoch seconds); nothing else is global.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from flask import current_app

from app.config import Settings
from app.pipeline.runtime import Runtime
from app.ratelimit import RateLimiter, ShortMemory
from app.shopify.domains import shop_http_client


def runtime() -> Runtime:
    """The app's runtime (settings, database, queue)."""
    return current_app.extensions["runtime"]


def settings() -> Settings:
    """The app's settings."""
    return runtime().settings


def shopify_http() -> httpx.Client:
    """The app's one client for Shopify (connection pooling), made on first use."""
    client = current_app.extensions.get("shopify_http")
    if client is None:
        made = shop_http_client(settings())
        # Two first requests may race here: keep the winner's client, close ours.
        client = current_app.extensions.setdefault("shopify_http", made)
        if client is not made:
            made.close()
    return client


def clock() -> float:
    """Epoch seconds, from the injected clock when there is one."""
    read: Callable[[], float] = current_app.extensions.get("shopify_clock", time.time)
    return read()


def utc(epoch: float) -> datetime:
    """Naive UTC, as the database stores it."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def now() -> datetime:
    """Naive UTC now, from the injected clock when there is one."""
    return utc(clock())


def rate_limiter() -> RateLimiter:
    """The app's rate limiter, on the queue's Redis when there is one (shared by processes)."""
    limiter = current_app.extensions.get("rate_limiter")
    if limiter is None:
        # Its windows follow the app's clock, so a test on a fixed clock sees whole windows.
        limiter = current_app.extensions.setdefault(
            "rate_limiter", RateLimiter(getattr(runtime().queue, "redis", None), clock=clock))
    return limiter


def short_memory() -> ShortMemory:
    """The app's short-lived memory of answers, on the same Redis as the rate limits."""
    memory = current_app.extensions.get("short_memory")
    if memory is None:
        memory = current_app.extensions.setdefault(
            "short_memory", ShortMemory(getattr(runtime().queue, "redis", None), clock=clock))
    return memory
