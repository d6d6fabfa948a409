"""What staff see at the POS for a customer's cart: the points it will earn.

In-store orders (`source_name` "pos") earn by the online store's rules (app/loyalty/earning.py)
unless the merchant turned POS earning off; this is the same sum, shown before the sale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from app.loyalty.order_records import points_for
from app.loyalty.orders import ZERO, OrderAmounts
from app.loyalty.program import ProgramSettings
from app.loyalty.tiers import earning_tier
from app.models import Member

# Amounts of a POS cart are decimal strings in the shop's currency ("24.50").
MAX_AMOUNT = Decimal(10**9)
_AMOUNT = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")


@dataclass(frozen=True)
class CartEarning:
    """The points a POS cart will earn its customer, and why."""

    points: int
    multiplier: Decimal
    tier: str
    pos_earning_on: bool

    def as_contract(self) -> dict[str, object]:
        """The `cart` object of GET /api/pos/customers/<id>."""
        return {"points": self.points, "multiplier": str(self.multiplier), "tier": self.tier,
                "pos_earning_on": self.pos_earning_on}


def parse_cart_amount(raw: object) -> Decimal | None:
    """An amount of the POS cart (0 to 10^9, at most cents), or None if it is not one."""
    if not isinstance(raw, str) or not _AMOUNT.fullmatch(raw):
        return None
    value = Decimal(raw)
    return value if value <= MAX_AMOUNT else None


def cart_amounts(subtotal: Decimal, gift_cards: Decimal = ZERO) -> OrderAmounts | None:
    """The cart's money split as the paid order's will be (app/loyalty/orders.order_amounts),
    or None when the gift cards are more than the subtotal that holds them.

    `subtotal` is the POS cart's (Cart API `subtotal`: no shipping, taxes or tips);
    `gift_cards` the part of it that is gift-card lines (`isGiftCard`, `price` × `quantity`),
    which the order lists apart too, so the shop's gift-card exclusion applies to both alike.
    """
    if gift_cards > subtotal:
        return None
    return OrderAmounts(goods=subtotal - gift_cards, goods_tax=ZERO, gift_cards=gift_cards,
                        shipping=ZERO, shipping_tax=ZERO, tips=ZERO, taxes_included=False)


def cart_earning(member: Member, settings: ProgramSettings, amounts: OrderAmounts
                 ) -> CartEarning:
    """What the cart earns when paid: its eligible amount × rate × the member's tier
    multiplier, rounded down once, as record_paid_order will; nothing when POS earning is off.
    """
    tier = earning_tier(member, settings)
    if not settings.earning["pos_orders_earn"]:
        return CartEarning(0, tier.multiplier, tier.name, False)
    eligible = amounts.eligible(settings.earning)
    return CartEarning(points_for(eligible, settings.points_per_unit, tier.multiplier),
                       tier.multiplier, tier.name, True)
