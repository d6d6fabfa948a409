"""The shop a request or a token names, read by its myshopify.com domain. Plain SQLAlchemy.

Built once: the storefront reads the shop on every request it does not serve from its cache
(bench/storefront.py), and the same statement serves the checkout, email and admin routes.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.models import Shop

_SHOP_BY_DOMAIN = select(Shop).where(Shop.domain == bindparam("domain"))


def shop_by_domain(session: Session, domain: str) -> Shop | None:
    """The shop row with that domain, installed or not."""
    return session.execute(_SHOP_BY_DOMAIN, {"domain": domain}).scalar_one_or_none()


def installed_shop(session: Session, domain: str) -> Shop | None:
    """The shop with that domain while it has the app installed; None otherwise."""
    shop = shop_by_domain(session, domain)
    return shop if shop is not None and shop.is_installed else None
