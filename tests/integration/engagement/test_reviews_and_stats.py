"""Reviews are stored once per product per member and shown once approved; each flow's numbers
(sends, suppressions by reason, opens, clicks, orders within 7 days) are counted exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.engagement.reviews import InvalidReview, approve_review, submit_review
from app.engagement.stats import flow_stats
from app.models import LedgerEntry, Member
from app.models.review import Review
from tests.integration.engagement.conftest import CUPS, T0, TEA, days
from tests.integration.proxy.test_proxy import proxy_query
from tests.support.order_payloads import money
from tests.support.smtp_fixture import body_html, body_text

ADA, GRACE = 9001, 9002
ADA_EMAIL, GRACE_EMAIL = "ada@example.com", "grace@example.com"
SHOP = "tea-and-co.myshopify.com"


def test_a_member_reviews_each_product_once_and_only_products_they_bought(shopfront):
    ada = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    grace = shopfront.customer(GRACE, GRACE_EMAIL, "Grace")
    shopfront.pay(5001, ADA, ADA_EMAIL, "20.00", T0)
    shopfront.pay(5002, ADA, ADA_EMAIL, "20.00", T0 + days(1), product_id=CUPS,
                  title="Tea cups")
    shopfront.pay(5003, GRACE, GRACE_EMAIL, "20.00", T0)
    with shopfront.session() as s:
        member = s.get(Member, ada)
        first = submit_review(s, member, order_id=5001, product_id=TEA, rating=5,
                              body="  Smoky and smooth  ", now=T0 + days(12))
        twice = submit_review(s, member, order_id=5001, product_id=TEA, rating=2, body="",
                              now=T0 + days(13))
        with pytest.raises(InvalidReview) as not_in_order:
            submit_review(s, member, order_id=5001, product_id=CUPS, rating=4, body=None,
                          now=T0 + days(13))
        with pytest.raises(InvalidReview) as not_hers:
            submit_review(s, s.get(Member, grace), order_id=5001, product_id=TEA, rating=4,
                          body=None, now=T0 + days(13))
        with pytest.raises(InvalidReview) as bad_rating:
            submit_review(s, member, order_id=5002, product_id=CUPS, rating=6, body=None,
                          now=T0 + days(13))
        assert (first.created, first.bonus, first.review.body) == (True, 100,
                                                                   "Smoky and smooth")
        assert (twice.created, twice.bonus, twice.review.rating) == (False, 0, 5)
        assert (not_in_order.value.code, not_hers.value.code, bad_rating.value.code) == (
            "not_purchased", "not_purchased", "invalid_rating")
        bonuses = s.execute(select(LedgerEntry.source_key, LedgerEntry.points).where(
            LedgerEntry.kind == "bonus_review")).all()
        assert bonuses == [(f"review:{ada}:{TEA}", 100)]


def test_approved_reviews_show_in_the_storefront_block_and_pending_ones_do_not(shopfront):
    ada = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "20.00", T0)
    shopfront.pay(5002, ADA, ADA_EMAIL, "20.00", T0, product_id=CUPS, title="Tea cups")
    with shopfront.session() as s:
        member = s.get(Member, ada)
        tea = submit_review(s, member, order_id=5001, product_id=TEA, rating=5,
                            body="Smoky", now=T0 + days(12)).review
        submit_review(s, member, order_id=5002, product_id=CUPS, rating=3, body="Chipped",
                      now=T0 + days(12))
        approve_review(s, shopfront.shop_id, tea.id, T0 + days(13))
    client = shopfront.app.test_client()
    answer = client.get(f"/proxy/reviews?{proxy_query(SHOP, None)}")
    assert answer.status_code == 200
    assert answer.get_json() == {"reviews": [
        {"product_id": str(TEA), "product": "Loose-leaf tea", "rating": 5, "body": "Smoky",
         "author": "Ada T.", "date": "2026-11-14"}]}
    assert client.get(f"/proxy/reviews?{proxy_query(SHOP, None, product_id=str(CUPS))}"
                      ).get_json() == {"reviews": []}
    unsigned = client.get("/proxy/reviews?shop=" + SHOP)
    assert (unsigned.status_code, unsigned.get_json()["error"]) == (401, "invalid_signature")
    with shopfront.db.sessions() as s:
        statuses = sorted(s.execute(select(Review.product_id, Review.status)).all())
    assert statuses == [(TEA, "approved"), (CUPS, "pending")]


def test_flow_stats_count_sends_suppressions_clicks_opens_and_the_orders_that_followed(
        shopfront):
    shopfront.settings(open_tracking=True)
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.customer(GRACE, GRACE_EMAIL, "Grace", consent=False)
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.pay(5002, GRACE, GRACE_EMAIL, "60.00", T0)
    shopfront.run_due(T0)
    shopfront.run_due(T0 + days(14))
    [welcome, survey] = shopfront.inbox(ADA_EMAIL)
    html = body_html(welcome)
    pixel = html.split('<img src="')[1].split('"')[0].removeprefix("https://loyalty.test")
    client = shopfront.client(T0 + days(1))
    opened = client.get(pixel)
    assert (opened.status_code, opened.mimetype) == (200, "image/gif")
    store = body_text(welcome).split("Redeem at Tea & Co: ")[1].split()[0]
    clicked = client.get(store.removeprefix("https://loyalty.test"))
    assert (clicked.status_code, clicked.location) == (302, "https://tea-and-co.myshopify.com/")
    # Ada orders 3 days after her survey (counted) and 9 days after it (outside the window).
    shopfront.pay(5003, ADA, ADA_EMAIL, "45.50", T0 + days(17), total_price="45.50",
                  total_price_set=money("45.50"))
    shopfront.pay(5004, ADA, ADA_EMAIL, "10.00", T0 + days(23))
    with shopfront.db.sessions() as session:
        stats = {s.kind: s for s in flow_stats(session, shopfront.shop_id, T0, T0 + days(15))}
    assert (stats["welcome"].sent, stats["welcome"].opened, stats["welcome"].clicked) == (
        2, 1, 1)
    assert stats["welcome"].click_rate == 0.5
    nps = stats["nps_request"]
    assert (nps.sent, nps.suppressed, nps.reasons) == (1, 1, {"no_marketing_consent": 1})
    assert (nps.orders, nps.revenue) == (1, Decimal("45.50"))
    assert stats["welcome"].orders == 0  # 5003 came 17 days after the welcome
    assert stats["win_back"].sent == 0 and survey["Subject"].startswith("One quick question")
