"""Flagged referrals wait for the merchant, who approves or rejects them in the admin."""

from __future__ import annotations

from sqlalchemy import select

from app.loyalty.members import enrol
from app.models import Referral, Shop
from tests.integration.admin.conftest import OTHER_SHOP, SHOP
from tests.support.factories import T0


def _referral(admin, domain: str, status: str, order_id: int, reason: str | None = None) -> int:
    with admin.db.transaction() as s:
        shop = s.execute(select(Shop).where(Shop.domain == domain)).scalar_one()
        ada = enrol(s, shop, now=T0, customer_id=order_id, email=f"ada{order_id}@example.com",
                    first_name="Ada")
        referral = Referral(shop_id=shop.id, referrer_id=ada.id, order_id=order_id,
                            code=ada.referral_code, status=status, reason=reason,
                            detail="same IP as the referrer" if reason else None,
                            reward_due_at=T0, created_at=T0)
        s.add(referral)
        s.flush()
        return referral.id


def _status(admin, referral_id: int) -> tuple[str, str | None, str | None]:
    with admin.db.sessions() as s:
        r = s.get(Referral, referral_id)
        return r.status, r.reason, r.decided_by


def test_the_page_lists_flagged_referrals_with_their_reason_and_the_waiting_ones(admin):
    flagged = _referral(admin, SHOP, "flagged", 501, reason="same_ip")
    waiting = _referral(admin, SHOP, "pending", 502)
    _referral(admin, OTHER_SHOP, "flagged", 503, reason="same_ip")
    page = admin.page("/admin/referrals")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-referral="{flagged}"' in html and f'data-referral="{waiting}"' in html
    assert "same ip" in html and "same IP as the referrer" in html
    assert html.count("data-referral=") == 2


def test_approving_a_flagged_referral_lets_the_daily_round_pay_it_and_records_who(admin):
    flagged = _referral(admin, SHOP, "flagged", 601, reason="same_ip")
    response = admin.fetch(f"/admin/referrals/{flagged}/approve", user_id="42")
    assert (response.status_code, response.get_json()["status"]) == (200, "pending")
    assert _status(admin, flagged) == ("pending", "same_ip", "staff:42")
    again = admin.fetch(f"/admin/referrals/{flagged}/approve")
    assert (again.status_code, again.get_json()["error"]) == (409, "not_decidable")


def test_rejecting_records_the_merchants_decision(admin):
    flagged = _referral(admin, SHOP, "flagged", 701, reason="same_ip")
    response = admin.fetch(f"/admin/referrals/{flagged}/reject")
    assert response.status_code == 200
    assert _status(admin, flagged)[0] == "rejected"


def test_another_shops_referral_cannot_be_decided(admin):
    foreign = _referral(admin, OTHER_SHOP, "flagged", 801, reason="same_ip")
    response = admin.fetch(f"/admin/referrals/{foreign}/approve")
    assert (response.status_code, response.get_json()["error"]) == (404, "not_found")
    assert _status(admin, foreign)[0] == "flagged"


def test_a_decision_needs_a_session_token(admin):
    flagged = _referral(admin, SHOP, "flagged", 901, reason="same_ip")
    response = admin.client.post(f"/admin/referrals/{flagged}/approve")
    assert response.status_code == 401
    assert _status(admin, flagged)[0] == "flagged"
