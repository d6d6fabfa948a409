"""Whatever order Shopify's events arrive in, the ledger stays exact.

Hypothesis generates per-member sequences of paid orders (and their duplicates), refunds
(before or after payment, often delivered twice, the copies landing anywhere in the sequence),
cancellations, redemptions, time passing and expiry sweeps. Refunds go through parse_refund
and reverse_refund exactly as the refunds/create handler calls them. After every step, each
in its own transaction as a worker would run it:
- cached balances equal the ledger's sums (after releasing unlocked points);
- no order earns twice, and the order row agrees with its earn entry;
- the available balance never goes below zero, and a redemption succeeds exactly when the
  available balance covers it;
- an order's reversals (taken plus shortfall) never exceed its earn, and a cancelled or fully
  refunded order has reversed all of it;
- every distinct refund is recorded once; once its order is paid, with its exact amount before
  tax whether the order's prices include tax or not (a refund payload does not say, and may
  arrive before the order), the order's refunded amount being their exact sum; a refund is
  applied exactly when its order has been paid;
- an order that earned has one reversal entry per distinct refund, and they took exactly the
  sum of each refund's floored share (capped at the earn), however often and whenever the
  refunds were delivered.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.loyalty.earning import record_paid_order
from app.loyalty.expiry import expire_inactive_points
from app.loyalty.ledger import (
    InsufficientPoints,
    debit_available,
    ledger_balances,
    release_unlocked,
)
from app.loyalty.members import guest_member, member_for_customer
from app.loyalty.orders import parse_order, parse_refund
from app.loyalty.program import current_settings, save_settings
from app.loyalty.reversals import REVERSAL_KINDS, reverse_refund, void_cancelled_order
from app.models import LedgerEntry, Member, Order, OrderRefund, Shop
from tests.support.factories import T0, make_shop
from tests.support.order_payloads import cancelled_order, line, money, paid_order, refund

CUSTOMER_ID = 501
GUEST_EMAIL = "guest@example.com"
# Order 0 belongs to a customer, order 1 to a guest checking out with an email: few orders,
# so events about the same order meet often.
ORDERS = 2
# Each order has up to this many distinct refunds, each always for the same share of it.
REFUNDS = 3

share = st.sampled_from(["0.1", "0.25", "0.5", "1"])
# One order's events: its payment (maybe delivered twice), refunds (the same refund may be
# drawn again, or delivered twice on purpose: a redelivery under another webhook id) and maybe
# a cancellation. Listed twice to draw it more often.
order_event = st.one_of(
    st.just(("paid",)), st.just(("paid",)),
    st.tuples(st.just("refund"), st.integers(0, REFUNDS - 1), st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, REFUNDS - 1), st.booleans()),
    st.just(("cancel",)),
)
member_event = st.one_of(
    st.tuples(st.just("redeem"), st.booleans(), st.integers(1, 3000)),
    st.tuples(st.just("wait"), st.integers(1, 45)),
    st.tuples(st.just("expire")),
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    """Order amounts and refund shares, and every order's story interleaved with member events.

    A refund drawn with `twice` is delivered twice; the permutation puts the copies anywhere,
    so one may come before the payment and the other after it.
    """
    amounts = draw(st.lists(st.decimals(min_value=Decimal("0.20"), max_value=Decimal("600"),
                                        places=2), min_size=ORDERS, max_size=ORDERS))
    shares = draw(st.lists(st.lists(share, min_size=REFUNDS, max_size=REFUNDS),
                           min_size=ORDERS, max_size=ORDERS))
    # Whether each order's prices include its 10 % tax: the two orders of a shop may differ.
    taxes_included = draw(st.lists(st.booleans(), min_size=ORDERS, max_size=ORDERS))
    events = []
    for k in range(ORDERS):
        for e in draw(st.lists(order_event, min_size=1, max_size=6)):
            if e[0] == "refund":
                events += [("refund", k, e[1])] * (2 if e[2] else 1)
            else:
                events.append((e[0], k))
    events += draw(st.lists(member_event, max_size=6))
    return {"amounts": amounts, "shares": shares, "taxes_included": taxes_included,
            "events": draw(st.permutations(events))}


@dataclass
class World:
    """One example's shop, clock, the amounts it draws and the refunds delivered so far."""

    shop_id: int
    amounts: list[Decimal]
    shares: list[list[str]]
    taxes_included: list[bool]
    now: datetime = T0
    steps: int = field(default=0)
    delivered: set[tuple[int, int]] = field(default_factory=set)

    def order_id(self, k: int) -> int:
        """A Shopify-sized id for order k of this shop."""
        return 9_000_000_000_000_000_000 + self.shop_id * 10 + k

    def refund_id(self, k: int, number: int) -> int:
        """A Shopify-sized id for refund `number` of order k (beyond 2^53, within 2^63)."""
        return 8_000_000_000_000_000_000 + self.shop_id * 100 + k * 10 + number

    def refund_amount(self, k: int, number: int) -> Decimal:
        """What refund `number` of order k gives back: always the same share of the order."""
        return (self.amounts[k] * Decimal(self.shares[k][number])).quantize(Decimal("0.01"))

    def tax(self, k: int, amount: Decimal) -> Decimal:
        """10 % tax on an amount before tax."""
        return (amount / 10).quantize(Decimal("0.01"))

    def order_line(self, k: int) -> dict:
        """Order k's one line: its amount before tax, plus the tax when prices include it."""
        tax = self.tax(k, self.amounts[k])
        price = self.amounts[k] + tax if self.taxes_included[k] else self.amounts[k]
        return line(str(price), tax=str(tax))

    def refund_payload(self, k: int, number: int) -> dict:
        """refunds/create as Shopify sends it: the line's subtotal and, apart, its tax."""
        amount = self.refund_amount(k, number)
        tax = self.tax(k, amount)
        payload = refund(self.refund_id(k, number), self.order_id(k),
                         subtotals=[str(amount + tax if self.taxes_included[k] else amount)],
                         created_at=self.now)
        payload["refund_line_items"][0].update({"total_tax": float(tax),
                                                "total_tax_set": money(str(tax))})
        return payload

    def refunds_of(self, k: int) -> dict[int, Decimal]:
        """The distinct refunds of order k delivered so far: id → amount."""
        return {self.refund_id(j, n): self.refund_amount(j, n)
                for j, n in sorted(self.delivered) if j == k}


def apply(s, world: World, event: tuple) -> None:
    """Apply one generated event the way its webhook handler or job would."""
    shop = s.get(Shop, world.shop_id)
    program = current_settings(s, shop.id)
    kind = event[0]
    if kind == "paid":
        k = event[1]
        payload = paid_order(world.order_id(k), updated_at=world.now,
                             customer_id=CUSTOMER_ID if k == 0 else None,
                             email="ada@example.com" if k == 0 else GUEST_EMAIL,
                             lines=[world.order_line(k)], name=f"#{1000 + k}",
                             taxes_included=world.taxes_included[k])
        record_paid_order(s, shop, parse_order(payload, program), program, world.now)
    elif kind == "refund":
        k, number = event[1], event[2]
        payload = world.refund_payload(k, number)
        reverse_refund(s, shop, parse_refund(payload, program), program, world.now)
        world.delivered.add((k, number))
    elif kind == "cancel":
        k = event[1]
        facts = parse_order(cancelled_order(world.order_id(k), updated_at=world.now,
                                            lines=[world.order_line(k)],
                                            taxes_included=world.taxes_included[k]), program)
        void_cancelled_order(s, shop, facts, program, world.now)
    elif kind == "redeem":
        member = (member_for_customer(s, shop, CUSTOMER_ID) if event[1]
                  else guest_member(s, shop, GUEST_EMAIL))
        if member is None:
            return
        release_unlocked(s, member, world.now)
        available = member.points_available
        try:
            with s.begin_nested():
                debit_available(s, member, points=event[2], kind="redeem",
                                source_key=f"redeem:{world.steps}", now=world.now)
        except InsufficientPoints:
            assert event[2] > available
        else:
            assert event[2] <= available
    elif kind == "wait":
        world.now += timedelta(days=event[1])
    elif kind == "expire":
        expire_inactive_points(s, shop, program, world.now)


def check_invariants(s, world: World) -> None:
    """Everything the module docstring promises, for every member and order of the shop."""
    members = s.execute(select(Member).where(Member.shop_id == world.shop_id)).scalars().all()
    for member in members:
        release_unlocked(s, member, world.now)
        sums = ledger_balances(s, member.id, world.now)
        assert (member.points_available, member.points_pending, member.points_lifetime) == (
            sums.available, sums.pending, sums.lifetime)
        assert member.points_available >= 0
    for k in range(ORDERS):
        order = s.execute(select(Order).where(
            Order.shop_id == world.shop_id,
            Order.shopify_order_id == world.order_id(k))).scalar_one_or_none()
        if order is not None:
            check_order(s, world, k, order)
        else:
            assert world.refunds_of(k) == {}


def check_order(s, world: World, k: int, order: Order) -> None:
    """One order's earn, refunds and reversals are exact."""
    earns, earned = order_sums(s, order, LedgerEntry.kind == "earn_order")
    earned = -earned
    assert earns <= 1
    assert order.points_awarded == earned
    _, reversed_ = order_sums(s, order, LedgerEntry.kind.in_(REVERSAL_KINDS))
    assert 0 <= reversed_ <= earned
    # Every distinct refund once, with its amount, however often it was delivered.
    expected = world.refunds_of(k)
    rows = s.execute(select(OrderRefund).where(
        OrderRefund.shop_id == world.shop_id,
        OrderRefund.shopify_order_id == order.shopify_order_id)).scalars().all()
    assert {r.shopify_refund_id for r in rows} == set(expected)
    if order.paid_at is not None:
        # Read with the order's own taxes_included, whenever the refund arrived.
        assert {r.shopify_refund_id: r.eligible_amount for r in rows} == expected
    assert order.refunded_amount == sum((r.eligible_amount for r in rows), Decimal(0))
    assert all((r.applied_at is not None) == (order.paid_at is not None) for r in rows)
    if not earns:
        assert reversed_ == 0
        return
    refund_entries = s.execute(select(LedgerEntry).where(
        LedgerEntry.shop_id == world.shop_id, LedgerEntry.order_id == order.shopify_order_id,
        LedgerEntry.kind == "refund_reversal")).scalars().all()
    assert sorted(e.source_key for e in refund_entries) == sorted(
        f"refund:{refund_id}" for refund_id in expected)
    fully_refunded = order.refunded_amount >= order.eligible_amount
    if order.status == "cancelled" or fully_refunded:
        assert reversed_ == earned
    else:
        earn = s.execute(select(LedgerEntry).where(
            LedgerEntry.shop_id == world.shop_id, LedgerEntry.order_id == order.shopify_order_id,
            LedgerEntry.kind == "earn_order")).scalar_one()
        shares = sum(int((amount * earn.rate * earn.multiplier).to_integral_value(ROUND_FLOOR))
                     for amount in expected.values())
        assert reversed_ == min(shares, earned)


def order_sums(s, order: Order, kinds) -> tuple[int, int]:
    """How many of the order's entries match, and the sum of their shortfall minus points."""
    count, total = s.execute(select(func.count(), func.coalesce(func.sum(
        LedgerEntry.shortfall - LedgerEntry.points), 0)).where(
        LedgerEntry.shop_id == order.shop_id,
        LedgerEntry.order_id == order.shopify_order_id, kinds)).one()
    return int(count), int(total)


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenario=scenarios())
def test_the_ledger_stays_exact_under_any_sequence_of_events(db, scenario):
    with db.transaction() as s:
        shop = make_shop(s)
        save_settings(s, shop.id, {"pending_days": 10, "expiry_months": 1},
                      changed_by="test", now=T0)
        world = World(shop.id, scenario["amounts"], scenario["shares"],
                      scenario["taxes_included"])
    for event in scenario["events"]:
        world.steps += 1
        with db.transaction() as s:
            apply(s, world, event)
        with db.transaction() as s:
            check_invariants(s, world)
