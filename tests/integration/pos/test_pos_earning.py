"""In-store orders (`source_name` "pos" in Shopify's orders/paid) earn by the online store's
rules, through the webhook path, unless the merchant turned POS earning off: then the order is
recorded, earns nothing and is still its member's (history, tier spend, the holdout
comparison), never enrolling anyone. What the POS modal shows for a cart is what the paid order
then earns, gift cards included. The payloads are Shopify's documented orders/paid sample (the
emulator's), with only `source_name`, the customer, the dates and the lines changed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.db import utcnow
from app.insights.cohorts import cohort_tables
from app.insights.effect import measure_effect
from app.loyalty.holdout import CONTROL, PROGRAM
from app.loyalty.program import current_settings
from app.loyalty.tiers import rolling_spend
from app.models import LedgerEntry, Member, Order, Shop
from tests.integration.pos.test_pos_api import (  # noqa: F401 - fixture
    CUSTOMER_ID,
    SHOP,
    Counter,
    counter,
)
from tests.support.webhook_signing import post_webhook

GRACE, LINUS, WALK_IN = 7_310_627_314_724_001, 7_310_627_314_724_002, 7_310_627_314_724_003
TEA = {"title": "Tea", "quantity": 1, "product_id": 1}


def paid(counter: Counter, order_id: int, source_name: str, price: str = "",  # noqa: F811
         *, customer_id: int = CUSTOMER_ID, email: str = "ada@example.com",
         lines: list[dict[str, Any]] | None = None, at: datetime | None = None) -> Any:
    """Deliver a signed orders/paid of one Tea line of `price` (or of `lines`), paid `at`
    (yesterday unless told)."""
    moment = at or utcnow() - timedelta(days=1)
    stamp = moment.replace(microsecond=0).isoformat() + "Z"
    items = lines if lines is not None else [{**TEA, "price": price}]
    payload = counter.emulator.sample_payload(
        "orders/paid", shop=SHOP, order_id=order_id, customer_id=customer_id,
        email=email, first_name=email.split("@")[0].title(), created_at=stamp,
        updated_at=stamp, test=False, source_name=source_name,
        line_items=[{"id": order_id * 10 + n, **item} for n, item in enumerate(items)])
    assert payload["source_name"] == source_name
    with counter.app.test_client() as client:
        response = post_webhook(client, "orders/paid", SHOP, payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    return payload


def recorded(counter: Counter, order_id: int) -> tuple[str, int | None]:  # noqa: F811
    with counter.db.sessions() as s:
        order = s.execute(select(Order).where(Order.shopify_order_id == order_id)).scalar_one()
        return order.status, order.points_awarded


def order_member(counter: Counter, order_id: int) -> int | None:  # noqa: F811
    with counter.db.sessions() as s:
        return s.execute(select(Order.member_id).where(
            Order.shopify_order_id == order_id)).scalar_one()


def member(counter: Counter, customer_id: int) -> Member | None:  # noqa: F811
    with counter.db.sessions() as s:
        return s.execute(select(Member).where(
            Member.customer_id == customer_id)).scalar_one_or_none()


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


def test_a_cart_with_a_gift_card_shows_what_the_paid_order_then_earns(
        counter: Counter) -> None:  # noqa: F811
    """The modal's cart: $24.50 of tea and a $50 gift card (subtotal 74.50); the paid order
    lists the same lines, the gift card as `gift_card: true`, and earns what was shown."""
    shown = counter.call("GET", f"customers/{CUSTOMER_ID}?subtotal=74.50&gift_cards=50.00")
    assert shown.status_code == 200, shown.get_data(as_text=True)
    # 24.50 × 5 × Gold's 1.5 = 183.75: the gift card earns nothing by default.
    assert shown.get_json()["cart"]["points"] == 183
    payload = paid(counter, 9005, "pos", lines=[
        {**TEA, "price": "24.50"},
        {"title": "Gift card", "price": "50.00", "quantity": 1, "gift_card": True,
         "product_id": 2}])
    assert [li["gift_card"] for li in payload["line_items"]] == [False, True]
    assert recorded(counter, 9005) == ("paid", 183)


def test_with_pos_earning_off_a_members_pos_order_is_theirs_and_counts_for_tier_and_insights(
        counter: Counter) -> None:  # noqa: F811
    """Grace joined with an online order 100 days ago ($250: Bronze) and bought $100 of tea in
    the shop 95 days ago with POS earning off: no points, but the order is hers, her tier
    spend holds it (Silver from 300), and the program effect and cohorts count her second
    order."""
    now = utcnow()
    paid(counter, 9101, "web", "250.00", customer_id=GRACE, email="grace@example.com",
         at=now - timedelta(days=100))
    grace = member(counter, GRACE)
    assert grace is not None and grace.tier == "Bronze"
    with counter.db.transaction() as s:
        # In the program group of a holdout that began before she joined.
        s.execute(update(Member).where(Member.id == grace.id).values(
            holdout_group=PROGRAM, holdout_assigned_at=now - timedelta(days=101)))
    counter.set_pos_earning(False)

    paid(counter, 9102, "pos", "100.00", customer_id=GRACE, email="grace@example.com",
         at=now - timedelta(days=95))

    assert recorded(counter, 9102) == ("paid", 0)
    assert order_member(counter, 9102) == grace.id
    with counter.db.sessions() as s:
        shop = s.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        settings = current_settings(s, shop.id)
        after = s.get(Member, grace.id)
        assert (after.tier, after.points_lifetime) == ("Silver", 1250)
        assert rolling_spend(s, after, settings, now) == 350
        assert s.execute(select(LedgerEntry.order_id).where(
            LedgerEntry.member_id == grace.id, LedgerEntry.kind == "earn_order")
        ).scalars().all() == [9101]
        effect = measure_effect(s, shop, settings, now - timedelta(days=365), now, now,
                                rolled_up=False)
        assert (effect.program.customers, effect.program.repeaters,
                effect.program.sums.orders) == (1, 1, 2)
        cohorts = {c.month: c for c in cohort_tables(s, shop, now, rolled_up=False)["members"]}
    # The shop has no timezone of its own: its months are UTC's.
    first, second = now - timedelta(days=100), now - timedelta(days=95)
    cohort = cohorts[first.date().replace(day=1)]
    months_later = (second.year - first.year) * 12 + second.month - first.month
    assert cohort.customers == 1
    assert cohort.rates[months_later] == 1.0


def test_with_pos_earning_off_the_counter_enrols_nobody_and_held_out_members_stay_out(
        counter: Counter) -> None:  # noqa: F811
    """A walk-in customer who is no member stays no member; a held-out member's in-store
    order is theirs for the comparison, earns nothing and moves no tier, as their online
    orders."""
    paid(counter, 9201, "web", "50.00", customer_id=LINUS, email="linus@example.com")
    with counter.db.transaction() as s:
        s.execute(update(Member).where(Member.customer_id == LINUS).values(
            holdout_group=CONTROL, holdout_assigned_at=utcnow() - timedelta(days=3)))
    linus = member(counter, LINUS)
    counter.set_pos_earning(False)

    paid(counter, 9202, "pos", "400.00", customer_id=LINUS, email="linus@example.com")
    paid(counter, 9203, "pos", "400.00", customer_id=WALK_IN, email="walk-in@example.com")

    assert (recorded(counter, 9202), order_member(counter, 9202)) == (("paid", 0), linus.id)
    assert member(counter, LINUS).tier == linus.tier
    assert (recorded(counter, 9203), order_member(counter, 9203)) == (("paid", 0), None)
    assert member(counter, WALK_IN) is None
    with counter.db.sessions() as s:
        assert s.execute(select(Member.id).where(
            Member.email == "walk-in@example.com")).first() is None
