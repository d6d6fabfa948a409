"""The order history's in-store orders (`sourceName` "pos" in the bulk operation's file, over
HTTP from the emulator) follow the POS earning switch as live orders do: with it off they are
recorded with 0 points and make nobody a member; one is its customer's (and counts toward
their tier) when they were a member by then."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.db import utcnow
from app.loyalty.ledger import ledger_balances
from app.loyalty.program import current_settings, save_settings
from app.loyalty.tiers import rolling_spend
from app.models import LedgerEntry, Member, Order, Shop
from tests.integration.backfill.conftest import SHOP, History, moment, net_amount
from tests.integration.backfill.test_backfill import backfill, members, run, start


def set_pos_earning(history: History, on: bool) -> None:
    with history.db.transaction() as session:
        shop_id = session.execute(select(Shop.id).where(Shop.domain == SHOP)).scalar_one()
        save_settings(session, shop_id, {"earning": {"pos_orders_earn": on}},
                      changed_by="test", now=utcnow())


def rung_up_in_store(history: History, orders: list[dict[str, Any]]) -> None:
    """Shopify's `source_name` (GraphQL `sourceName`) of orders placed at Shopify POS."""
    for order in orders:
        history.emulator.shop(SHOP).orders[order["id"]]["source_name"] = "pos"


def customers_paid_orders(history: History) -> dict[int, list[dict[str, Any]]]:
    """Each customer's recorded, paid, non-test orders of the last year, oldest first."""
    year_ago = utcnow() - timedelta(days=364)
    found: dict[int, list[dict[str, Any]]] = {}
    for order in sorted(history.recorded(), key=lambda o: moment(o["created_at"])):
        if (order["customer"] and not order["cancelled_at"] and not order["test"]
                and moment(order["created_at"]) > year_ago):
            found.setdefault(order["customer"]["id"], []).append(order)
    return found


def choose(history: History) -> tuple[int, dict[str, Any], int, dict[str, Any], int]:
    """A customer who only ever bought in the shop; one whose latest order (of the last 90
    days) was in the shop after online ones; one whose first order was in the shop."""
    paid = customers_paid_orders(history)
    since = utcnow() - timedelta(days=80)
    everyone = {o["customer"]["id"] for o in history.orders if o["customer"]}
    recent = sorted(cid for cid, orders in paid.items()
                    if len(orders) >= 3 and moment(orders[-1]["created_at"]) >= since)
    walk_in, member, first_in_store = recent[0], recent[1], recent[2]
    assert len(everyone) > 3
    return (walk_in, paid[member][-1], member, paid[first_in_store][0], first_in_store)


def test_with_pos_earning_off_past_in_store_orders_earn_nothing_and_enrol_nobody(
        history: History) -> None:
    walk_in, late_pos, member_id, early_pos, first_in_store = choose(history)
    walk_ins = [o for o in history.orders if o["customer"] and o["customer"]["id"] == walk_in]
    rung_up_in_store(history, [*walk_ins, late_pos, early_pos])
    set_pos_earning(history, False)
    in_store = {o["id"] for o in walk_ins} | {late_pos["id"], early_pos["id"]}

    backfill_id = start(history)
    assert run(history, backfill_id).startswith("completed")

    found = members(history)
    nobodys = {o["id"] for o in walk_ins} | {early_pos["id"]}
    expected = history.expected_points(90, earns=lambda o: o["id"] not in in_store,
                                       theirs=lambda o: o["id"] not in nobodys)
    with history.db.sessions() as session:
        rows = {o.shopify_order_id: o for o in session.execute(select(Order)).scalars()}
        # Every order of the history is recorded, the in-store ones with 0 points.
        assert set(rows) == {o["id"] for o in history.recorded()}
        assert {rows[i].points_awarded for i in in_store} == {0}
        assert session.execute(select(LedgerEntry.id).where(
            LedgerEntry.order_id.in_(in_store))).first() is None
        # Only in the shop: recorded without a member, nobody enrolled.
        assert ("customer", walk_in) not in found
        assert {rows[o["id"]].member_id for o in walk_ins} == {None}
        # A member by then (online orders before it): the order is theirs and in their spend.
        member = found[("customer", member_id)]
        assert rows[late_pos["id"]].member_id == member.id
        settings = current_settings(session, member.shop_id)
        now = utcnow()
        assert rolling_spend(session, member, settings, now) == history.spend()[
            ("customer", member_id)].quantize(Decimal("0.01"))
        # Not yet a member when it was placed: nobody's; their later online orders made them one.
        later = found[("customer", first_in_store)]
        assert rows[early_pos["id"]].member_id is None
        assert rolling_spend(session, later, settings, now) == (
            history.spend()[("customer", first_in_store)] - net_amount(early_pos)
        ).quantize(Decimal("0.01"))
        # Everyone else earns as before; the ledger and the balances agree.
        assert {k: m.points_lifetime for k, m in found.items() if m.points_lifetime} == expected
        for one in found.values():
            sums = ledger_balances(session, one.id, now)
            assert (one.points_available, one.points_pending, one.points_lifetime) == (
                sums.available, sums.pending, sums.lifetime)
    assert backfill(history, backfill_id).points_awarded == sum(expected.values())


def test_with_pos_earning_on_past_in_store_orders_earn_as_online_ones(
        history: History) -> None:
    walk_in, late_pos, member_id, _early, _first = choose(history)
    walk_ins = [o for o in history.orders if o["customer"] and o["customer"]["id"] == walk_in]
    rung_up_in_store(history, [*walk_ins, late_pos])

    assert run(history, start(history)).startswith("completed")

    found = members(history)
    assert {k: m.points_lifetime for k, m in found.items() if m.points_lifetime} == (
        history.expected_points(90))
    assert found[("customer", walk_in)].points_lifetime > 0
    with history.db.sessions() as session:
        assert session.execute(select(Member.id).where(
            Member.customer_id == member_id)).scalar_one() == found[("customer", member_id)].id
        assert session.execute(select(Order.points_awarded).where(
            Order.shopify_order_id == late_pos["id"])).scalar_one() > 0
