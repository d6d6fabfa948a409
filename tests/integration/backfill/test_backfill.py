"""The order history read back through a bulk operation in the emulator (over HTTP): orders
recorded once, tiers from real spend, points for the chosen recent days, resumable after a
dropped download, harmless twice, and never counted again by a webhook."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.loyalty.backfill import BackfillRefused, request_backfill
from app.loyalty.events import order_paid
from app.loyalty.ledger import ledger_balances
from app.models import Backfill, LedgerEntry, Member, Order, Shop
from app.pipeline.backfill import advance_backfill
from tests.integration.backfill.conftest import SHOP, install, moment, net_amount


def start(history, mode: str = "points", window_days: int = 365, points_days: int = 90) -> int:
    with history.db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        return request_backfill(session, shop, mode=mode, window_days=window_days,
                                points_days=points_days, now=utcnow(), actor="Staff 1").id


def run(history, backfill_id: int) -> str:
    outcome = advance_backfill(history.runtime, backfill_id, poll_seconds=0.05)
    return outcome


def members(history) -> dict:
    with history.db.sessions() as session:
        rows = session.execute(select(Member)).scalars().all()
        return {(("customer", m.customer_id) if m.customer_id else ("guest", m.email)): m
                for m in rows}


def backfill(history, backfill_id: int) -> Backfill:
    with history.db.sessions() as session:
        return session.get(Backfill, backfill_id)


def assert_matches_the_shops_history(history, points_days: int = 90) -> None:
    expected_orders = {o["id"] for o in history.recorded()}
    with history.db.sessions() as session:
        recorded = set(session.execute(select(Order.shopify_order_id)).scalars())
        assert recorded == expected_orders
        found = members(history)
        assert {k: m.tier for k, m in found.items()} == history.expected_tiers()
        points = {k: m.points_lifetime for k, m in found.items() if m.points_lifetime}
        assert points == history.expected_points(points_days)
        for member in found.values():
            sums = ledger_balances(session, member.id, utcnow())
            assert (member.points_available, member.points_pending, member.points_lifetime) == (
                sums.available, sums.pending, sums.lifetime)
        earns = session.execute(select(func.count(LedgerEntry.id))).scalar_one()
        assert earns == session.execute(select(func.count(Order.id)).where(
            Order.points_awarded > 0)).scalar_one()


def test_the_backfill_records_the_history_sets_tiers_and_awards_recent_points(history):
    backfill_id = start(history)

    assert run(history, backfill_id).startswith("completed")

    assert_matches_the_shops_history(history)
    done = backfill(history, backfill_id)
    assert (done.status, done.orders_recorded) == ("completed", len(history.recorded()))
    assert done.points_awarded == sum(history.expected_points(90).values()) > 0
    assert done.tier_changes == len(history.expected_tiers()) > 0
    tiers = set(history.expected_tiers().values())
    assert {"Silver", "Gold"} <= tiers
    # Points of orders paid more than the pending period ago are available already.
    with history.db.sessions() as session:
        assert session.execute(select(func.sum(Member.points_available))).scalar_one() > 0
        assert session.execute(select(func.sum(Member.points_pending))).scalar_one() > 0


def test_running_it_again_and_a_late_webhook_count_no_order_twice(history):
    first = start(history)
    run(history, first)
    with history.db.sessions() as session:
        ledger_before = session.execute(select(func.sum(LedgerEntry.points))).scalar_one()

    second = start(history)
    assert run(history, second).startswith("completed")

    again = backfill(history, second)
    assert (again.orders_recorded, again.points_awarded, again.tier_changes) == (0, 0, 0)
    # Shopify delivers orders/paid of a backfilled order (a retry, a late delivery).
    order = next(o for o in history.recorded(days=30)
                 if o["financial_status"] == "paid" and o["customer"] and not o["test"])
    payload = history.emulator.sample_payload(
        "orders/paid", shop=SHOP, order_id=order["id"], customer_id=order["customer"]["id"],
        email=order["email"], total="80.00") | {"test": False}
    with history.db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        outcome = order_paid(session, shop, payload, utcnow())
    assert outcome.note == "already_earned"
    with history.db.sessions() as session:
        assert session.execute(select(func.sum(LedgerEntry.points))).scalar_one() == ledger_before
    assert_matches_the_shops_history(history)


def test_an_order_a_webhook_recorded_first_is_left_as_the_webhook_recorded_it(history):
    order = next(o for o in history.recorded(days=30)
                 if o["financial_status"] == "paid" and o["customer"] and not o["test"])
    payload = history.emulator.sample_payload(
        "orders/paid", shop=SHOP, order_id=order["id"], customer_id=order["customer"]["id"],
        email=order["email"], total="80.00") | {"test": False}
    with history.db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        assert order_paid(session, shop, payload, utcnow()).note == "earned"
        live_points = session.execute(select(Order.points_awarded).where(
            Order.shopify_order_id == order["id"])).scalar_one()

    run(history, start(history))

    with history.db.sessions() as session:
        assert session.execute(select(func.count(LedgerEntry.id)).where(
            LedgerEntry.order_id == order["id"])).scalar_one() == 1
        assert session.execute(select(Order.points_awarded).where(
            Order.shopify_order_id == order["id"])).scalar_one() == live_points


def test_a_dropped_download_resumes_from_the_cursor_and_ends_the_same(history):
    history.emulator.bulk.cut_downloads_after = 1300
    backfill_id = start(history)

    assert run(history, backfill_id) == "continuing: the download was interrupted"
    halfway = backfill(history, backfill_id)
    assert halfway.status == "applying"
    assert 0 < halfway.lines_applied <= 1300
    assert 0 < halfway.orders_recorded < len(history.recorded())

    history.emulator.bulk.cut_downloads_after = None
    assert run(history, backfill_id).startswith("completed")
    assert_matches_the_shops_history(history)
    assert backfill(history, backfill_id).orders_recorded == len(history.recorded())


def test_tiers_only_gives_no_points_and_none_links_no_member(history):
    run(history, start(history, mode="tiers"))
    with history.db.sessions() as session:
        assert session.execute(select(func.count(LedgerEntry.id))).scalar_one() == 0
    assert {k: m.tier for k, m in members(history).items()} == history.expected_tiers()


def test_mode_none_records_orders_only(history):
    run(history, start(history, mode="none"))
    with history.db.sessions() as session:
        assert session.execute(select(func.count(Order.id))).scalar_one() == len(
            history.recorded())
        assert session.execute(select(func.count(Member.id))).scalar_one() == 0


def test_without_read_all_orders_the_window_is_60_days_and_says_why(db, emulator):
    emulator.add_shop(SHOP, currency="USD")
    emulator.add_order_history(SHOP, 300, days=200, customers=40)
    app = install(db, emulator, scope="read_orders,read_customers,write_customers")
    from tests.integration.backfill.conftest import History

    history = History(app, db, emulator, utcnow())
    backfill_id = start(history)
    capped = backfill(history, backfill_id)
    assert capped.window_days == 60
    assert "read_all_orders" in capped.capped_reason
    assert run(history, backfill_id).startswith("completed")
    with db.sessions() as session:
        oldest = session.execute(select(func.min(Order.placed_at))).scalar_one()
    assert oldest >= utcnow() - timedelta(days=61)
    assert {o["id"] for o in history.recorded(days=60)} and backfill(
        history, backfill_id).orders_recorded == len(history.recorded(days=60))


def test_a_failed_bulk_operation_fails_the_run_with_shopifys_error_code(history):
    history.emulator.bulk.fail_next_with = "TIMEOUT"
    backfill_id = start(history)

    assert run(history, backfill_id).startswith("failed")

    failed = backfill(history, backfill_id)
    assert failed.status == "failed"
    assert "TIMEOUT" in failed.error
    # A new run may start after a failed one.
    assert run(history, start(history)).startswith("completed")


@pytest.mark.parametrize("choice, field", [
    ({"mode": "all"}, "mode"), ({"window_days": 0}, "window_days"),
    ({"window_days": "twelve"}, "window_days"), ({"points_days": 0}, "points_days"),
    ({"window_days": 30, "points_days": 31}, "points_days"), ({"window_days": True}, "window_days"),
])
def test_a_choice_that_cannot_run_is_refused_with_its_field(history, choice, field):
    asked = {"mode": "points", "window_days": 365, "points_days": 90, **choice}
    with history.db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        with pytest.raises(BackfillRefused) as refused:
            request_backfill(session, shop, now=utcnow(), actor=None, **asked)
    assert refused.value.field == field


def test_orders_are_dated_by_the_shop_not_by_the_backfill(history):
    run(history, start(history))
    with history.db.sessions() as session:
        order = session.execute(select(Order).order_by(Order.placed_at).limit(1)).scalar_one()
    source = history.emulator.shop(SHOP).orders[order.shopify_order_id]
    assert order.placed_at == moment(source["created_at"])


def test_past_orders_earn_at_the_tier_the_member_had_then_not_todays(history):
    """A customer made Gold today (by hand, say) earns for the past orders at the tier their
    spend of the year before each order reached, and a customer crossing a threshold inside
    the window earns more for the orders after it."""
    since = utcnow() - timedelta(days=90)
    paid = [o for o in history.recorded() if o["customer"] and not o["cancelled_at"]
            and not o["test"]]
    recent = {o["customer"]["id"] for o in paid if moment(o["created_at"]) >= since}
    customer_id = min(recent)
    with history.db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        session.add(Member(shop_id=shop.id, customer_id=customer_id, tier="Gold",
                           referral_code="GOLD-TODAY", points_available=0, points_pending=0,
                           points_lifetime=0))

    run(history, start(history))

    expected = history.expected_points(90)
    with history.db.sessions() as session:
        gold = session.execute(select(Member).where(
            Member.customer_id == customer_id)).scalar_one()
        multipliers = set(session.execute(select(LedgerEntry.multiplier)).scalars())
    assert gold.points_lifetime == expected[("customer", customer_id)]
    # Gold's 1.5 on every recent order would give more than the replayed history does.
    mine = [o for o in paid if o["customer"]["id"] == customer_id
            and moment(o["created_at"]) >= since]
    at_gold = sum(int(net_amount(o) * 5 * Decimal("1.5")) for o in mine)
    assert gold.points_lifetime < at_gold
    # Across the shop, entries were written at each of the three tiers' multipliers.
    assert multipliers == {Decimal(1), Decimal("1.25"), Decimal("1.5")}


def test_a_held_out_customer_earns_nothing_from_the_history_as_live(history):
    """The holdout's control group gets no program: no points for past orders either, while
    everyone else's recent orders earn as before."""
    since = utcnow() - timedelta(days=90)
    recent = sorted({o["customer"]["id"] for o in history.recorded()
                     if o["customer"] and not o["cancelled_at"] and not o["test"]
                     and moment(o["created_at"]) >= since})
    held, released = recent[0], recent[1]
    with history.db.transaction() as session:
        shop = session.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        for customer_id, code, released_at in ((held, "HELD-OUT", None),
                                              (released, "RELEASED", utcnow())):
            session.add(Member(shop_id=shop.id, customer_id=customer_id, tier=None,
                               referral_code=code, points_available=0, points_pending=0,
                               points_lifetime=0, holdout_group="control",
                               holdout_assigned_at=utcnow() - timedelta(days=400),
                               holdout_released_at=released_at))

    run(history, start(history))

    expected = history.expected_points(90)
    found = members(history)
    assert expected[("customer", held)] > 0
    assert found[("customer", held)].points_lifetime == 0
    with history.db.sessions() as session:
        assert session.execute(select(func.count(LedgerEntry.id)).where(
            LedgerEntry.member_id == found[("customer", held)].id)).scalar_one() == 0
    # Released from the holdout: in the program, so their past orders earn.
    assert found[("customer", released)].points_lifetime == expected[("customer", released)]
    others = {k: m.points_lifetime for k, m in found.items()
              if m.points_lifetime and k != ("customer", held)}
    assert others == {k: v for k, v in expected.items() if k != ("customer", held)}
