"""What staff see at the POS for a customer's cart: the points it will earn.

In-store orders (`source_name` "pos") earn by the online store's rules (app/loyalty/earning.py)
unless the merchant turned POS earning off; this is the same sum, shown before the sale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from app.loyalty.order_records import points_for
from app.loyalty.program import ProgramSettings
from app.loyalty.tiers import earning_tier
from app.models import Member

# A POS cart's subtotal is a decimal string in the shop's currency ("24.50").
MAX_SUBTOTAL = Decimal(10**9)
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


def parse_subtotal(raw: object) -> Decimal | None:
    """A cart subtotal from the POS cart (0 to 10^9, at most cents), or None if it is not one."""
    if not isinstance(raw, str) or not _AMOUNT.fullmatch(raw):
        return None
    value = Decimal(raw)
    return value if value <= MAX_SUBTOTAL else None


def cart_earning(member: Member, settings: ProgramSettings, subtotal: Decimal) -> CartEarning:
    """What the cart earns when paid: subtotal × rate × the member's tier multiplier, rounded
    down once, as record_paid_order will; nothing when POS earning is off.

    The POS cart's subtotal has no shipping, taxes or tips, which the default rules exclude.
    """
    tier = earning_tier(member, settings)
    if not settings.earning["pos_orders_earn"]:
        return CartEarning(0, tier.multiplier, tier.name, False)
    return CartEarning(points_for(subtotal, settings.points_per_unit, tier.multiplier),
                       tier.multiplier, tier.name, True)
