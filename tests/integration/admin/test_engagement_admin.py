"""The engagement page: each flow's figures over the period, detractors with their comment and
order, and reviews the merchant approves (then the storefront shows them) or rejects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.members import enrol
from app.loyalty.program import save_settings
from app.models import Member, Message, Order, Shop, SurveyResponse
from app.models.review import Review
from tests.integration.admin.conftest import NOW, OTHER_SHOP, SHOP, AdminSession
from tests.integration.proxy.test_proxy import proxy_query
from tests.support.factories import T0

TEA, CUPS = 7_100_000_000_000_000_001, 7_100_000_000_000_000_002


@dataclass
class Seeded:
    """Ids the tests act on."""

    ada: int
    review: int
    other_shops_review: int


def _member(session: Session, shop: Shop, customer_id: int, email: str, first: str,
            last: str) -> Member:
    """A member with an account."""
    return enrol(session, shop, now=T0, customer_id=customer_id, email=email,
                 first_name=first, last_name=last)


def _message(session: Session, shop_id: int, member_id: int | None, kind: str, key: str,
             at: datetime, status: str = "sent", reason: str | None = None, *,
             opened: bool = False, clicked: bool = False) -> None:
    """A message as the dispatcher leaves it: sent at `at`, or closed with a reason."""
    sent = status == "sent"
    session.add(Message(shop_id=shop_id, member_id=member_id, kind=kind, natural_key=key,
                        scheduled_at=at, sent_at=at if sent else None, status=status,
                        reason=reason, opened_at=at.replace(minute=30) if opened else None,
                        clicked_at=at.replace(minute=40) if clicked else None))


def _order(session: Session, shop_id: int, member_id: int, shopify_id: int, total: str,
           paid_at: datetime) -> None:
    """A paid order of the member."""
    session.add(Order(shop_id=shop_id, shopify_order_id=shopify_id, member_id=member_id,
                      name=f"#{shopify_id}", total_price=Decimal(total), status="paid",
                      paid_at=paid_at))


def _review(session: Session, shop_id: int, member_id: int, product_id: int, title: str,
            rating: int, body: str, status: str = "pending") -> int:
    """A review as the review form stores it; its id."""
    review = Review(shop_id=shop_id, member_id=member_id, product_id=product_id,
                    product_title=title, order_id=1501, rating=rating, body=body, status=status,
                    created_at=datetime(2026, 10, 20, 9), approved_at=(
                        datetime(2026, 10, 21) if status == "approved" else None))
    session.add(review)
    session.flush()
    return review.id


def day(d: int, hour: int = 10) -> datetime:
    """That day of October 2026 at that hour (UTC, the shop's timezone)."""
    return datetime(2026, 10, d, hour)


@pytest.fixture
def seeded(admin: AdminSession) -> Seeded:
    """October in a UTC shop: a month of messages, orders after them, answers and reviews."""
    with admin.db.transaction() as s:
        shop = s.get(Shop, admin.shop_id)
        ada = _member(s, shop, 1, "ada@example.com", "Ada", "Lovelace").id
        grace = _member(s, shop, 2, "grace@example.com", "Grace", "Hopper").id
        alan = _member(s, shop, 3, "alan@example.com", "Alan", "Turing").id
        sid = shop.id
        # Welcome: two sent on Oct 10 (Ada opened and clicked), one in September (outside).
        _message(s, sid, ada, "welcome", "welcome:ada", day(10), opened=True, clicked=True)
        _message(s, sid, grace, "welcome", "welcome:grace", day(10, 11))
        _message(s, sid, alan, "welcome", "welcome:alan", datetime(2026, 9, 1, 10))
        # NPS question: sent to Ada on Oct 20 (clicked), held back three times.
        _message(s, sid, ada, "nps_request", "nps:1", day(20), clicked=True)
        _message(s, sid, grace, "nps_request", "nps:2", day(20), "suppressed",
                 "no_marketing_consent")
        _message(s, sid, alan, "nps_request", "nps:3", day(21), "suppressed", "frequency_cap")
        _message(s, sid, grace, "nps_request", "nps:4", day(22), "suppressed",
                 "no_marketing_consent")
        # Review requests never sent, for four reasons (the table names the top three).
        _message(s, sid, ada, "review_request", "rr:1", day(25), "cancelled", "too_late")
        _message(s, sid, grace, "review_request", "rr:2", day(25), "cancelled", "too_late")
        _message(s, sid, alan, "review_request", "rr:3", day(25), "suppressed", "unsubscribed")
        _message(s, sid, ada, "review_request", "rr:4", day(26), "suppressed", "frequency_cap")
        _message(s, sid, grace, "review_request", "rr:5", day(26), "suppressed", "member_gone")
        # A birthday inside the last 7 days, and the merchant's own alert (not a flow).
        _message(s, sid, grace, "birthday", "birthday:grace", day(30))
        _message(s, sid, None, "detractor_alert", "detractor_alert:1", day(15, 11))
        # Orders: 1501 two days after Ada's welcome; 1502 four days after her NPS question;
        # 1503 fifteen days after Grace's welcome and 1504 eight days after the question: late.
        _order(s, sid, ada, 1501, "45.50", day(12))
        _order(s, sid, ada, 1502, "120.00", day(24))
        _order(s, sid, grace, 1503, "80.00", day(25))
        _order(s, sid, ada, 1504, "30.00", day(28, 11))
        s.add_all([
            SurveyResponse(shop_id=sid, member_id=ada, order_id=1501, score=3,
                           comment="Arrived crushed", channel="email", detractor=True,
                           created_at=day(15)),
            SurveyResponse(shop_id=sid, member_id=grace, order_id=1503, score=6, comment=None,
                           channel="thank_you", detractor=True, created_at=day(26)),
            SurveyResponse(shop_id=sid, member_id=ada, order_id=1502, score=9,
                           comment="Lovely", channel="email", detractor=False,
                           created_at=day(27))])
        review = _review(s, sid, ada, TEA, "Loose-leaf tea", 5, "Smoky and smooth")
        _review(s, sid, grace, CUPS, "Tea cups", 4, "Pretty", status="approved")

        other = s.execute(select(Shop).where(Shop.domain == OTHER_SHOP)).scalar_one()
        eve = _member(s, other, 1, "eve@example.com", "Eve", "Other").id
        s.add(SurveyResponse(shop_id=other.id, member_id=eve, order_id=9901, score=0,
                             comment="Not this shop's", channel="email", detractor=True,
                             created_at=day(16)))
        other_review = _review(s, other.id, eve, TEA, "Their tea", 1, "Someone else's")
    return Seeded(ada, review, other_review)


def _page(admin: AdminSession, **query: str) -> str:
    """The engagement page's HTML."""
    response = admin.page("/admin/engagement", **query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _flow(page: str, kind: str) -> dict[str, str]:
    """The figures of one flow's row."""
    row = re.search(rf'<s-table-row data-flow="{kind}">(.*?)</s-table-row>', page, re.S).group(1)
    return {name: " ".join(text.split())
            for name, text in re.findall(r'data-figure="([a-z-]+)">([^<]*)<', row)}


def _opens_on(admin: AdminSession) -> None:
    """The merchant switches open tracking on."""
    with admin.db.transaction() as session:
        save_settings(session, admin.shop_id, {"engagement": {"open_tracking": True}},
                      changed_by="staff:42", now=NOW)


def _review_status(admin: AdminSession, review_id: int) -> str:
    """A review's committed status."""
    with admin.db.sessions() as session:
        return session.get(Review, review_id).status


def test_each_flow_shows_sends_reasons_clicks_and_the_orders_of_the_next_7_days(
        admin: AdminSession, seeded: Seeded) -> None:
    _opens_on(admin)
    page = _page(admin, period="30")
    assert _flow(page, "welcome") == {
        "sent": "2", "scheduled": "0", "not-sent": "0", "opens": "1", "clicks": "1",
        "click-rate": "50.0%", "orders": "1", "revenue": "$45.50"}
    assert _flow(page, "nps_request") == {
        "sent": "1", "scheduled": "0", "not-sent": "3",
        "reasons": "no marketing consent (2), frequency cap (1)", "opens": "0", "clicks": "1",
        "click-rate": "100.0%", "orders": "1", "revenue": "$120.00"}
    assert _flow(page, "review_request") == {
        "sent": "0", "scheduled": "0", "not-sent": "5",
        "reasons": "too late (2), frequency cap (1), member gone (1)",
        "opens": "0", "clicks": "0", "click-rate": "—", "orders": "0", "revenue": "$0.00"}
    assert _flow(page, "birthday")["sent"] == "1"
    assert 'data-flow="detractor_alert"' not in page
    assert page.count("<s-table-row data-flow=") == 10


def test_each_flow_shows_its_messages_waiting_to_be_sent_next_to_those_sent_whatever_the_period(
        admin: AdminSession, seeded: Seeded) -> None:
    with admin.db.transaction() as s:
        other = s.execute(select(Shop).where(Shop.domain == OTHER_SHOP)).scalar_one()
        # Two review requests due in November (after the period) and one already due that the
        # sweep has not reached; the other shop's waiting message is not this shop's.
        _message(s, admin.shop_id, seeded.ada, "review_request", "rr:w1", datetime(2026, 11, 3),
                 "scheduled")
        _message(s, admin.shop_id, seeded.ada, "review_request", "rr:w2",
                 datetime(2026, 11, 20), "scheduled")
        _message(s, admin.shop_id, seeded.ada, "win_back", "wb:w1", day(2), "scheduled")
        _message(s, other.id, None, "review_request", "rr:other", datetime(2026, 11, 3),
                 "scheduled")
    page = _page(admin, period="7")
    assert (_flow(page, "review_request")["scheduled"], _flow(page, "win_back")["scheduled"],
            _flow(page, "welcome")["scheduled"]) == ("2", "1", "0")
    assert (_flow(page, "review_request")["sent"], _flow(page, "welcome")["sent"]) == ("0", "0")
    assert ('<s-table-header format="numeric">Sent</s-table-header>'
            '<s-table-header format="numeric">Scheduled</s-table-header>') in page


def test_opens_read_off_while_the_shop_does_not_track_them(
        admin: AdminSession, seeded: Seeded) -> None:
    page = _page(admin)
    assert _flow(page, "welcome")["opens"] == "off"
    assert {_flow(page, kind)["opens"] for kind in ("nps_request", "birthday")} == {"off"}
    assert "switch on open tracking" in page


def test_the_period_comes_from_the_query(admin: AdminSession, seeded: Seeded) -> None:
    last_week = _page(admin, period="7")
    october_10 = _page(admin, **{"from": "2026-10-10", "to": "2026-10-10"})
    assert (_flow(last_week, "welcome")["sent"], _flow(last_week, "birthday")["sent"]) == (
        "0", "1")
    assert (_flow(october_10, "welcome")["sent"], _flow(october_10, "nps_request")["sent"]) == (
        "2", "0")
    assert 'aria-current="page">Last 7 days' in last_week


def test_detractors_show_score_comment_and_order_newest_first_and_only_this_shops(
        admin: AdminSession, seeded: Seeded) -> None:
    page = _page(admin)
    alerts = re.findall(r'<li data-alert="(\d+)"><strong data-figure="score">([^<]*)</strong>'
                        r'.*?data-figure="order">([^<]*)<', page, re.S)
    assert alerts == [("1503", "6/10", "#1503"), ("1501", "3/10", "#1501")]
    assert 'data-figure="comment">“Arrived crushed”<' in page
    assert "Not this shop" not in page and "Lovely" not in page


def test_pending_reviews_are_listed_with_approve_and_reject_buttons(
        admin: AdminSession, seeded: Seeded) -> None:
    page = _page(admin)
    assert re.findall(r'<s-table-row data-review="(\d+)">', page) == [str(seeded.review)]
    assert "“Smoky and smooth”" in page and "Ada Lovelace" in page
    assert f'data-post="/admin/engagement/reviews/{seeded.review}/approve"' in page
    assert f'data-post="/admin/engagement/reviews/{seeded.review}/reject"' in page
    assert "Someone else" not in page and "Pretty" not in page


def test_an_approved_review_shows_on_the_storefront_and_leaves_the_queue(
        admin: AdminSession, seeded: Seeded) -> None:
    storefront = f"/proxy/reviews?{proxy_query(SHOP, None, product_id=str(TEA))}"
    before = admin.client.get(storefront).get_json()
    response = admin.fetch(f"/admin/engagement/reviews/{seeded.review}/approve")
    after = admin.client.get(storefront).get_json()
    assert (response.status_code, response.get_json()["status"]) == (200, "approved")
    assert before == {"reviews": []}
    assert after == {"reviews": [
        {"product_id": str(TEA), "product": "Loose-leaf tea", "rating": 5,
         "body": "Smoky and smooth", "author": "Ada L.", "date": "2026-10-20"}]}
    assert 'data-review="' not in _page(admin)


def test_a_rejected_review_never_reaches_the_storefront(
        admin: AdminSession, seeded: Seeded) -> None:
    response = admin.fetch(f"/admin/engagement/reviews/{seeded.review}/reject")
    shown = admin.client.get(f"/proxy/reviews?{proxy_query(SHOP, None)}").get_json()
    assert (response.status_code, response.get_json()["status"]) == (200, "rejected")
    assert [r["product"] for r in shown["reviews"]] == ["Tea cups"]
    assert _review_status(admin, seeded.review) == "rejected"
    assert 'data-review="' not in _page(admin)


def test_another_shops_review_is_not_found_and_stays_pending(
        admin: AdminSession, seeded: Seeded) -> None:
    approve = admin.fetch(f"/admin/engagement/reviews/{seeded.other_shops_review}/approve")
    reject = admin.fetch(f"/admin/engagement/reviews/{seeded.other_shops_review}/reject")
    theirs_by_us = admin.fetch(f"/admin/engagement/reviews/{seeded.review}/approve",
                               shop=OTHER_SHOP)
    assert (approve.status_code, approve.get_json()["error"]) == (404, "not_found")
    assert (reject.status_code, theirs_by_us.status_code) == (404, 404)
    assert _review_status(admin, seeded.other_shops_review) == "pending"
    assert _review_status(admin, seeded.review) == "pending"


def test_moderation_needs_a_session_token_in_the_header(
        admin: AdminSession, seeded: Seeded) -> None:
    response = admin.client.post(f"/admin/engagement/reviews/{seeded.review}/approve", json={})
    assert (response.status_code, response.get_json()["error"]) == (
        401, "missing_session_token")
    assert _review_status(admin, seeded.review) == "pending"


def test_the_page_without_a_token_is_bounced_to_app_bridge_for_one(
        admin: AdminSession) -> None:
    response = admin.client.get(f"/admin/engagement?shop={SHOP}&embedded=1")
    location = urlsplit(response.headers["Location"])
    assert (response.status_code, location.path) == (302, "/auth/session-token")
    assert parse_qs(location.query)["shopify-reload"] == [
        f"/admin/engagement?shop={SHOP}&embedded=1"]


def test_an_empty_shop_reads_zeros_and_says_nothing_is_waiting(admin: AdminSession) -> None:
    response = admin.page("/admin/engagement")
    page = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{SHOP} https://admin.shopify.com;")
    assert _flow(page, "welcome") == {
        "sent": "0", "scheduled": "0", "not-sent": "0", "opens": "off", "clicks": "0",
        "click-rate": "—", "orders": "0", "revenue": "$0.00"}
    assert "No detractors yet" in page and "No reviews waiting" in page
    assert '<s-link href="/admin/engagement">Engagement</s-link>' in page
