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

from app.shopify.graphql import MetafieldInput

# The app-data metafield the blocks read: app.metafields['$app'].widget.
METAFIELD_NAMESPACE = "$app"
METAFIELD_KEY = "widget"


def widget_metafield(installation_id: str, document: dict[str, object]) -> MetafieldInput:
    """The app-data metafield holding the storefront widget document."""
    value = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return MetafieldInput(installation_id, METAFIELD_KEY, value, "json",
                          namespace=METAFIELD_NAMESPACE)
