"""What the Admin API tells us about a shop, kept on its row (currency drives every amount)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.rewards import retitle_for_currency
from app.models import Shop
from app.shopify.graphql import ShopDetails

# A DNS name: dot-separated labels (letters, digits, inner hyphens), a top-level domain last.
_HOST = re.compile(r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                   r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})")


def _set_currency(session: Session, shop: Shop, currency: str | None) -> None:
    """The shop's currency, and the reward titles the app wrote ("$5 off" becomes "€5 off")."""
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        return  # not an ISO 4217 code: keep the one we know
    if currency == shop.currency:
        return
    retitle_for_currency(session, shop.id, shop.currency, currency)
    shop.currency = currency


def _text(value: Any, limit: int) -> str | None:
    """A non-empty string that fits its column, else None (the known value stays)."""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return None
    return value.strip()


def _host(value: Any) -> str | None:
    """A lowercase domain name (teahouse.com, shop.teahouse.co.uk), else None."""
    if not isinstance(value, str) or len(value) > 255:
        return None
    host = value.strip().lower()
    return host if _HOST.fullmatch(host) else None


def record_shop_details(session: Session, shop_domain: str, details: ShopDetails) -> bool:
    """Copy name, email, currency, timezone, primary domain and Shopify's shop id onto the
    shop; False if gone."""
    shop = session.execute(select(Shop).where(Shop.domain == shop_domain)).scalar_one_or_none()
    if shop is None:
        return False
    numeric_id = details.id.rsplit("/", 1)[-1]
    shop.shopify_shop_id = int(numeric_id) if numeric_id.isdigit() else shop.shopify_shop_id
    shop.name, shop.email = details.name, details.email
    _set_currency(session, shop, details.currency)
    shop.timezone = details.timezone
    shop.primary_domain = _host(details.primary_domain) or shop.primary_domain
    return True


def record_shop_update(session: Session, shop: Shop, payload: Mapping[str, Any]) -> str:
    """Apply shop/update ("occurs whenever a shop is updated", shopify.dev
    WebhookSubscriptionTopic SHOP_UPDATE): the shop resource's name, email, currency, timezone
    and primary domain (`domain`, "the shop's domain", beside the permanent `myshopify_domain`:
    shopify.dev/docs/api/admin-rest/2026-07/resources/shop), so a merchant who connects their
    own domain gets referral and email links on it.

    A field the payload leaves empty keeps what we know (the documented sample has no
    `iana_timezone` and no `domain`).
    """
    before = shop.currency
    shop.name = _text(payload.get("name"), 255) or shop.name
    shop.email = _text(payload.get("email"), 320) or shop.email
    _set_currency(session, shop, payload.get("currency"))
    shop.timezone = _text(payload.get("iana_timezone"), 64) or shop.timezone
    shop.primary_domain = _host(payload.get("domain")) or shop.primary_domain
    return f"shop updated; currency {shop.currency}" + (
        f" (was {before})" if shop.currency != before else "")
