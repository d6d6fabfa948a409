"""A shop installed in the emulator (a real offline token) and in our database, with past
orders in the emulator, and what the backfill should make of them, computed here from the
emulator's own order dicts (never through the app's rules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.db import Database, utcnow
from app.loyalty.launch import launch
from app.pipeline.runtime import Runtime
from app.shopify.tokens import cipher_for, store_grant
from devstore import ShopifyEmulator
from tests.conftest import app_config
from tests.support.emulator_fixture import emulator  # noqa: F401 (fixture)
from tests.support.installed import grant_of

SHOP = "history.myshopify.com"
ALL_SCOPES = "read_orders,read_all_orders,read_customers,write_customers,write_discounts"
PAID = {"paid", "partially_refunded", "refunded"}
# Tier thresholds and multipliers of the default settings (app/loyalty/program.py
# DEFAULT_SETTINGS).
THRESHOLDS = [("Bronze", Decimal(0), Decimal(1)), ("Silver", Decimal(300), Decimal("1.25")),
              ("Gold", Decimal(800), Decimal("1.5"))]



def moment(text: str) -> datetime:
    """A payload time as naive UTC."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(
        tzinfo=None)


def net_amount(order: dict[str, Any]) -> Decimal:
    """Goods after discounts, gift cards, shipping and taxes left out, less refunds."""
    goods = sum((Decimal(li["price"]) * li["quantity"] - Decimal(li["total_discount"])
                 for li in order["line_items"] if not li["gift_card"]), Decimal(0))
    refunded = sum((Decimal(t["amount"]) for r in order["refunds"] for t in r["transactions"]),
                   Decimal(0))
    return max(goods - min(refunded, goods), Decimal(0))


@dataclass
class History:
    """The app, its runtime and the emulated shop with its orders."""

    app: Flask
    db: Database
    emulator: ShopifyEmulator
    requested_at: datetime

    @property
    def runtime(self) -> Runtime:
        return self.app.extensions["runtime"]

    @property
    def orders(self) -> list[dict[str, Any]]:
        return list(self.emulator.shop(SHOP).orders.values())

    def recorded(self, *, days: int = 365) -> list[dict[str, Any]]:
        """The orders a backfill of `days` days records: paid or cancelled, in the window,
        older than the hour before the request."""
        since = (self.requested_at - timedelta(days=days)).replace(hour=0, minute=0, second=0,
                                                                   microsecond=0)
        recent = self.requested_at - timedelta(hours=1)
        return [o for o in self.orders
                if (o["financial_status"] in PAID or o["cancelled_at"])
                and since <= moment(o["created_at"]) < recent]

    def member_key(self, order: dict[str, Any]) -> Any:
        customer = order["customer"]
        return ("customer", customer["id"]) if customer else ("guest", order["email"])

    def spend(self, *, days: int = 365) -> dict[Any, Decimal]:
        """Each member's rolling 12-month net spend from the recorded orders."""
        totals: dict[Any, Decimal] = {}
        year_ago = utcnow() - timedelta(days=365)
        for order in self.recorded(days=days):
            if order["cancelled_at"] or order["test"] or moment(order["created_at"]) <= year_ago:
                continue
            key = self.member_key(order)
            totals[key] = totals.get(key, Decimal(0)) + net_amount(order)
        return totals

    def expected_tiers(self, *, days: int = 365) -> dict[Any, str]:
        """Every member a paid order made (test orders too: they spend nothing) and the
        tier its 12-month spend reaches."""
        tiers = {self.member_key(o): "Bronze" for o in self.recorded(days=days)
                 if not o["cancelled_at"]}
        for key, total in self.spend(days=days).items():
            tiers[key] = [name for name, low, _m in THRESHOLDS if total >= low][-1]
        return tiers

    def expected_points(self, points_days: int, *, days: int = 365,
                        earns: Callable[[dict[str, Any]], bool] = lambda _order: True,
                        theirs: Callable[[dict[str, Any]], bool] = lambda _order: True
                        ) -> dict[Any, int]:
        """Points of the last `points_days` days' paid orders, 5 per unit, at the multiplier
        of the tier the member's spend of the 12 months before each order reached (the
        window's recorded orders replayed in date order). An order `earns` refuses still
        counts in its member's spend; one `theirs` refuses is no member's at all."""
        since = utcnow() - timedelta(days=points_days)
        counted = sorted((o for o in self.recorded(days=days)
                          if not o["cancelled_at"] and not o["test"] and theirs(o)),
                         key=lambda o: moment(o["created_at"]))
        before: dict[Any, list[tuple[datetime, Decimal]]] = {}
        points: dict[Any, int] = {}
        for order in counted:
            key, at = self.member_key(order), moment(order["created_at"])
            earlier = before.setdefault(key, [])
            if at >= since and earns(order):
                spend = sum((amount for paid, amount in earlier
                             if at - timedelta(days=365) < paid < at), Decimal(0))
                multiplier = [m for _name, low, m in THRESHOLDS if spend >= low][-1]
                earned = int((net_amount(order) * 5 * multiplier).to_integral_value(
                    rounding=ROUND_FLOOR))
                if earned > 0:
                    points[key] = points.get(key, 0) + earned
            earlier.append((at, net_amount(order)))
        return points


def install(db: Database, emulator: ShopifyEmulator, *, scope: str = ALL_SCOPES,  # noqa: F811
            live: bool = True) -> Flask:
    """The shop installed with a token of these scopes; the app reaching the emulator."""
    issued = emulator.issue_access_token(SHOP, scope=scope)
    app = create_app(app_config(db, shopify_admin_base=emulator.base_url))
    grant = grant_of(issued)
    with db.transaction() as session:
        shop, _ = store_grant(session, SHOP, grant, utcnow(),
                              cipher_for(app.extensions["runtime"].settings))
        if live:
            launch(shop, utcnow(), holdout_share=0)
    return app


@pytest.fixture
def history(db: Database, emulator: ShopifyEmulator) -> History:  # noqa: F811
    """1,200 past orders over 400 days by 150 customers and some guests."""
    emulator.add_shop(SHOP, currency="USD")
    emulator.add_order_history(SHOP, 1200, days=400, customers=150)
    app = install(db, emulator)
    return History(app, db, emulator, utcnow())
