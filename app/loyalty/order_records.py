"""The program's record of each Shopify order: its row (created on first sight, locked while
an event applies), its status, its details and its earn entry.

Shared by earning (orders/paid) and reversals (refunds, cancellations), which both apply
events to the same row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.loyalty.orders import OrderFacts
from app.models import LedgerEntry, Order

# Order.status values. An order we only know from an early refund waits for its payment.
AWAITING_PAYMENT, PAID, CANCELLED = "awaiting_payment", "paid", "cancelled"


def points_for(amount: Decimal, rate: Decimal, multiplier: Decimal) -> int:
    """Whole points for an amount: amount × rate × multiplier, rounded down once."""
    return int((amount * rate * multiplier).to_integral_value(rounding=ROUND_FLOOR))


def earn_source_key(shopify_order_id: int) -> str:
    """The idempotency key of an order's earn entry."""
    return f"order:{shopify_order_id}:earn"


def order_ref(order: Order) -> str:
    """How the shopper knows the order: its name (#1042), else its id."""
    return order.name or str(order.shopify_order_id)


def lock_order(session: Session, shop_id: int, shopify_order_id: int, now: datetime) -> Order:
    """The shop's Order row for a Shopify order, created if new, locked for this transaction.

    One INSERT … ON CONFLICT DO UPDATE … RETURNING: the no-op update takes the row lock as
    SELECT … FOR UPDATE would, so concurrent events about the same order (a duplicate
    orders/paid, a refund racing its payment) apply one after the other.
    """
    insert = dialect_insert(session)
    statement = insert(Order).values(shop_id=shop_id, shopify_order_id=shopify_order_id,
                                     status=AWAITING_PAYMENT, created_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["shop_id", "shopify_order_id"],
        set_={"shop_id": statement.excluded.shop_id}).returning(Order)
    return session.scalars(statement, execution_options={"populate_existing": True}).one()


def earn_entry(session: Session, shop_id: int, shopify_order_id: int) -> LedgerEntry | None:
    """The order's earn entry, if it earned."""
    return session.execute(select(LedgerEntry).where(
        LedgerEntry.shop_id == shop_id,
        LedgerEntry.source_key == earn_source_key(shopify_order_id))).scalar_one_or_none()


def copy_order_details(order: Order, facts: OrderFacts) -> bool:
    """Keep the order's descriptive fields unless a newer event already wrote them.

    Returns whether the facts were newer (or as new) and so were copied.
    """
    if (order.shopify_updated_at is not None and facts.updated_at is not None
            and facts.updated_at < order.shopify_updated_at):
        return False
    order.admin_graphql_id = facts.admin_graphql_id or order.admin_graphql_id
    order.name = facts.name or order.name
    order.email = facts.shopper_email or order.email
    order.currency = facts.currency
    order.total_price = facts.total_price
    order.test = facts.test
    order.browser_ip = facts.browser_ip
    order.address_digest = facts.address_digest
    order.discount_codes = ",".join(facts.discount_codes)[:1024] or None
    # Refunds are read with this flag: their payloads do not say whether prices included tax.
    order.taxes_included = facts.amounts.taxes_included
    order.shopify_updated_at = facts.updated_at or order.shopify_updated_at
    order.placed_at = facts.created_at or order.placed_at
    return True
