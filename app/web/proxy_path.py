"""Learn the storefront path of the app proxy from the signed `path_prefix` of each request.

A merchant may move the proxy (say `/apps/loyalty` → `/a/rewards`); the first request through
the new path tells the app, which then writes it where the theme extension reads it
(app/shopify/proxy_path.py). Each web process remembers what a shop's path already is, so a
steady storefront costs no statement; a new path costs one read and one job.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError

from app.models import Shop
from app.shopify.proxy_path import (
    DEFAULT_PROXY_PATH,
    enqueue_proxy_path_sync,
    storefront_proxy_path,
)
from app.web.context import runtime

log = logging.getLogger(__name__)

# While the job that writes a new path runs, ask again at most this often.
RECHECK_SECONDS = 30.0

_RECORDED = select(Shop.id, Shop.proxy_path, Shop.installed_at, Shop.uninstalled_at).where(
    Shop.domain == bindparam("domain"))


def learn_proxy_path(shop_domain: str, path_prefixes: list[str]) -> None:
    """Make sure the shop's recorded proxy path is the one this (verified) request came
    through; if not, enqueue the job that writes it to Shopify. Never fails the request.

    `path_prefixes`: every `path_prefix` of the signed query. Shopify appends exactly one; a
    second came from the visitor's own query string (signed along with it), so a request with
    two teaches nothing: a shopper must never be able to move every visitor's widget.
    """
    if len(path_prefixes) != 1:
        return
    path = storefront_proxy_path(path_prefixes[0])
    if path is None:
        return
    known: dict[str, str] = current_app.extensions.setdefault("proxy_paths", {})
    asked: dict[tuple[str, str], float] = current_app.extensions.setdefault(
        "proxy_paths_asked", {})
    if known.get(shop_domain) == path:
        return
    moment = time.monotonic()
    if moment - asked.get((shop_domain, path), -RECHECK_SECONDS) < RECHECK_SECONDS:
        return
    rt = runtime()
    try:
        with rt.db.engine.connect() as conn:
            row = conn.execute(_RECORDED, {"domain": shop_domain}).first()
    except SQLAlchemyError:
        log.warning("could not read the shop's proxy path", extra={"shop": shop_domain})
        return
    if row is None or row.installed_at is None or row.uninstalled_at is not None:
        return
    # Nothing written yet means the blocks use shopify.app.toml's path.
    if (row.proxy_path or DEFAULT_PROXY_PATH) == path:
        known[shop_domain] = path
        return
    asked[(shop_domain, path)] = moment
    log.info("storefront proxy path changed", extra={"shop": shop_domain})
    enqueue_proxy_path_sync(rt.queue, row.id, path)
