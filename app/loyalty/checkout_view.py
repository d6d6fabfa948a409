"""What the thank-you and order-status blocks show for one order (the NPS answer they send is
app/engagement/checkout_survey.py's).

The shapes are the checkout API contract (design.md §4; extensions/loyalty-ui/src/contract.ts).
Who sees what, by the session token's `sub`:
- the order's own customer: the order's points, their balance, tier, referral link, survey;
- another customer of the shop: nothing, not even that the order exists (OrderNotFound, the
  answer for an unknown id), since a customer's thank-you and order-status pages only ever
  ask about their own orders (an order recorded without any member, such as a test order,
  names nobody: it shows that it earns nothing);
- a guest token (no `sub`, so nothing stronger can be asked of it): a recorded order's name
  and points with the invitation to claim them, never member data and never a preview, which
  would mean asking Shopify about an order on behalf of someone who proved nothing.

Before the orders/paid webhook has been processed the order has no ledger entry. Its points
are then a preview computed by the same rules (earning.preview_order_points) from the order as
the Admin API describes it: the caller fetches it (a network call, never made in here) and
passes it back in as OrderFacts built by `facts_for_preview`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import DomainError
from app.loyalty.earning import preview_order_points
from app.loyalty.ledger import release_unlocked
from app.loyalty.members import member_for_customer
from app.loyalty.order_records import AWAITING_PAYMENT, earn_entry
from app.loyalty.orders import ZERO, OrderAmounts, OrderFacts
from app.loyalty.program import ProgramSettings, current_settings
from app.loyalty.referrals import referral_contract
from app.loyalty.reversals import reversed_points
from app.loyalty.tiers import tier_basis_value, tier_progress
from app.models import Member, Order, Shop, SurveyResponse

# Where a guest creates the account that claims their points: guest points accrue to the
# order's email and move to the customer when customers/create arrives (members.enrol).
CLAIM_PATH = "/account/register"


class OrderNotRecorded(Exception):
    """No orders/paid yet: the caller may fetch the order from Shopify and ask again.

    `previewable` is False when the shop's settings count money the Admin API's subtotal does
    not break down (shipping, taxes or tips): a preview would then be a guess, so none is made.
    """

    def __init__(self, previewable: bool) -> None:
        """Remember whether a preview can be computed from a fetched order."""
        super().__init__("order not recorded yet")
        self.previewable = previewable


class OrderNotFound(DomainError):
    """No such order for this shopper (unknown, not paid yet, or another customer's)."""

    code, status = "order_not_found", 404
    public_message = "no such order"


class NotLoggedIn(DomainError):
    """The session token names no customer, and the action needs one."""

    code, status = "not_logged_in", 401
    public_message = "sign in to answer for this order"


@dataclass(frozen=True)
class _OrderPoints:
    """The `order` object's numbers."""

    points: int
    status: str
    unlocks_at: datetime | None


def facts_for_preview(shopify_order_id: int, *, name: str | None, email: str | None,
                      customer_id: int | None, currency: str, subtotal: Decimal, test: bool,
                      cancelled_at: datetime | None) -> OrderFacts:
    """OrderFacts for a preview from the order as the Admin API's `order(id:)` describes it.

    Its current subtotal is the line items after discounts and before shipping, taxes and
    tips (shopify.dev/docs/api/admin-graphql/2026-07/objects/Order#field-currentSubtotalPriceSet):
    exactly the goods our default rules count. It does not separate gift-card lines or tax
    included in prices, so an order with those previews what its subtotal would earn; the
    orders/paid webhook's ledger entry replaces the preview within seconds.
    """
    amounts = OrderAmounts(goods=subtotal, goods_tax=ZERO, gift_cards=ZERO, shipping=ZERO,
                           shipping_tax=ZERO, tips=ZERO, taxes_included=False)
    return OrderFacts(
        shopify_order_id=shopify_order_id, admin_graphql_id=None, name=name, email=email,
        customer_id=customer_id, customer_email=None, customer_first_name=None,
        customer_last_name=None, currency=currency, test=test, browser_ip=None,
        note_attributes={}, discount_codes=(), landing_site=None, address_digest=None,
        amounts=amounts, eligible_amount=subtotal, total_price=subtotal,
        cancelled_at=cancelled_at, updated_at=None)


def previewable(settings: ProgramSettings) -> bool:
    """Whether the Admin API's subtotal is all the shop's rules need to count."""
    earning = settings.earning
    return bool(earning["exclude_shipping"] and earning["exclude_taxes"]
                and earning["exclude_tips"])


def shop_date(moment: datetime, shop_timezone: str) -> date:
    """The calendar day a naive-UTC moment falls on where the shop is."""
    try:
        zone = ZoneInfo(shop_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def recorded_order(session: Session, shop: Shop, shopify_order_id: int) -> Order | None:
    """The order once orders/paid or orders/cancelled has been applied to it."""
    order = session.execute(select(Order).where(
        Order.shop_id == shop.id, Order.shopify_order_id == shopify_order_id)
    ).scalar_one_or_none()
    # A refund that arrives first creates a bare row that waits for its payment.
    return None if order is None or order.status == AWAITING_PAYMENT else order


def _recorded_points(session: Session, order: Order, now: datetime) -> _OrderPoints:
    """Where the order's earn entry stands: what is left of it, or what was taken back."""
    entry = earn_entry(session, order.shop_id, order.shopify_order_id)
    if entry is None:
        return _OrderPoints(0, "not_eligible", None)
    taken = reversed_points(session, order)
    if taken >= entry.points:
        return _OrderPoints(entry.points, "reversed", None)
    # After a partial refund the shopper sees what the order still earns, not its first figure.
    if entry.available_at > now:
        return _OrderPoints(entry.points - taken, "pending", entry.available_at)
    return _OrderPoints(entry.points - taken, "available", None)


def _member_summary(session: Session, member: Member, settings: ProgramSettings,
                    now: datetime) -> dict[str, Any]:
    """The `member` object: first name, cached balances, tier progress."""
    release_unlocked(session, member, now)
    progress = tier_progress(member, settings, tier_basis_value(session, member, settings, now))
    return {"first_name": member.first_name,
            "points": {"available": member.points_available, "pending": member.points_pending},
            "tier": progress.as_contract()}


def _survey_answered(session: Session, shop: Shop, shopify_order_id: int) -> bool:
    """Whether this order's survey has an answer."""
    return session.execute(select(SurveyResponse.id).where(
        SurveyResponse.shop_id == shop.id, SurveyResponse.order_id == shopify_order_id)
    ).first() is not None


def order_view(session: Session, shop: Shop, shopify_order_id: int, customer_id: int | None,
               now: datetime, *, shopify_order: OrderFacts | None = None) -> dict[str, Any]:
    """GET /api/checkout/order/<id>: this order's points, and for its own customer the rest.

    `customer_id` is the session token's `sub`, None for a guest. Raises OrderNotRecorded when
    the order has no ledger state yet and `shopify_order` (the fetched order) is not given, and
    OrderNotFound when the order is another customer's, or a preview is asked by anyone but
    the fetched order's own customer.
    """
    settings = current_settings(session, shop.id)
    order = recorded_order(session, shop, shopify_order_id)
    if order is not None:
        member = session.get(Member, order.member_id) if order.member_id else None
        owner_id = member.customer_id if member is not None else None
        # An order recorded without a member (a test order, no customer and no email) earns
        # nothing and names nobody: every token of the shop may read that it earns nothing.
        if customer_id is not None and member is not None and owner_id != customer_id:
            raise OrderNotFound()
        points = _recorded_points(session, order, now)
        name = order.name
    else:
        if shopify_order is None or not previewable(settings):
            raise OrderNotRecorded(previewable(settings))
        if customer_id is None or shopify_order.customer_id != customer_id:
            raise OrderNotFound()
        preview = preview_order_points(session, shop, shopify_order, settings, now)
        points = _OrderPoints(preview.points, preview.status, preview.available_at)
        name = shopify_order.name
        owner_id = shopify_order.customer_id
        member = None
    is_owner = customer_id is not None and owner_id == customer_id
    if is_owner and member is None:
        member = member_for_customer(session, shop, customer_id)
    pending = points.status in ("pending", "preview") and points.unlocks_at is not None
    view: dict[str, Any] = {
        "order": {"id": str(shopify_order_id), "name": name or f"#{shopify_order_id}",
                  "points": points.points, "status": points.status,
                  "unlocks_on": (shop_date(points.unlocks_at, shop.timezone).isoformat()
                                 if pending else None)},
        "member": None, "referral": None, "guest": None,
        "nps": {"asked": False, "answered": False, "bonus_points": 0},
    }
    if is_owner and member is not None:
        view["member"] = _member_summary(session, member, settings, now)
        if settings.referrals.get("enabled", True):
            view["referral"] = referral_contract(shop, member, settings)
        if order is not None:
            # Asked once the order is recorded: only then can the answer be tied to it.
            view["nps"] = {"asked": True,
                           "answered": _survey_answered(session, shop, shopify_order_id),
                           "bonus_points": settings.bonuses.get("nps", 0)}
    elif customer_id is None and points.points > 0 and points.status in (
            "preview", "pending", "available"):
        view["guest"] = {"claim_url": f"https://{shop.storefront_host}{CLAIM_PATH}",
                         "points": points.points}
    return view
