"""In-store orders (`source_name` "pos" in Shopify's orders/paid) earn by the online store's
rules, through the webhook path, unless the merchant turned POS earning off: then the order is
recorded and earns nothing. The payloads are Shopify's documented orders/paid sample (the
emulator's), with only `source_name` and the amounts changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.db import utcnow
from app.models import Member, Order
from tests.integration.pos.test_pos_api import (  # noqa: F401 - fixture
    CUSTOMER_ID,
    SHOP,
    Counter,
    counter,
)
from tests.support.webhook_signing import post_webhook


def paid(counter: Counter, order_id: int, source_name: str, price: str) -> Any:  # noqa: F811
    """Deliver a signed orders/paid for one line of `price`, paid yesterday."""
    stamp = (utcnow() - timedelta(days=1)).replace(microsecond=0).isoformat() + "Z"
    payload = counter.emulator.sample_payload(
        "orders/paid", shop=SHOP, order_id=order_id, customer_id=CUSTOMER_ID,
        email="ada@example.com", first_name="Ada", created_at=stamp, updated_at=stamp,
        test=False, source_name=source_name,
        line_items=[{"id": order_id * 10, "title": "Tea", "price": price, "quantity": 1,
                     "product_id": 1}])
    assert payload["source_name"] == source_name
    with counter.app.test_client() as client:
        response = post_webhook(client, "orders/paid", SHOP, payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    return payload


def recorded(counter: Counter, order_id: int) -> tuple[str, int | None]:  # noqa: F811
    with counter.db.sessions() as s:
        order = s.execute(select(Order).where(Order.shopify_order_id == order_id)).scalar_one()
        return order.status, order.points_awarded


def pending(counter: Counter) -> int:  # noqa: F811
    with counter.db.sessions() as s:
        return s.execute(select(Member.points_pending).where(
            Member.customer_id == CUSTOMER_ID)).scalar_one()


def test_a_pos_order_earns_like_an_online_order_by_default(counter: Counter) -> None:  # noqa: F811
    paid(counter, 9001, "web", "20.00")
    paid(counter, 9002, "pos", "20.00")
    # 20.00 × 5 × Gold's 1.5 each, what the POS modal showed for that cart.
    assert recorded(counter, 9001) == ("paid", 150)
    assert recorded(counter, 9002) == ("paid", 150)
    assert pending(counter) == 300


def test_with_pos_earning_off_a_pos_order_is_recorded_and_earns_nothing(
        counter: Counter) -> None:  # noqa: F811
    counter.set_pos_earning(False)
    paid(counter, 9003, "pos", "20.00")
    paid(counter, 9004, "web", "20.00")
    assert recorded(counter, 9003) == ("paid", 0)
    # Online orders are untouched by the switch.
    assert recorded(counter, 9004) == ("paid", 150)
    assert pending(counter) == 150
    assert counter.points() == 1000
