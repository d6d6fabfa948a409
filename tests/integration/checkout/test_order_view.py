"""GET /api/checkout/order/<id>: the points this order earns, and whose data comes with them."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import update

from app.loyalty import events
from app.models import Shop
from tests.integration.checkout.conftest import ADA, GRACE, NOW, SHOP, CheckoutShop

ORDER_ID = 820982911946154508
GUEST_ORDER_ID = 820982911946154509


def test_before_orders_paid_the_points_are_a_preview_by_the_same_rules(
        checkout: CheckoutShop) -> None:
    # 2 x 13.50 of goods (shipping 10.00 does not earn): 27.00 x 5 points, Bronze 1x.
    checkout.enrol(ADA)
    checkout.shopify_knows(checkout.order_payload(ORDER_ID, ADA, "13.50", quantity=2))

    body = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()

    # Preview from NOW (2026-11-27 15:00 UTC): pending for 30 days from now.
    assert body["order"] == {"id": str(ORDER_ID), "name": "#55508", "points": 135,
                             "status": "preview", "unlocks_on": "2026-12-27"}
    assert body["member"] == {"first_name": "Ada", "points": {"available": 0, "pending": 0},
                              "tier": {"name": "Bronze", "next": "Silver", "progress": 0.0,
                                       "spend_to_next": "300.00"}}
    assert body["referral"]["url"] == (
        f"https://{SHOP}/?ref={checkout.member(ADA).referral_code}")
    # The survey waits until the order is recorded: an answer must be tied to a known order.
    assert body["nps"] == {"asked": False, "answered": False, "bonus_points": 0}
    assert body["guest"] is None
    assert len(checkout.emulator.shop(SHOP).calls_to("order")) == 1


def test_a_preview_uses_the_members_tier_multiplier(checkout: CheckoutShop) -> None:
    # Silver (1.25x) after 300.00 of spend: the next order's 27.00 earns 168 (168.75 down).
    checkout.pay(checkout.order_payload(ORDER_ID - 1, ADA, "300.00"))
    checkout.shopify_knows(checkout.order_payload(ORDER_ID, ADA, "27.00"))

    order = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()["order"]

    assert (order["points"], order["status"]) == (168, "preview")


def test_after_orders_paid_the_ledger_entry_is_shown_pending_until_the_return_window_closes(
        checkout: CheckoutShop) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))

    body = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()

    assert body["order"]["points"] == 135
    assert body["order"]["status"] == "pending"
    # Paid 2026-11-27 14:00 UTC + 30 days, a date in the shop's New York calendar.
    assert body["order"]["unlocks_on"] == "2026-12-27"
    assert body["member"] == {"first_name": "Ada",
                              "points": {"available": 0, "pending": 135},
                              "tier": {"name": "Bronze", "next": "Silver", "progress": 0.09,
                                       "spend_to_next": "273.00"}}
    assert body["nps"] == {"asked": True, "answered": False, "bonus_points": 50}
    assert body["guest"] is None


def test_the_unlock_date_is_the_shops_calendar_day_not_utcs(checkout: CheckoutShop) -> None:
    # 02:00 UTC on the 28th is still the 27th in New York (UTC-5).
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00",
                                        updated_at="2026-11-27T02:00:00Z"))
    order = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()["order"]
    assert order["unlocks_on"] == "2026-12-26"


def test_once_the_return_window_has_passed_the_points_are_available(
        checkout: CheckoutShop) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    later = (NOW + timedelta(days=31)).replace(tzinfo=UTC)
    checkout.app.extensions["shopify_clock"] = later.timestamp

    body = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()

    assert (body["order"]["points"], body["order"]["status"], body["order"]["unlocks_on"]) == (
        135, "available", None)
    assert body["member"]["points"] == {"available": 135, "pending": 0}


def test_a_refund_of_half_the_order_leaves_half_its_points_pending(
        checkout: CheckoutShop) -> None:
    paid = checkout.order_payload(ORDER_ID, ADA, "27.00", quantity=2)
    checkout.pay(paid)
    refund = checkout.emulator.sample_payload("refunds/create", order=paid,
                                              line_items=[(ORDER_ID * 10, 1)])
    checkout.apply(events.refund_created, refund)

    body = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()

    assert (body["order"]["points"], body["order"]["status"]) == (135, "pending")
    assert body["member"]["points"] == {"available": 0, "pending": 135}


def test_a_fully_refunded_order_shows_its_points_reversed(checkout: CheckoutShop) -> None:
    paid = checkout.order_payload(ORDER_ID, ADA, "27.00")
    checkout.pay(paid)
    refund = checkout.emulator.sample_payload("refunds/create", order=paid,
                                              line_items=[(ORDER_ID * 10, 1)])
    checkout.apply(events.refund_created, refund)

    body = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()

    assert (body["order"]["points"], body["order"]["status"], body["order"]["unlocks_on"]) == (
        135, "reversed", None)
    assert body["member"]["points"] == {"available": 0, "pending": 0}


def test_a_cancelled_order_shows_its_points_reversed(checkout: CheckoutShop) -> None:
    paid = checkout.order_payload(ORDER_ID, ADA, "27.00")
    checkout.pay(paid)
    cancelled = {**paid, "cancelled_at": "2026-11-27T14:30:00Z",
                 "updated_at": "2026-11-27T14:30:00Z"}
    checkout.apply(events.order_cancelled, cancelled)

    order = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()["order"]

    assert (order["points"], order["status"]) == (135, "reversed")


def test_a_test_order_earns_nothing_and_says_so(checkout: CheckoutShop) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00", test=True))

    order = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()["order"]

    assert (order["points"], order["status"], order["unlocks_on"]) == (0, "not_eligible", None)


def test_a_guest_waits_for_orders_paid_without_a_shopify_look_up_then_is_invited_to_claim(
        checkout: CheckoutShop) -> None:
    # A guest's token proves no tie to any order: Shopify is never asked on its behalf.
    payload = checkout.order_payload(GUEST_ORDER_ID, None, "27.00")
    checkout.shopify_knows(payload)

    waiting = checkout.get_order(GUEST_ORDER_ID, checkout.token(customer_id=None))

    assert (waiting.status_code, waiting.get_json()["error"]) == (404, "order_not_ready")
    assert checkout.emulator.shop(SHOP).calls_to("order") == []
    checkout.pay(payload)
    body = checkout.get_order(GUEST_ORDER_ID, checkout.token(customer_id=None)).get_json()
    assert (body["order"]["points"], body["order"]["status"]) == (135, "pending")
    assert body["guest"] == {"claim_url": f"https://{SHOP}/account/register", "points": 135}
    assert (body["member"], body["referral"]) == (None, None)
    assert body["nps"] == {"asked": False, "answered": False, "bonus_points": 0}


def test_a_guest_token_never_sees_the_members_data_of_a_paid_order(
        checkout: CheckoutShop) -> None:
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))

    body = checkout.get_order(ORDER_ID, checkout.token(customer_id=None)).get_json()

    assert (body["member"], body["referral"]) == (None, None)
    assert body["nps"]["asked"] is False
    assert body["guest"] == {"claim_url": f"https://{SHOP}/account/register", "points": 135}


def test_another_customers_token_sees_nothing_of_the_order_not_even_that_it_exists(
        checkout: CheckoutShop) -> None:
    checkout.enrol(GRACE, first_name="Grace")
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))

    response = checkout.get_order(ORDER_ID, checkout.token(GRACE))

    unknown = checkout.get_order(ORDER_ID + 7, checkout.token(GRACE))
    assert (response.status_code, response.get_json()) == (404, {
        "error": "order_not_found", "message": "no such order"})
    assert (unknown.status_code, unknown.get_json()) == (404, response.get_json())
    assert checkout.get_order(ORDER_ID, checkout.token(ADA)).status_code == 200


def test_another_customers_token_gets_no_preview_and_the_look_up_is_remembered(
        checkout: CheckoutShop) -> None:
    checkout.enrol(ADA)
    checkout.enrol(GRACE, first_name="Grace")
    checkout.shopify_knows(checkout.order_payload(ORDER_ID, ADA, "27.00"))

    first = checkout.get_order(ORDER_ID, checkout.token(GRACE))
    again = checkout.get_order(ORDER_ID, checkout.token(GRACE))

    assert [(r.status_code, r.get_json()["error"]) for r in (first, again)] == [
        (404, "order_not_found"), (404, "order_not_found")]
    assert len(checkout.emulator.shop(SHOP).calls_to("order")) == 1
    # The order's own customer is still shown the preview.
    own = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()
    assert (own["order"]["status"], own["member"]["first_name"]) == ("preview", "Ada")


def test_an_order_shopify_does_not_know_is_not_found(checkout: CheckoutShop) -> None:
    response = checkout.get_order(999, checkout.token(ADA))
    assert (response.status_code, response.get_json()["error"]) == (404, "order_not_found")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_order_id_that_is_not_a_number_is_not_found_with_cors(checkout: CheckoutShop) -> None:
    response = checkout.get_order("Order-1001", checkout.token(ADA))
    assert (response.status_code, response.get_json()["error"]) == (404, "order_not_found")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_when_shopify_does_not_answer_the_shopper_is_asked_to_retry(
        checkout: CheckoutShop) -> None:
    checkout.shopify_knows(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    checkout.emulator.fail_next("LoyaltyOrder", "http_503", times=2)

    response = checkout.get_order(ORDER_ID, checkout.token(ADA))

    assert (response.status_code, response.get_json()["error"]) == (503, "shopify_unavailable")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    retried = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()
    assert (retried["order"]["points"], retried["order"]["status"]) == (135, "preview")


def test_no_preview_is_guessed_when_the_shop_counts_shipping(checkout: CheckoutShop) -> None:
    # The Admin API's subtotal leaves shipping out: the points wait for orders/paid instead.
    checkout.save_settings({"earning": {"exclude_shipping": False}})
    checkout.shopify_knows(checkout.order_payload(ORDER_ID, ADA, "27.00"))

    response = checkout.get_order(ORDER_ID, checkout.token(ADA))

    assert (response.status_code, response.get_json()["error"]) == (404, "order_not_ready")
    assert checkout.emulator.shop(SHOP).calls_to("order") == []
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    # 27.00 of goods and 10.00 of shipping.
    assert checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()["order"]["points"] == 185


def test_referrals_switched_off_leave_the_referral_link_out(checkout: CheckoutShop) -> None:
    checkout.save_settings({"referrals": {"enabled": False}})
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))

    body = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()

    assert body["referral"] is None
    assert body["member"]["points"]["pending"] == 135


def test_the_thank_you_page_links_to_the_shops_primary_domain(checkout: CheckoutShop) -> None:
    with checkout.db.transaction() as s:
        s.execute(update(Shop).where(Shop.domain == SHOP).values(primary_domain="tearoom.example"))
    checkout.pay(checkout.order_payload(ORDER_ID, ADA, "27.00"))
    checkout.pay(checkout.order_payload(GUEST_ORDER_ID, None, "27.00"))

    member = checkout.get_order(ORDER_ID, checkout.token(ADA)).get_json()
    guest = checkout.get_order(GUEST_ORDER_ID, checkout.token(customer_id=None)).get_json()

    code = checkout.member(ADA).referral_code
    assert member["referral"]["url"] == f"https://tearoom.example/?ref={code}"
    assert guest["guest"]["claim_url"] == "https://tearoom.example/account/register"
