"""Issue 4 end to end: signed order webhooks over HTTP → real RQ workers on the real Redis →
ledger, tiers, referrals → customer metafields set in the emulator."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from app.db import utcnow
from app.loyalty.ledger import ledger_balances
from app.models import LedgerEntry, Member, Referral, Shop, WebhookEvent
from app.pipeline.jobs import daily_round
from devstore.storefront import PAGE_PATH, create_storefront_app
from devstore.web import CUSTOMER_COOKIE
from tests.e2e.conftest import SHOP

CUSTOMER = 7001


def _install(running) -> None:
    """Installed through OAuth, then the merchant launches the program."""
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        browser.get(f"{running.url}/auth/install", params={"shop": SHOP})
    running.launch_program()


def _order(emulator, order_id: int, customer_id: int, price: str, quantity: int = 1, **extra):
    # Paid now: the return window (and so the pending period) starts at the order's update.
    now = utcnow().isoformat() + "Z"
    extra.setdefault("updated_at", now)
    extra.setdefault("created_at", now)
    return emulator.sample_payload(
        "orders/paid", shop=SHOP, order_id=order_id, customer_id=customer_id,
        email=extra.pop("email", f"c{customer_id}@example.com"),
        first_name=extra.pop("first_name", "Ada"),
        line_items=[{"id": order_id * 10, "title": "Tea", "price": price, "quantity": quantity,
                     "product_id": 1}], test=False, **extra)


def _member(db, customer_id: int) -> Member:
    with db.sessions() as s:
        return s.execute(select(Member).where(Member.customer_id == customer_id)).scalar_one()


def _assert_cache_equals_ledger(db, member_id: int) -> None:
    with db.sessions() as s:
        member = s.get(Member, member_id)
        sums = ledger_balances(s, member_id, utcnow())
        assert (member.points_available, member.points_pending, member.points_lifetime) == (
            sums.available, sums.pending, sums.lifetime)


def _metafields(emulator, customer_id: int) -> dict[str, str]:
    owner = f"gid://shopify/Customer/{customer_id}"
    return {key: m.value for (o, _ns, key), m in emulator.shop(SHOP).metafields.items()
            if o == owner}


def test_a_paid_order_earns_pending_points_and_sets_the_customers_metafields(
        serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    _install(running)
    status, _ = emulator.send_webhook(SHOP, "orders/paid", _order(emulator, 501, CUSTOMER, "40.00"))
    assert status == 200
    running.work()
    member = _member(running.db, CUSTOMER)
    # 40.00 of goods, shipping excluded, 5 points per unit, Bronze 1x.
    assert (member.points_pending, member.points_available, member.tier) == (200, 0, "Bronze")
    assert _metafields(emulator, CUSTOMER) == {
        "points": "0", "pending": "200", "tier": "Bronze",
        "pending_until": (member.next_unlock_at.date().isoformat())}
    _assert_cache_equals_ledger(running.db, member.id)


def test_duplicates_refunds_and_cancellations_through_the_workers_leave_exact_balances(
        serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    _install(running)
    paid = _order(emulator, 601, CUSTOMER, "50.00", quantity=2)
    emulator.deliver(SHOP, [("orders/paid", paid)], duplicate=3)
    emulator.send_webhook(SHOP, "orders/paid", paid)  # a redelivery under a new webhook id
    running.work()
    assert _member(running.db, CUSTOMER).points_pending == 500

    # One of the two items comes back: half the order, so half its points.
    refund = emulator.sample_payload("refunds/create", order=paid, line_items=[(6010, 1)])
    emulator.send_webhook(SHOP, "refunds/create", refund)
    running.work()
    after_refund = _member(running.db, CUSTOMER).points_pending
    assert after_refund == 250

    second = _order(emulator, 602, CUSTOMER, "20.00")
    emulator.send_webhook(SHOP, "orders/paid", second)
    running.work()
    cancelled = _order(emulator, 602, CUSTOMER, "20.00")
    cancelled["cancelled_at"] = cancelled["updated_at"]
    emulator.send_webhook(SHOP, "orders/cancelled", cancelled)
    running.work()
    member = _member(running.db, CUSTOMER)
    assert member.points_pending == 250
    assert _metafields(emulator, CUSTOMER)["pending"] == "250"
    with running.db.sessions() as s:
        kinds = [e.kind for e in s.execute(select(LedgerEntry).where(
            LedgerEntry.member_id == member.id).order_by(LedgerEntry.id)).scalars()]
        events = s.execute(select(WebhookEvent)).scalars().all()
    assert kinds == ["earn_order", "refund_reversal", "earn_order", "cancel_reversal"]
    assert all(e.processed_at is not None for e in events)
    _assert_cache_equals_ledger(running.db, member.id)


def test_a_referral_from_the_share_link_pays_the_referrer_after_the_return_window(
        serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    _install(running)
    emulator.send_webhook(SHOP, "customers/create", emulator.sample_payload(
        "customers/create", customer_id=CUSTOMER, email="ada@example.com", first_name="Ada"))
    running.work()
    advocate = _member(running.db, CUSTOMER)
    code = advocate.referral_code
    # The friend's reward: the advocate's code is a Shopify discount, 10% off, once per customer.
    friend_offer = emulator.shop(SHOP).discounts[code]
    assert friend_offer.value == {"percentage": 0.1}
    assert (friend_offer.customer_ids, friend_offer.usage_limit,
            friend_offer.applies_once_per_customer) == (None, None, True)
    # The share link's ?ref= travels into the cart attributes, and the friend uses the code.
    friend_order = _order(emulator, 701, 8001, "60.00", email="grace@other.example",
                          first_name="Grace", note_attributes={"loyalty_ref": code},
                          discount_codes=[code], browser_ip="203.0.113.9")
    emulator.send_webhook(SHOP, "orders/paid", friend_order)
    running.work()
    with running.db.sessions() as s:
        referral = s.execute(select(Referral)).scalar_one()
        assert (referral.status, referral.referrer_id) == ("pending", advocate.id)
        shop_id = s.execute(select(Shop.id)).scalar_one()
    assert _member(running.db, 8001).points_pending > 0

    daily_round(running.runtime, shop_id, (utcnow() + timedelta(days=31)).isoformat())
    running.work()
    with running.db.sessions() as s:
        referral = s.execute(select(Referral)).scalar_one()
        assert referral.status == "rewarded"
    advocate = _member(running.db, CUSTOMER)
    assert advocate.points_available == 250 + 500
    assert _metafields(emulator, CUSTOMER)["points"] == "750"


def test_a_self_referral_is_rejected_with_its_reason(serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    _install(running)
    emulator.send_webhook(SHOP, "customers/create", emulator.sample_payload(
        "customers/create", customer_id=CUSTOMER, email="ada.lovelace@gmail.com"))
    running.work()
    code = _member(running.db, CUSTOMER).referral_code
    # The same person under a Gmail alias, as a "friend".
    emulator.send_webhook(SHOP, "orders/paid", _order(
        emulator, 801, 9001, "30.00", email="adalovelace+deal@gmail.com",
        note_attributes={"loyalty_ref": code}))
    running.work()
    with running.db.sessions() as s:
        referral = s.execute(select(Referral)).scalar_one()
    assert (referral.status, referral.reason) == ("rejected", "self_referral")


def _storefront_pages(emulator) -> list[str]:
    """The storefront's home (app embed) and loyalty page (app block) as Shopify renders them
    for a logged-in customer, from the app-data metafields the app set."""
    with create_storefront_app(emulator, SHOP).test_client() as storefront:
        return [storefront.get(path, query_string={"customer_id": CUSTOMER}).get_data(
            as_text=True) for path in (PAGE_PATH, f"{PAGE_PATH}/loyalty")]


def _program_state_metafield(emulator) -> str | None:
    with emulator.lock:
        state = emulator.shop(SHOP)
        return next((mf.value for (owner, ns, key), mf in state.metafields.items()
                     if owner == state.installation_gid and key == "program_state"), None)


def test_a_new_install_is_a_draft_that_shows_and_credits_nothing_until_the_merchant_launches(
        serve_app, emulator, redis_url):
    emulator.add_shop(SHOP)
    running = serve_app(redis_url=redis_url)
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        browser.get(f"{running.url}/auth/install", params={"shop": SHOP})
    emulator.send_webhook(SHOP, "customers/create", emulator.sample_payload(
        "customers/create", customer_id=CUSTOMER, email="ada@example.com", first_name="Ada"))
    emulator.send_webhook(SHOP, "orders/paid", _order(emulator, 801, CUSTOMER, "40.00"))
    running.work()
    storefront = f"{emulator.base_url}/{SHOP}/apps/loyalty"
    cookies = {CUSTOMER_COOKIE: str(CUSTOMER)}
    draft_member = httpx.get(f"{storefront}/member", cookies=cookies, timeout=10)
    draft_program = httpx.get(f"{storefront}/program", timeout=10)
    draft = _member(running.db, CUSTOMER)
    draft_pages = _storefront_pages(emulator)

    running.launch_program()
    # Shopify delivers the draft order again, and a new one is paid.
    emulator.send_webhook(SHOP, "orders/paid", _order(emulator, 801, CUSTOMER, "40.00"))
    emulator.send_webhook(SHOP, "orders/paid", _order(emulator, 802, CUSTOMER, "30.00"))
    running.work()
    live_member = httpx.get(f"{storefront}/member", cookies=cookies, timeout=10)
    live_pages = _storefront_pages(emulator)

    assert (draft.points_available, draft.points_pending) == (0, 0)
    assert [(r.status_code, r.json()["error"]) for r in (draft_member, draft_program)] == [
        (404, "program_not_live")] * 2
    # Only the order paid after the launch earns: 30.00 × 5.
    assert live_member.status_code == 200
    assert live_member.json()["points"]["pending"] == 150
    assert [a["points"] for a in live_member.json()["activity"]] == [150]
    # The theme renders no launcher and no loyalty page block in draft: the install told
    # Shopify so (app-data metafield program_state), and the launch told it again.
    home, loyalty_page = live_pages
    assert [page.count("data-ll-root") for page in draft_pages] == [0, 0]
    assert "ll--embed" in home and "data-ll-page" in loyalty_page
    assert _program_state_metafield(emulator) == "live"
    _assert_cache_equals_ledger(running.db, _member(running.db, CUSTOMER).id)
