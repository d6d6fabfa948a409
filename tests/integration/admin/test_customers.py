"""Customers: search, the member record, and manual adjustments signed by the staff member."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.loyalty.events import order_paid
from app.loyalty.ledger import ledger_balances, post
from app.loyalty.members import enrol
from app.loyalty.program import save_settings
from app.models import LedgerEntry, Member, Referral, Shop
from tests.integration.admin.conftest import NOW, AdminSession
from tests.support.factories import T0
from tests.support.order_payloads import line, paid_order

KEY = "adjust-request-0001"


def _enrol(admin: AdminSession, customer_id: int | None, email: str, first: str,
           last: str) -> int:
    """A member enrolled the way webhooks enrol them; its id."""
    with admin.db.transaction() as session:
        shop = session.get(Shop, admin.shop_id)
        return enrol(session, shop, now=T0, customer_id=customer_id, email=email,
                     first_name=first, last_name=last).id


@pytest.fixture
def people(admin: AdminSession) -> dict[str, int]:
    """Ada and Alan with accounts, Grace a guest."""
    return {"ada": _enrol(admin, 501, "ada@example.com", "Ada", "Lovelace"),
            "alan": _enrol(admin, 502, "alan@turing.example", "Alan", "Turing"),
            "grace": _enrol(admin, None, "grace@navy.example", "Grace", "Hopper")}


def _names(admin: AdminSession, query: str) -> list[str]:
    """Which of the three people a search shows."""
    page = admin.page("/admin/customers", q=query).get_data(as_text=True)
    return [n for n in ("Ada Lovelace", "Alan Turing", "Grace Hopper") if n in page]


@pytest.mark.parametrize(("query", "found"), [
    ("ada@", ["Ada Lovelace"]), ("ALAN@TURING", ["Alan Turing"]), ("a", ["Ada Lovelace",
                                                                         "Alan Turing"]),
    ("hopper", ["Grace Hopper"]), ("ada love", ["Ada Lovelace"]), ("502", ["Alan Turing"]),
    ("zed", []), ("%", []), ("", ["Ada Lovelace", "Alan Turing", "Grace Hopper"]),
])
def test_customers_are_found_by_email_name_or_customer_id(
        admin: AdminSession, people: dict[str, int], query: str, found: list[str]) -> None:
    assert _names(admin, query) == found


def test_a_guest_is_marked_as_such_in_the_results(admin: AdminSession,
                                                  people: dict[str, int]) -> None:
    page = admin.page("/admin/customers", q="grace").get_data(as_text=True)
    assert "<s-badge>Guest</s-badge>" in page


def test_the_member_page_shows_balances_tier_referrals_and_every_ledger_entry(
        admin: AdminSession, people: dict[str, int]) -> None:
    with admin.db.transaction() as session:
        shop = session.get(Shop, admin.shop_id)
        order_paid(session, shop, paid_order(9001, customer_id=501, updated_at=T0,
                                              lines=[line("40.00")]), T0)
        ada = session.get(Member, people["ada"])
        post(session, ada, points=250, kind="bonus_signup", source_key="signup:ada", now=T0,
             note="Welcome bonus")
        session.add(Referral(shop_id=shop.id, referrer_id=ada.id, order_id=9100,
                             code=ada.referral_code, status="rewarded", created_at=T0))
        session.add(Referral(shop_id=shop.id, referrer_id=ada.id, order_id=9101,
                             code=ada.referral_code, status="rejected",
                             reason="self_referral", created_at=T0))
    page = admin.page(f"/admin/customers/{people['ada']}").get_data(as_text=True)
    assert '<div class="kpi-value" data-figure="available">250</div>' in page
    assert '<div class="kpi-value" data-figure="pending">200</div>' in page
    assert '<div class="kpi-value" data-figure="lifetime">450</div>' in page
    assert '<dd data-figure="referred">2</dd>' in page
    assert page.count("<s-table-row data-entry=") == 2
    assert "5 pts/unit × 1 on 40.00 USD" in page
    assert "+200" in page and "+250" in page


def test_the_ledger_pages_back_through_older_entries(admin: AdminSession,
                                                     people: dict[str, int]) -> None:
    with admin.db.transaction() as session:
        ada = session.get(Member, people["ada"])
        for n in range(105):
            post(session, ada, points=1, kind="bonus_review", source_key=f"r:{n}", now=T0)
    first = admin.page(f"/admin/customers/{people['ada']}").get_data(as_text=True)
    with admin.db.sessions() as session:
        oldest = session.execute(select(func.min(LedgerEntry.id))).scalar_one()
    older = admin.page(f"/admin/customers/{people['ada']}",
                       before=str(oldest + 5)).get_data(as_text=True)
    assert first.count("<s-table-row data-entry=") == 100 and "Older entries" in first
    assert older.count("<s-table-row data-entry=") == 5 and "Older entries" not in older


def test_an_adjustment_is_recorded_with_its_reason_and_the_staff_user(
        admin: AdminSession, people: dict[str, int]) -> None:
    response = admin.fetch(f"/admin/customers/{people['ada']}/adjustments",
                           {"points": "300", "reason": "Parcel arrived late",
                            "request_key": KEY}, user_id="88")
    with admin.db.sessions() as session:
        entry = session.execute(select(LedgerEntry)).scalar_one()
        ada = session.get(Member, people["ada"])
    assert response.status_code == 200
    assert response.json["available"] == 300
    assert (entry.kind, entry.points, entry.note, entry.actor) == (
        "adjust", 300, "Parcel arrived late", "staff:88")
    assert (ada.points_available, ada.points_lifetime) == (300, 300)


def test_the_same_adjustment_sent_twice_counts_once(admin: AdminSession,
                                                    people: dict[str, int]) -> None:
    body = {"points": 120, "reason": "Goodwill", "request_key": KEY}
    first = admin.fetch(f"/admin/customers/{people['ada']}/adjustments", body)
    second = admin.fetch(f"/admin/customers/{people['ada']}/adjustments", body)
    with admin.db.sessions() as session:
        assert session.get(Member, people["ada"]).points_available == 120
    assert first.json["entry_id"] == second.json["entry_id"]


@pytest.mark.parametrize(("body", "fields"), [
    ({"points": "50", "reason": "   "},
     {"reason": "a reason is required; the customer sees it next to the points"}),
    ({"points": "0", "reason": "Nothing"}, {"points": "cannot be zero"}),
    ({"points": "1.5", "reason": "Half"}, {"points": "must be a whole number of points"}),
    ({"points": "2000000", "reason": "Too many"},
     {"points": "must be between -1,000,000 and 1,000,000"}),
])
def test_an_adjustment_needs_a_reason_and_a_whole_non_zero_number(
        admin: AdminSession, people: dict[str, int], body: dict, fields: dict) -> None:
    response = admin.fetch(f"/admin/customers/{people['ada']}/adjustments",
                           {**body, "request_key": KEY})
    assert (response.status_code, response.json["fields"]) == (422, fields)
    with admin.db.sessions() as session:
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 0


def test_taking_more_than_the_available_points_is_refused(admin: AdminSession,
                                                          people: dict[str, int]) -> None:
    admin.fetch(f"/admin/customers/{people['ada']}/adjustments",
                {"points": 100, "reason": "Gift", "request_key": KEY})
    response = admin.fetch(f"/admin/customers/{people['ada']}/adjustments",
                           {"points": -150, "reason": "Correction",
                            "request_key": KEY + "b"})
    with admin.db.sessions() as session:
        ada = session.get(Member, people["ada"])
        sums = ledger_balances(session, ada.id, NOW)
    assert (response.status_code, response.json["error"]) == (409, "insufficient_points")
    assert response.json["fields"] == {"points": "cannot take more than the 100 available points"}
    assert (ada.points_available, sums.available) == (100, 100)


def test_a_program_that_allows_negative_balances_lets_staff_go_below_zero(
        admin: AdminSession, people: dict[str, int]) -> None:
    with admin.db.transaction() as session:
        save_settings(session, admin.shop_id, {"allow_negative_balance": True},
                      changed_by="staff:1", now=T0)
    response = admin.fetch(f"/admin/customers/{people['ada']}/adjustments",
                           {"points": -40, "reason": "Returned gift", "request_key": KEY})
    assert (response.status_code, response.json["available"]) == (200, -40)


def test_pending_points_cannot_be_taken_by_hand(admin: AdminSession,
                                                people: dict[str, int]) -> None:
    with admin.db.transaction() as session:
        order_paid(session, session.get(Shop, admin.shop_id),
                   paid_order(9002, customer_id=501, updated_at=T0, lines=[line("40.00")]), T0)
    response = admin.fetch(f"/admin/customers/{people['ada']}/adjustments",
                           {"points": -10, "reason": "Correction", "request_key": KEY})
    assert response.status_code == 409


def test_an_unknown_member_is_not_found(admin: AdminSession) -> None:
    assert admin.page("/admin/customers/999999").status_code == 404
