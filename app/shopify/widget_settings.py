"""Bring the admin's Widget settings to the storefront: one app-data metafield the blocks read.

The texts, colours and launcher position a merchant saves in the admin are written, after
each save, as one `json` metafield on the app installation (`metafieldsSet` with
`ownerId = currentAppInstallation.id`), which the blocks read as
`app.metafields['$app'].widget.value` (https://shopify.dev/docs/apps/build/custom-data/
ownership#app-data-metafields; a json metafield's `value` is an object whose properties Liquid
reads, https://shopify.dev/docs/api/liquid/objects/metafield). Shopify's advice for values an
extension renders as markup or CSS is exactly this: an app-owned or app-data metafield, which
only the app can write, never a public one that staff, other apps or translations can change
(https://shopify.dev/docs/apps/build/security/storefront/store-settings-in-app-owned-metafields).
The theme editor's block settings hold none of these values, so the storefront has one source.
"""

from __future__ import annotations

import json
from datetime import datetime

from app.db import utcnow
from app.loyalty.program import DEFAULT_SETTINGS, current_settings
from app.loyalty.widget_appearance import storefront_widget
from app.models import Shop
from app.pipeline.runtime import Runtime
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, MetafieldInput
from app.shopify.tokens import access_token_for

# The app-data metafield the blocks read: app.metafields['$app'].widget.
METAFIELD_NAMESPACE = "$app"
METAFIELD_KEY = "widget"
# Re-reads after a write before giving up on catching a settings save made meanwhile.
MAX_SYNC_ROUNDS = 3


def widget_metafield(installation_id: str, document: dict[str, object]) -> MetafieldInput:
    """The app-data metafield holding the storefront widget document."""
    value = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return MetafieldInput(installation_id, METAFIELD_KEY, value, "json",
                          namespace=METAFIELD_NAMESPACE)


def push_widget_settings(runtime: Runtime, shop_id: int, now: datetime | None = None) -> str:
    """Write the shop's newest widget settings to its app-data metafield; a job.

    Safe to run twice, and in any order with another run: each reads the newest saved
    version, and after writing reads again and writes again if a save happened meanwhile,
    so whichever run finishes last leaves the newest settings on the storefront.
    """
    now = now or utcnow()
    settings = runtime.settings
    written: dict[str, object] | None = None
    with shop_http_client(settings) as http:
        client: AdminClient | None = None
        installation_id = ""
        for _ in range(MAX_SYNC_ROUNDS):
            with runtime.db.sessions() as session:
                with session.begin():
                    shop = session.get(Shop, shop_id)
                    if shop is None or not shop.is_installed:
                        return "skipped: no such installed shop"
                    document = storefront_widget(current_settings(session, shop_id))
                    domain = shop.domain
                if document == written:
                    break
                if client is None:
                    token = access_token_for(session, domain, now, settings=settings, http=http)
                    client = AdminClient(domain, token, settings=settings, http=http)
                    installation_id = client.app_installation_id()
            client.set_metafields([widget_metafield(installation_id, document)])
            written = document
    return "set widget settings"


def needs_restore_after_install(widget: dict[str, object]) -> bool:
    """Whether a (re)install must write the widget settings again (the merchant changed some).

    App-data metafields belong to one app installation and a reinstall is a new one; the
    admin still holds the shop's settings, so the storefront must show them again. Defaults
    need no write: the blocks render them without the metafield.
    """
    return widget != DEFAULT_SETTINGS["widget"]
