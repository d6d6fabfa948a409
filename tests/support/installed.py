"""A shop installed in the emulator and in our database, as OAuth would leave it, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from app import create_app
from app.db import Database
from app.loyalty.launch import launch
from app.loyalty.ledger import post
from app.loyalty.rewards import seed_default_rewards
from app.models import Shop
from app.shopify.tokens import TokenGrant, cipher_for, store_grant
from devstore import ShopifyEmulator
from devstore.state import IssuedToken
from tests.conftest import app_config
from tests.support.factories import make_member


def _naive(epoch: float | None) -> datetime | None:
    """An emulator timestamp as naive UTC, as our database keeps time."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None) if epoch else None


def grant_of(issued: IssuedToken) -> TokenGrant:
    """The token grant our database stores for a token the emulator issued."""
    return TokenGrant(access_token=issued.access_token, scope=issued.scope,
                      expires_at=_naive(issued.expires_at), refresh_token=issued.refresh_token,
                      refresh_token_expires_at=_naive(issued.refresh_expires_at))


def live_shop_with_member(db: Database, emulator: ShopifyEmulator, domain: str,
                          customer_id: int, now: datetime, *, points: int = 1000,
                          tier: str | None = None, primary_domain: str | None = None,
                          holdout_share: int = 0) -> tuple[Flask, dict[str, int]]:
    """`domain` installed in the emulator (a real offline token) and in our database, live, with
    the default catalog and customer `customer_id` (Ada) holding exactly `points`; the app on the
    emulator and the catalog's ids by title. Launched without a holdout unless the test asks
    for one (the launch form's default holds out a random 10 %, which would make a test of
    Ada's points fail one run in ten)."""
    emulator.add_shop(domain, currency="USD")
    emulator.shop(domain).add_customer(customer_id, email="ada@example.com", first_name="Ada")
    issued = emulator.issue_access_token(domain)
    app = create_app(app_config(db, shopify_admin_base=emulator.base_url))
    with db.transaction() as s:
        shop: Shop
        shop, _ = store_grant(s, domain, grant_of(issued), now,
                              cipher_for(app.extensions["runtime"].settings))
        if primary_domain is not None:
            shop.primary_domain = primary_domain
        launch(shop, now, holdout_share=holdout_share)
        rewards = {r.title: r.id for r in seed_default_rewards(s, shop, now)}
        member = make_member(s, shop, customer_id=customer_id, now=now)
        if tier is not None:
            member.tier, member.tier_since = tier, now
        post(s, member, points=points, kind="adjust", source_key="start", now=now)
    return app, rewards
