"""Every refund is recorded once by its Shopify id and reverses once, whenever it arrives.

Shopify redelivers webhooks (each delivery may carry a new webhook id) and does not order them:
a refunds/create can come before its orders/paid, twice, or once on each side of it.
"""

import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.loyalty.earning import record_paid_order
from app.loyalty.orders import parse_order, parse_refund
from app.loyalty.program import current_settings
from app.loyalty.reversals import reverse_refund, void_cancelled_order
from app.loyalty.tiers import rolling_spend
from app.models import LedgerEntry, Member, Order, OrderRefund, Shop
from tests.support.factories import T0, make_member, make_shop
from tests.support.order_payloads import cancelled_order, line, money, paid_order, refund

ORDER_ID = 1042000000000000001
OTHER_ORDER_ID = 1042000000000000002
CUSTOMER_ID = 115310627314723950
# Refund ids, like order ids, exceed 2^53.
REFUND_1, REFUND_2 = 9007199254740993001, 9007199254740993002
PAID_AT = T0 + timedelta(minutes=5)


def pay(s, shop, amount="100.00", quantity=2, now=PAID_AT, order_id=ORDER_ID, **overrides):
    """orders/paid for `quantity` × `amount` of goods (200.00 → 1000 points by default)."""
    settings = current_settings(s, shop.id)
    payload = paid_order(order_id, updated_at=now, name="#1042",
                         lines=overrides.pop("lines", [line(amount, quantity)]), **overrides)
    return record_paid_order(s, shop, parse_order(payload, settings), settings, now)


def deliver(s, shop, payload, now):
    """refunds/create as app/loyalty/events.py applies it (parsed without the order's flag)."""
    settings = current_settings(s, shop.id)
    return reverse_refund(s, shop, parse_refund(payload, settings), settings, now)


def refund_of(s, shop, refund_id, now, order_id=ORDER_ID, **kwargs):
    """refunds/create for an order, delivered once."""
    return deliver(s, shop, refund(refund_id, order_id, **kwargs), now)


def taxed_refund(refund_id, order_id, subtotal, tax):
    """A refund of one line: `subtotal` as Shopify reports it, with `tax` of tax on it."""
    payload = refund(refund_id, order_id, subtotals=[subtotal])
    payload["refund_line_items"][0].update({"total_tax": float(tax), "total_tax_set": money(tax)})
    return payload


def records(s, shop):
    """The shop's recorded refunds as (refund id, order id, eligible, store credit, applied_at)."""
    return [(r.shopify_refund_id, r.shopify_order_id, r.eligible_amount, r.store_credit_amount,
             r.applied_at) for r in s.execute(select(OrderRefund).where(
                 OrderRefund.shop_id == shop.id).order_by(OrderRefund.id)).scalars()]


def reversals(s, shop):
    """The shop's refund reversal entries as (source key, points, note)."""
    return [(e.source_key, e.points, e.note) for e in s.execute(
        select(LedgerEntry).where(LedgerEntry.shop_id == shop.id,
                                  LedgerEntry.kind == "refund_reversal")
        .order_by(LedgerEntry.id)).scalars()]


def balances(member):
    """(available, pending, lifetime) from the cache."""
    return (member.points_available, member.points_pending, member.points_lifetime)


def test_a_refund_after_payment_is_recorded_applied_with_its_amounts(db):
    with db.transaction() as s:
        shop = make_shop(s)
        pay(s, shop)
        later = PAID_AT + timedelta(days=1)
        result = refund_of(s, shop, REFUND_1, later, subtotals=["40.00"], store_credit=True,
                           created_at=later - timedelta(minutes=1))
        assert (result.outcome, result.points) == ("reversed", 200)
        assert records(s, shop) == [(REFUND_1, ORDER_ID, Decimal("40.00"), Decimal("40.00"), later)]
        row = s.execute(select(OrderRefund)).scalar_one()
        assert row.refunded_at == later - timedelta(minutes=1)


def test_a_refund_redelivered_after_payment_under_another_webhook_id_reverses_once(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop)
        payload = refund(REFUND_1, ORDER_ID, subtotals=["100.00"])
        first = deliver(s, shop, payload, PAID_AT)
        again = deliver(s, shop, payload, PAID_AT + timedelta(hours=1))
        assert (first.outcome, again.outcome) == ("reversed", "duplicate")
        assert reversals(s, shop) == [(f"refund:{REFUND_1}", -500, "Refund on order #1042")]
        assert again.order.refunded_amount == Decimal("100.00")
        assert balances(earned.member) == (0, 500, 500)


def test_an_early_refund_delivered_twice_is_counted_and_netted_once(db):
    with db.transaction() as s:
        shop = make_shop(s)
        payload = refund(REFUND_1, ORDER_ID, subtotals=["100.00"])
        first = deliver(s, shop, payload, T0)
        again = deliver(s, shop, payload, T0 + timedelta(minutes=1))
        assert (first.outcome, again.outcome) == ("recorded_before_paid", "duplicate")
        order = s.execute(select(Order)).scalar_one()
        assert (order.status, order.refunded_amount) == ("awaiting_payment", Decimal("100.00"))
        assert records(s, shop) == [(REFUND_1, ORDER_ID, Decimal("100.00"), Decimal("0"), None)]
        earned = pay(s, shop)
        assert reversals(s, shop) == [(f"refund:{REFUND_1}", -500, "Refund on order #1042")]
        assert balances(earned.member) == (0, 500, 500)
        assert records(s, shop)[0][4] == PAID_AT


def test_an_early_refund_redelivered_after_payment_takes_nothing_more(db):
    with db.transaction() as s:
        shop = make_shop(s)
        payload = refund(REFUND_1, ORDER_ID, subtotals=["100.00"])
        deliver(s, shop, payload, T0)
        earned = pay(s, shop)
        again = deliver(s, shop, payload, PAID_AT + timedelta(days=2))
        assert again.outcome == "duplicate"
        assert len(reversals(s, shop)) == 1
        assert again.order.refunded_amount == Decimal("100.00")
        assert balances(earned.member) == (0, 500, 500)


def test_early_refunds_get_one_visible_entry_each_in_the_order_they_arrived(db):
    with db.transaction() as s:
        shop = make_shop(s)
        refund_of(s, shop, REFUND_2, T0, subtotals=["30.00"], store_credit=True)
        refund_of(s, shop, REFUND_1, T0 + timedelta(minutes=1), subtotals=["50.00"])
        earned = pay(s, shop)
        assert reversals(s, shop) == [
            (f"refund:{REFUND_2}", -150, "Refund (store credit) on order #1042"),
            (f"refund:{REFUND_1}", -250, "Refund on order #1042")]
        # Both taken from pending, unlocking with the earn, so nothing spendable is touched.
        unlocks = set(s.execute(select(LedgerEntry.available_at)).scalars())
        assert unlocks == {earned.entry.available_at}
        assert balances(earned.member) == (0, 600, 600)
        assert [r[4] for r in records(s, shop)] == [PAID_AT, PAID_AT]


def test_refunds_take_the_same_points_whether_they_came_before_or_after_payment(db):
    # 10.10 × 5 × 1.25 = 63.125 → 63; two halves floor to 31 each, the second takes the rest.
    taken = {}
    for early in (True, False):
        with db.transaction() as s:
            shop = make_shop(s)
            member = make_member(s, shop, customer_id=CUSTOMER_ID)
            member.tier = "Silver"
            if not early:
                pay(s, shop, amount="10.10", quantity=1)
            refund_of(s, shop, REFUND_1, PAID_AT, subtotals=["5.05"])
            if early:
                pay(s, shop, amount="10.10", quantity=1)
            refund_of(s, shop, REFUND_2, PAID_AT, subtotals=["5.05"])
            taken[early] = [points for _, points, _ in reversals(s, shop)]
            assert balances(member) == (0, 0, 0)
    assert taken == {True: [-31, -32], False: [-31, -32]}


def test_an_early_refund_of_more_than_the_order_reverses_only_what_it_earned(db):
    with db.transaction() as s:
        shop = make_shop(s)
        refund_of(s, shop, REFUND_1, T0, subtotals=["150.00"])
        refund_of(s, shop, REFUND_2, T0, subtotals=["150.00"])
        earned = pay(s, shop)
        assert [points for _, points, _ in reversals(s, shop)] == [-750, -250]
        assert balances(earned.member) == (0, 0, 0)


def test_an_early_refund_of_a_test_order_is_settled_with_nothing_to_take_back(db):
    with db.transaction() as s:
        shop = make_shop(s)
        refund_of(s, shop, REFUND_1, T0, subtotals=["100.00"])
        result = pay(s, shop, test=True)
        assert result.outcome == "test_order"
        assert records(s, shop)[0][4] == PAID_AT
        assert reversals(s, shop) == []


def test_a_refund_of_an_order_cancelled_before_payment_stays_unapplied(db):
    with db.transaction() as s:
        shop = make_shop(s)
        settings = current_settings(s, shop.id)
        facts = parse_order(cancelled_order(ORDER_ID, updated_at=T0), settings)
        void_cancelled_order(s, shop, facts, settings, T0)
        result = refund_of(s, shop, REFUND_1, T0, subtotals=["200.00"])
        assert result.outcome == "nothing_earned"
        assert pay(s, shop).outcome == "cancelled"
        assert records(s, shop) == [(REFUND_1, ORDER_ID, Decimal("200.00"), Decimal("0"), None)]
        assert s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 0


def test_a_paid_order_remembers_whether_its_prices_include_tax(db):
    with db.transaction() as s:
        shop = make_shop(s)
        included = pay(s, shop, lines=[line("110.00", tax="10.00")], taxes_included=True)
        excluded = pay(s, shop, order_id=OTHER_ORDER_ID, lines=[line("100.00", tax="10.00")],
                       taxes_included=False)
        assert (included.order.taxes_included, excluded.order.taxes_included) == (True, False)
        # Either way 100.00 of goods before tax earn.
        assert (included.points, excluded.points) == (500, 500)


def test_a_refund_of_a_tax_inclusive_order_reverses_only_its_share_before_tax(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop, lines=[line("110.00", tax="10.00")], taxes_included=True)
        # 55.00 back, 5.00 of it tax: 50.00 had earned, although the payload does not say so.
        result = deliver(s, shop, taxed_refund(REFUND_1, ORDER_ID, "55.00", "5.00"), PAID_AT)
        assert result.points == 250
        assert records(s, shop)[0][2] == Decimal("50.00")
        assert result.order.refunded_amount == Decimal("50.00")
        assert balances(earned.member) == (0, 250, 250)


def test_a_refund_of_a_tax_exclusive_order_keeps_its_tax_out_too(db):
    with db.transaction() as s:
        shop = make_shop(s)
        pay(s, shop, lines=[line("100.00", tax="10.00")], taxes_included=False)
        result = deliver(s, shop, taxed_refund(REFUND_1, ORDER_ID, "50.00", "5.00"), PAID_AT)
        assert result.points == 250


def test_an_early_refund_is_read_with_the_tax_flag_of_the_shops_latest_order(db):
    with db.transaction() as s:
        shop = make_shop(s)
        pay(s, shop, order_id=OTHER_ORDER_ID, lines=[line("22.00", tax="2.00")],
            taxes_included=True, now=T0)
        deliver(s, shop, taxed_refund(REFUND_1, ORDER_ID, "55.00", "5.00"), T0)
        assert records(s, shop)[0][2] == Decimal("50.00")
        pay(s, shop, lines=[line("110.00", tax="10.00")], taxes_included=True)
        assert reversals(s, shop)[0][1] == -250


def test_a_refund_before_its_order_uses_the_orders_own_tax_treatment(db):
    # An EU shop's first order: prices include 19 % VAT, two lines of 59.50 (9.50 of it VAT),
    # 100.00 before tax earn 500. One line refunded before orders/paid: 50.00 had earned.
    with db.transaction() as s:
        shop = make_shop(s)
        deliver(s, shop, taxed_refund(REFUND_1, ORDER_ID, "59.50", "9.50"), T0)
        earned = pay(s, shop, lines=[line("59.50", 2, tax="19.00")], taxes_included=True)
        assert earned.points == 500
        assert reversals(s, shop) == [(f"refund:{REFUND_1}", -250, "Refund on order #1042")]
        assert earned.order.refunded_amount == Decimal("50.00")
        assert records(s, shop)[0][2] == Decimal("50.00")
        assert balances(earned.member) == (0, 250, 250)
        assert rolling_spend(s, earned.member, current_settings(s, shop.id),
                             PAID_AT) == Decimal("50.00")


def test_a_tax_exclusive_order_in_a_tax_inclusive_shop_settles_its_early_refund_exactly(db):
    with db.transaction() as s:
        shop = make_shop(s)
        pay(s, shop, order_id=OTHER_ORDER_ID, lines=[line("22.00", tax="2.00")],
            taxes_included=True, now=T0)
        # Two lines of 50.00 plus 9.50 tax each: 100.00 earn 500; one line comes back early.
        deliver(s, shop, taxed_refund(REFUND_1, ORDER_ID, "50.00", "9.50"), T0)
        earned = pay(s, shop, lines=[line("50.00", 2, tax="19.00")], taxes_included=False)
        assert earned.points == 500
        assert reversals(s, shop)[-1] == (f"refund:{REFUND_1}", -250, "Refund on order #1042")
        order = s.execute(select(Order).where(Order.shopify_order_id == ORDER_ID)).scalar_one()
        assert order.refunded_amount == Decimal("50.00")
        assert rolling_spend(s, earned.member, current_settings(s, shop.id),
                             PAID_AT) == Decimal("20.00") + Decimal("50.00")


# --- concurrency (PostgreSQL) -----------------------------------------------------------------

def run_concurrently(jobs) -> list:
    """Run callables in threads released together; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(n: int) -> None:
        """Wait for the others, then run job n."""
        barrier.wait()
        try:
            results[n] = jobs[n]()
        except Exception as exc:  # noqa: BLE001 - reported to the test as a result
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def deliver_concurrently(pg, shop_id: int, copies: int) -> list:
    """The same refunds/create delivered by `copies` workers at once; their outcomes."""
    def deliver_one() -> str:
        """One worker applying the delivery in its own transaction."""
        with pg.transaction() as s:
            payload = refund(REFUND_1, ORDER_ID, subtotals=["100.00"])
            return deliver(s, s.get(Shop, shop_id), payload, PAID_AT).outcome

    return run_concurrently([deliver_one] * copies)


def test_concurrent_copies_of_one_refund_reverse_it_once_on_postgresql(pg):
    with pg.transaction() as s:
        shop = make_shop(s)
        pay(s, shop)
        shop_id = shop.id
    outcomes = deliver_concurrently(pg, shop_id, 8)
    assert sorted(outcomes) == ["duplicate"] * 7 + ["reversed"]
    with pg.transaction() as s:
        shop = s.get(Shop, shop_id)
        assert len(records(s, shop)) == 1 and len(reversals(s, shop)) == 1
        assert s.execute(select(Order.refunded_amount)).scalar_one() == Decimal("100.00")
        assert s.execute(select(Member.points_pending)).scalar_one() == 500


def test_concurrent_copies_of_an_early_refund_are_recorded_once_on_postgresql(pg):
    with pg.transaction() as s:
        shop_id = make_shop(s).id
    outcomes = deliver_concurrently(pg, shop_id, 8)
    assert sorted(outcomes) == ["duplicate"] * 7 + ["recorded_before_paid"]
    with pg.transaction() as s:
        assert s.execute(select(Order.refunded_amount)).scalar_one() == Decimal("100.00")
        pay(s, s.get(Shop, shop_id))
        assert s.execute(select(Member.points_pending)).scalar_one() == 500
