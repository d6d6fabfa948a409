"""App-data metafields: values the theme extension reads as `app.metafields['$app'].<key>`.

They belong to the app's installation on the shop (`metafieldsSet` with `ownerId =
currentAppInstallation.id`), only this app can write them, and Liquid reads them without a
request (https://shopify.dev/docs/apps/build/custom-data/ownership#app-data-metafields).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from app.db import utcnow
from app.models import Shop
from app.pipeline.runtime import Runtime
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, MetafieldInput
from app.shopify.tokens import access_token_for

V = TypeVar("V")


# Two jobs for one shop may overlap (an install's and a launch's): each re-reads after its
# write and writes again when the value moved meanwhile, so the last write is the newest value.
MAX_WRITE_ROUNDS = 3


def write_app_data(runtime: Runtime, shop_id: int, value_of: Callable[[Shop], V],
                   metafield_of: Callable[[str, V], MetafieldInput],
                   now: datetime | None = None) -> V | None:
    """Write the value read from the installed shop (`value_of`, inside its transaction) to
    its app-data metafield (`metafield_of(installation id, value)`), again while it changes;
    the value written last, or None when the shop is not installed."""
    now = now or utcnow()
    settings = runtime.settings
    written: V | None = None
    with shop_http_client(settings) as http:
        client: AdminClient | None = None
        installation_id = ""
        for _ in range(MAX_WRITE_ROUNDS):
            with runtime.db.sessions() as session:
                with session.begin():
                    shop = session.get(Shop, shop_id)
                    if shop is None or not shop.is_installed:
                        return None
                    domain, value = shop.domain, value_of(shop)
                if written is not None and value == written:
                    break
                if client is None:
                    token = access_token_for(session, domain, now, settings=settings, http=http)
                    client = AdminClient(domain, token, settings=settings, http=http)
                    installation_id = client.app_installation_id()
            client.set_metafields([metafield_of(installation_id, value)])
            written = value
    return written
