"""Paid orders earn one pending lot each, at the rate and tier that applied, exactly once."""

import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.loyalty.earning import preview_order_points, record_order_update, record_paid_order
from app.loyalty.members import enrol
from app.loyalty.orders import parse_order, parse_refund
from app.loyalty.program import current_settings, save_settings
from app.loyalty.reversals import reverse_refund, void_cancelled_order
from app.models import LedgerEntry, Member, Order, Shop, TierChange
from tests.support.factories import T0, make_member, make_shop
from tests.support.order_payloads import cancelled_order, line, paid_order, refund

ORDER_ID = 820982911946154500
CUSTOMER_ID = 115310627314723950


def pay(s, shop, payload, now=T0):
    """Apply an orders/paid payload with the shop's current settings."""
    settings = current_settings(s, shop.id)
    return record_paid_order(s, shop, parse_order(payload, settings), settings, now)


def count(s, model) -> int:
    """How many rows a table holds."""
    return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_sample_order_earns_five_points_per_unit_pending_for_thirty_days(db):
    with db.transaction() as s:
        shop = make_shop(s)
        result = pay(s, shop, paid_order(updated_at=T0))
        assert result.outcome == "earned"
        # 414.95 of goods × 5 = 2074.75, rounded down once.
        assert result.points == 2074
        entry = result.entry
        assert (entry.kind, entry.points, entry.source_key) == (
            "earn_order", 2074, f"order:{ORDER_ID}:earn")
        assert (entry.rate, entry.multiplier, entry.amount) == (
            Decimal("5"), Decimal("1"), Decimal("414.95"))
        assert entry.available_at == T0 + timedelta(days=30)
        assert entry.note == "Order #9999"
        member = result.member
        assert (member.customer_id, member.email) == (CUSTOMER_ID, "john@example.com")
        assert (member.points_available, member.points_pending, member.points_lifetime) == (
            0, 2074, 2074)
        order = result.order
        assert (order.status, order.member_id, order.points_awarded) == ("paid", member.id, 2074)
        assert order.eligible_amount == Decimal("414.95")
        assert order.admin_graphql_id == f"gid://shopify/Order/{ORDER_ID}"
        assert order.paid_at == T0


def test_the_order_that_lifts_a_member_into_a_tier_earns_at_the_tier_held_before_it(db):
    with db.transaction() as s:
        shop = make_shop(s)
        result = pay(s, shop, paid_order(updated_at=T0))
        assert result.entry.multiplier == Decimal("1")
        assert (result.tier_change.from_tier, result.tier_change.to_tier) == (None, "Silver")
        assert result.member.tier == "Silver"


def test_a_gold_member_earns_one_and_a_half_times(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop, customer_id=CUSTOMER_ID)
        member.tier, member.tier_since = "Gold", T0
        result = pay(s, shop, paid_order(updated_at=T0))
        # 414.95 × 5 × 1.5 = 3112.125
        assert result.points == 3112
        assert result.entry.multiplier == Decimal("1.5")


def test_a_duplicate_paid_delivery_earns_once(db):
    with db.transaction() as s:
        shop = make_shop(s)
        first = pay(s, shop, paid_order(updated_at=T0))
        again = pay(s, shop, paid_order(updated_at=T0), now=T0 + timedelta(minutes=5))
        assert (first.outcome, again.outcome) == ("earned", "already_earned")
        assert again.points == 2074
        assert count(s, LedgerEntry) == 1
        assert first.member.points_pending == 2074


def test_a_paid_delivery_after_the_cancellation_earns_nothing(db):
    with db.transaction() as s:
        shop = make_shop(s)
        settings = current_settings(s, shop.id)
        cancel = parse_order(cancelled_order(updated_at=T0 + timedelta(hours=1)), settings)
        assert void_cancelled_order(s, shop, cancel, settings, T0).outcome == (
            "cancelled_before_paid")
        late = pay(s, shop, paid_order(updated_at=T0), now=T0 + timedelta(hours=2))
        assert late.outcome == "cancelled"
        assert count(s, LedgerEntry) == 0
        assert count(s, Member) == 0
        order = s.execute(select(Order)).scalar_one()
        assert (order.status, order.points_awarded) == ("cancelled", 0)
        assert order.shopify_updated_at == T0 + timedelta(hours=1)


def test_a_paid_payload_that_is_already_cancelled_earns_nothing(db):
    with db.transaction() as s:
        shop = make_shop(s)
        result = pay(s, shop, cancelled_order(updated_at=T0))
        assert result.outcome == "cancelled"
        assert count(s, LedgerEntry) == 0


def test_test_orders_earn_nothing_unless_the_shop_opts_in(db):
    with db.transaction() as s:
        shop = make_shop(s)
        skipped = pay(s, shop, paid_order(1, updated_at=T0, test=True))
        assert skipped.outcome == "test_order"
        assert skipped.order.test is True
        assert count(s, Member) == 0 and count(s, LedgerEntry) == 0
        save_settings(s, shop.id, {"earning": {"test_orders_earn": True}}, changed_by="staff",
                      now=T0)
        counted = pay(s, shop, paid_order(2, updated_at=T0, test=True))
        assert (counted.outcome, counted.points) == ("earned", 2074)


def test_a_guest_earns_by_email_and_keeps_the_points_when_the_account_is_created(db):
    with db.transaction() as s:
        shop = make_shop(s)
        result = pay(s, shop, paid_order(customer_id=None, email="Guest@Example.com",
                                         updated_at=T0))
        guest = result.member
        assert (guest.customer_id, guest.email, guest.points_pending) == (
            None, "guest@example.com", 2074)
        # customers/create for the same email (what the webhook handler calls):
        customer = enrol(s, shop, now=T0 + timedelta(days=1), customer_id=4242,
                         email="guest@example.com", first_name="Grace")
        assert customer.id == guest.id
        assert (customer.customer_id, customer.points_pending) == (4242, 2074)
        assert s.execute(select(Order.member_id)).scalar_one() == customer.id


def test_an_order_without_customer_or_email_earns_nothing(db):
    with db.transaction() as s:
        shop = make_shop(s)
        payload = paid_order(customer_id=None, updated_at=T0)
        payload["email"] = payload["contact_email"] = None
        result = pay(s, shop, payload)
        assert result.outcome == "no_member"
        assert count(s, LedgerEntry) == 0


def test_an_order_of_only_gift_cards_earns_nothing(db):
    with db.transaction() as s:
        shop = make_shop(s)
        result = pay(s, shop, paid_order(updated_at=T0, lines=[line("50.00", gift_card=True)]))
        assert (result.outcome, result.points) == ("nothing_eligible", 0)
        assert count(s, LedgerEntry) == 0


def test_a_new_earn_rate_applies_to_orders_paid_after_the_change(db):
    with db.transaction() as s:
        shop = make_shop(s)
        before = pay(s, shop, paid_order(1, updated_at=T0, lines=[line("100.00")]))
        save_settings(s, shop.id, {"earning": {"points_per_unit": "10"}}, changed_by="staff",
                      now=T0)
        after = pay(s, shop, paid_order(2, updated_at=T0, lines=[line("100.00")]))
        assert (before.points, after.points) == (500, 1000)
        assert s.get(LedgerEntry, before.entry.id).rate == Decimal("5")


def test_points_unlock_after_the_pending_period(db):
    with db.transaction() as s:
        shop = make_shop(s)
        save_settings(s, shop.id, {"pending_days": 14}, changed_by="staff", now=T0)
        result = pay(s, shop, paid_order(updated_at=T0, lines=[line("10.00")]))
        assert result.entry.available_at == T0 + timedelta(days=14)
        assert result.member.next_unlock_at == T0 + timedelta(days=14)


def test_the_thank_you_preview_matches_what_the_order_then_earns_and_writes_nothing(db):
    with db.transaction() as s:
        shop = make_shop(s)
        settings = current_settings(s, shop.id)
        facts = parse_order(paid_order(updated_at=T0), settings)
        preview = preview_order_points(s, shop, facts, settings, T0)
        assert (preview.points, preview.status, preview.tier) == (2074, "preview", "Bronze")
        assert preview.available_at == T0 + timedelta(days=30)
        assert count(s, Order) == 0 and count(s, Member) == 0
        record_paid_order(s, shop, facts, settings, T0)
        recorded = preview_order_points(s, shop, facts, settings, T0 + timedelta(hours=1))
        assert (recorded.points, recorded.status) == (2074, "pending")
        assert recorded.available_at == T0 + timedelta(days=30)
        assert count(s, TierChange) == 1


def test_the_preview_uses_the_members_tier(db):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop, customer_id=CUSTOMER_ID)
        member.tier = "Silver"
        settings = current_settings(s, shop.id)
        preview = preview_order_points(s, shop, parse_order(paid_order(), settings), settings, T0)
        # 414.95 × 5 × 1.25 = 2593.4375
        assert (preview.points, preview.multiplier) == (2593, Decimal("1.25"))


def test_orders_updated_refreshes_newer_details_and_voids_when_it_carries_a_cancellation(db):
    with db.transaction() as s:
        shop = make_shop(s)
        earned = pay(s, shop, paid_order(updated_at=T0))
        settings = current_settings(s, shop.id)
        later = T0 + timedelta(days=1)
        newer = parse_order(paid_order(updated_at=later, email="new@example.com"), settings)
        stale = parse_order(paid_order(updated_at=T0 - timedelta(hours=1),
                                       email="old@example.com"), settings)
        assert record_order_update(s, shop, newer, settings, later) == "updated"
        assert record_order_update(s, shop, stale, settings, later) == "stale"
        assert earned.order.email == "new@example.com"
        cancel = parse_order(cancelled_order(updated_at=later + timedelta(hours=1)), settings)
        assert record_order_update(s, shop, cancel, settings, later) == "reversed"
        assert earned.member.points_pending == 0
        unknown = parse_order(paid_order(5, updated_at=later), settings)
        assert record_order_update(s, shop, unknown, settings, later) == "unknown_order"


def test_the_preview_credits_the_guest_an_order_would_claim(db):
    with db.transaction() as s:
        shop = make_shop(s)
        guest = enrol(s, shop, now=T0, customer_id=None, email="john@example.com")
        guest.tier = "Gold"
        settings = current_settings(s, shop.id)
        preview = preview_order_points(s, shop, parse_order(paid_order(), settings), settings, T0)
        assert (preview.tier, preview.points) == ("Gold", 3112)


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


def test_concurrent_duplicate_deliveries_earn_once_on_postgresql(pg):
    with pg.transaction() as s:
        shop_id = make_shop(s).id

    def deliver() -> str:
        """One worker applying the same orders/paid delivery."""
        with pg.transaction() as s:
            return pay(s, s.get(Shop, shop_id), paid_order(updated_at=T0)).outcome

    outcomes = run_concurrently([deliver] * 8)
    assert sorted(outcomes) == ["already_earned"] * 7 + ["earned"]
    with pg.transaction() as s:
        assert count(s, LedgerEntry) == 1
        assert s.execute(select(Member.points_pending)).scalar_one() == 2074


def test_a_refund_racing_its_payment_nets_the_same_either_way_on_postgresql(pg):
    with pg.transaction() as s:
        shop_id = make_shop(s).id

    def deliver_paid() -> str:
        """The worker applying orders/paid."""
        with pg.transaction() as s:
            payload = paid_order(updated_at=T0, lines=[line("100.00", 2)])
            return pay(s, s.get(Shop, shop_id), payload).outcome

    def deliver_refund() -> str:
        """The worker applying refunds/create for half the order."""
        with pg.transaction() as s:
            shop = s.get(Shop, shop_id)
            settings = current_settings(s, shop_id)
            facts = parse_refund(refund(1, ORDER_ID, subtotals=["100.00"]), settings)
            return reverse_refund(s, shop, facts, settings, T0).outcome

    outcomes = run_concurrently([deliver_paid, deliver_refund])
    assert outcomes[0] == "earned"
    assert outcomes[1] in {"reversed", "recorded_before_paid"}
    with pg.transaction() as s:
        member = s.execute(select(Member)).scalar_one()
        assert (member.points_pending, member.points_lifetime) == (500, 500)
