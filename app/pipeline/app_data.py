"""App-data metafields: values the theme extension reads as `app.metafields['$app'].<key>`,
written from the shop's rows (program state, proxy path, widget settings); the metafields
themselves are built in app/shopify/ (program_state, proxy_path, widget_settings).

They belong to the app's installation on the shop (`metafieldsSet` with `ownerId =
currentAppInstallation.id`), only this app can write them, and Liquid reads them without a
request (https://shopify.dev/docs/apps/build/custom-data/ownership#app-data-metafields).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.loyalty.launch import program_state
from app.loyalty.program import DEFAULT_SETTINGS, current_settings
from app.loyalty.widget_appearance import storefront_widget
from app.models import Shop
from app.pipeline.runtime import Runtime
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, MetafieldInput
from app.shopify.program_state import program_state_metafield
from app.shopify.proxy_path import proxy_path_metafield, storefront_proxy_path
from app.shopify.tokens import access_token_for
from app.shopify.widget_settings import widget_metafield

V = TypeVar("V")


# Two jobs for one shop may overlap (an install's and a launch's, or two settings saves): each
# re-reads after its write and writes again when the value moved meanwhile, so the last write
# is the newest value.
MAX_WRITE_ROUNDS = 3


def write_app_data(runtime: Runtime, shop_id: int, value_of: Callable[[Session, Shop], V],
                   metafield_of: Callable[[str, V], MetafieldInput],
                   now: datetime | None = None) -> V | None:
    """Write the value read for the installed shop (`value_of`, inside its transaction) to
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
                    domain, value = shop.domain, value_of(session, shop)
                if written is not None and value == written:
                    break
                if client is None:
                    token = access_token_for(session, domain, now, settings=settings, http=http)
                    client = AdminClient(domain, token, settings=settings, http=http)
                    installation_id = client.app_installation_id()
            client.set_metafields([metafield_of(installation_id, value)])
            written = value
    return written


def push_program_state(runtime: Runtime, shop_id: int, now: datetime | None = None) -> str:
    """Write the shop's state as it is when the job runs; a job, safe to run twice or late."""
    state = write_app_data(runtime, shop_id, lambda _session, shop: program_state(shop),
                           program_state_metafield, now)
    return "skipped: no such installed shop" if state is None else f"set program_state {state}"


def push_proxy_path(runtime: Runtime, shop_id: int, path: str,
                    now: datetime | None = None) -> str:
    """Write `path` to the shop's app-data metafield, then record it as the shop's; a job.

    Safe to run twice. The shop's `proxy_path` is set only after Shopify holds the metafield,
    so a failed run leaves the next proxied request to ask again.
    """
    if storefront_proxy_path(path) is None:
        return "skipped: not a storefront proxy path"
    if write_app_data(runtime, shop_id, lambda _session, _shop: path, proxy_path_metafield,
                      now) is None:
        return "skipped: no such installed shop"
    with runtime.db.transaction() as session:
        session.execute(update(Shop).where(Shop.id == shop_id).values(proxy_path=path))
    return f"set proxy_path {path}"


def push_widget_settings(runtime: Runtime, shop_id: int, now: datetime | None = None) -> str:
    """Write the shop's newest widget settings to its app-data metafield; a job.

    Safe to run twice, and in any order with another run: each reads the newest saved
    version, and after writing reads again and writes again if a save happened meanwhile,
    so whichever run finishes last leaves the newest settings on the storefront.
    """
    document = write_app_data(
        runtime, shop_id,
        lambda session, shop: storefront_widget(current_settings(session, shop.id)),
        widget_metafield, now)
    return "skipped: no such installed shop" if document is None else "set widget settings"


def widget_needs_restore_after_install(widget: dict[str, object]) -> bool:
    """Whether a (re)install must write the widget settings again (the merchant changed some).

    App-data metafields belong to one app installation and a reinstall is a new one; the
    admin still holds the shop's settings, so the storefront must show them again. Defaults
    need no write: the blocks render them without the metafield.
    """
    return widget != DEFAULT_SETTINGS["widget"]
