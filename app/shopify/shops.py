"""What the Admin API tells us about a shop, kept on its row (currency drives every amount)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.rewards import retitle_for_currency
from app.models import Shop
from app.shopify.graphql import ShopDetails


def record_shop_details(session: Session, shop_domain: str, details: ShopDetails) -> bool:
    """Copy name, email, currency, timezone and Shopify's shop id onto the shop; False if gone.

    A new currency also reaches the reward titles the app wrote ("$5 off" becomes "€5 off").
    """
    shop = session.execute(select(Shop).where(Shop.domain == shop_domain)).scalar_one_or_none()
    if shop is None:
        return False
    numeric_id = details.id.rsplit("/", 1)[-1]
    shop.shopify_shop_id = int(numeric_id) if numeric_id.isdigit() else shop.shopify_shop_id
    shop.name, shop.email = details.name, details.email
    if details.currency and details.currency != shop.currency:
        retitle_for_currency(session, shop.id, shop.currency, details.currency)
    shop.currency, shop.timezone = details.currency, details.timezone
    return True
