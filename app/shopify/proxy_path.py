"""Where the storefront reaches the app proxy, and how the theme extension learns it.

shopify.app.toml asks for `/apps/loyalty`, but a merchant may customise the app proxy URL of
their store: another prefix from Shopify's list and another subpath
(https://shopify.dev/docs/apps/online-store/app-proxies: the prefix is one of `apps`, `a`,
`community`, `tools`; the subpath holds letters, numbers, underscores and hyphens, up to 30
characters, and is not `admin`, `services`, `password` or `login`). Liquid has no object for
the proxy URL, so the theme extension cannot read it.

What Shopify gives the app instead: every proxied request carries `path_prefix`, the storefront
path it came through (e.g. `/a/rewards`), inside the signed query
(https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies). The
app keeps the latest one per shop and writes it to an app-data metafield (owner: the app
installation, `metafieldsSet` with `ownerId = currentAppInstallation.id`), which the blocks
read as `app.metafields['$app'].proxy_path` (https://shopify.dev/docs/apps/build/custom-data/
ownership#app-data-metafields; values the extension renders belong in app-owned metafields,
https://shopify.dev/docs/apps/build/security/storefront/store-settings-in-app-owned-metafields).
Until one is written the blocks use shopify.app.toml's `/apps/loyalty`.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update

from app.models import Shop
from app.pipeline.runtime import Runtime
from app.shopify.app_data import write_app_data
from app.shopify.graphql import MetafieldInput

# shopify.app.toml [app_proxy] prefix and subpath: what a store has until its merchant changes it.
DEFAULT_PROXY_PATH = "/apps/loyalty"
PROXY_PREFIXES = ("apps", "a", "community", "tools")
RESERVED_SUBPATHS = frozenset({"admin", "services", "password", "login"})
_SUBPATH = re.compile(r"[A-Za-z0-9_-]{1,30}")
# The app-data metafield the blocks read: app.metafields['$app'].proxy_path.
METAFIELD_NAMESPACE = "$app"
METAFIELD_KEY = "proxy_path"


def storefront_proxy_path(raw: object) -> str | None:
    """`/<prefix>/<subpath>` when `raw` is a proxy path Shopify can have, else None."""
    if not isinstance(raw, str):
        return None
    parts = raw.split("/")
    if len(parts) != 3 or parts[0] != "" or parts[1] not in PROXY_PREFIXES:
        return None
    subpath = parts[2]
    if not _SUBPATH.fullmatch(subpath) or subpath.lower() in RESERVED_SUBPATHS:
        return None
    return raw


def proxy_path_metafield(installation_id: str, path: str) -> MetafieldInput:
    """The app-data metafield that tells the theme extension the storefront proxy path."""
    return MetafieldInput(installation_id, METAFIELD_KEY, path, "single_line_text_field",
                          namespace=METAFIELD_NAMESPACE)


def push_proxy_path(runtime: Runtime, shop_id: int, path: str,
                    now: datetime | None = None) -> str:
    """Write `path` to the shop's app-data metafield, then record it as the shop's; a job.

    Safe to run twice. The shop's `proxy_path` is set only after Shopify holds the metafield,
    so a failed run leaves the next proxied request to ask again.
    """
    if storefront_proxy_path(path) is None:
        return "skipped: not a storefront proxy path"
    if write_app_data(runtime, shop_id, lambda _shop: path, proxy_path_metafield, now) is None:
        return "skipped: no such installed shop"
    with runtime.db.transaction() as session:
        session.execute(update(Shop).where(Shop.id == shop_id).values(proxy_path=path))
    return f"set proxy_path {path}"


def needs_restore_after_install(recorded: str | None) -> bool:
    """Whether a (re)install must write the path the merchant moved the proxy to (`recorded`,
    the shop's `proxy_path`) again.

    App-data metafields belong to one app installation, and a reinstall is a new one; the
    store's proxy stays where the merchant put it, and no request may reach it until the
    blocks know where it is.
    """
    return recorded not in (None, DEFAULT_PROXY_PATH)
