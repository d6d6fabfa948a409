"""Whatever order Shopify's events arrive in, the ledger stays exact.

Hypothesis generates per-member sequences of paid orders (and their duplicates), refunds
(before or after payment, repeated), cancellations, redemptions, time passing and expiry
sweeps. After every step, each in its own transaction as a worker would run it:
- cached balances equal the ledger's sums (after releasing unlocked points);
- no order earns twice, and the order row agrees with its earn entry;
- the available balance never goes below zero, and a redemption succeeds exactly when the
  available balance covers it;
- an order's reversals (taken plus shortfall) never exceed its earn, and a cancelled or fully
  refunded order has reversed all of it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

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
from app.loyalty.orders import RefundFacts, parse_order
from app.loyalty.program import current_settings, save_settings
from app.loyalty.reversals import REVERSAL_KINDS, reverse_refund, void_cancelled_order
from app.models import LedgerEntry, Member, Order, Shop
from tests.factories import T0, make_shop
from tests.order_payloads import cancelled_order, line, paid_order

CUSTOMER_ID = 501
GUEST_EMAIL = "guest@example.com"
# Order 0 belongs to a customer, order 1 to a guest checking out with an email: few orders,
# so events about the same order meet often.
ORDERS = 2

share = st.sampled_from(["0.1", "0.25", "0.5", "1"])
# One order's events: its payment (maybe delivered twice), refunds (an id may repeat: a
# duplicate delivery) and maybe a cancellation. Listed twice to draw it more often.
order_event = st.one_of(
    st.just(("paid",)), st.just(("paid",)),
    st.tuples(st.just("refund"), st.integers(0, 2), share),
    st.tuples(st.just("refund"), st.integers(0, 2), share),
    st.just(("cancel",)),
)
member_event = st.one_of(
    st.tuples(st.just("redeem"), st.booleans(), st.integers(1, 3000)),
    st.tuples(st.just("wait"), st.integers(1, 45)),
    st.tuples(st.just("expire")),
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    """Order amounts, and every order's story interleaved with member events in any order."""
    amounts = draw(st.lists(st.decimals(min_value=Decimal("0.20"), max_value=Decimal("600"),
                                        places=2), min_size=ORDERS, max_size=ORDERS))
    events = []
    for k in range(ORDERS):
        story = draw(st.lists(order_event, min_size=1, max_size=6))
        events += [(e[0], k, *e[1:]) for e in story]
    events += draw(st.lists(member_event, max_size=6))
    return {"amounts": amounts, "events": draw(st.permutations(events))}


@dataclass
class World:
    """One example's shop, clock and the order amounts it draws."""

    shop_id: int
    amounts: list[Decimal]
    now: datetime = T0
    steps: int = field(default=0)

    def order_id(self, k: int) -> int:
        """A Shopify-sized id for order k of this shop."""
        return 9_000_000_000_000_000_000 + self.shop_id * 10 + k


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
                             lines=[line(str(world.amounts[k]))], name=f"#{1000 + k}")
        record_paid_order(s, shop, parse_order(payload, program), program, world.now)
    elif kind == "refund":
        k, number, share = event[1], event[2], Decimal(event[3])
        amount = (world.amounts[k] * share).quantize(Decimal("0.01"))
        facts = RefundFacts(refund_id=world.order_id(k) * 10 + number,
                            shopify_order_id=world.order_id(k), eligible_amount=amount,
                            line_subtotal=amount, adjustments=Decimal(0),
                            refunded_total=amount, store_credit_amount=Decimal(0),
                            created_at=world.now)
        reverse_refund(s, shop, facts, program, world.now)
    elif kind == "cancel":
        facts = parse_order(cancelled_order(world.order_id(event[1]), updated_at=world.now),
                            program)
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
    for order in s.execute(select(Order).where(Order.shop_id == world.shop_id)).scalars():
        earns, earned = order_sums(s, order, LedgerEntry.kind == "earn_order")
        earned = -earned
        assert earns <= 1
        assert order.points_awarded == earned
        _, reversed_ = order_sums(s, order, LedgerEntry.kind.in_(REVERSAL_KINDS))
        assert 0 <= reversed_ <= earned
        fully_refunded = order.refunded_amount >= order.eligible_amount
        if earns and (order.status == "cancelled" or fully_refunded):
            assert reversed_ == earned


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
        world = World(shop.id, scenario["amounts"])
    for event in scenario["events"]:
        world.steps += 1
        with db.transaction() as s:
            apply(s, world, event)
        with db.transaction() as s:
            check_invariants(s, world)
