"""Learn the storefront path of the app proxy from the signed `path_prefix` of each request.

A merchant may move the proxy (say `/apps/loyalty` → `/a/rewards`); the first request through
the new path tells the app, which then writes it where the theme extension reads it
(app/shopify/proxy_path.py). The comparison uses the shop row the request loads anyway, so a
steady storefront costs nothing; a new path costs one job.
"""

from __future__ import annotations

import logging
import time

from flask import current_app

from app.models import Shop
from app.pipeline import enqueue
from app.shopify.proxy_path import DEFAULT_PROXY_PATH, storefront_proxy_path
from app.web.context import runtime

log = logging.getLogger(__name__)

# While the job that writes a new path runs (the shop row, perhaps this process's cached copy,
# still holds the old one), ask again at most this often.
RECHECK_SECONDS = 30.0


def learn_proxy_path(shop: Shop, path_prefixes: list[str]) -> None:
    """When this (verified) request came through another path than the installed shop's
    recorded one, enqueue the job that writes it to Shopify. Never fails the request.

    `path_prefixes`: every `path_prefix` of the signed query. Shopify appends exactly one; a
    second came from the visitor's own query string (signed along with it), so a request with
    two teaches nothing: a shopper must never be able to move every visitor's widget.
    """
    if len(path_prefixes) != 1:
        return
    path = storefront_proxy_path(path_prefixes[0])
    # Nothing written yet means the blocks use shopify.app.toml's path.
    if path is None or (shop.proxy_path or DEFAULT_PROXY_PATH) == path:
        return
    asked: dict[tuple[int, str], float] = current_app.extensions.setdefault(
        "proxy_paths_asked", {})
    moment = time.monotonic()
    if moment - asked.get((shop.id, path), -RECHECK_SECONDS) < RECHECK_SECONDS:
        return
    asked[(shop.id, path)] = moment
    log.info("storefront proxy path changed", extra={"shop": shop.domain})
    enqueue.enqueue(runtime().queue, enqueue.sync_proxy_path(shop.id, path))
