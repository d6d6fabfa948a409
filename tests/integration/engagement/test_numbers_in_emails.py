"""Numbers a shopper reads in an email are written as people write them (10, 2, 1.5)."""

from __future__ import annotations

from app.loyalty.program import save_settings
from tests.integration.engagement.conftest import T0, days
from tests.support.smtp_fixture import body_html, body_text

ADA, ADA_EMAIL = 9001, "ada@example.com"

TIERS = {"basis": "spend_12m", "retention_days": 365, "levels": [
    {"name": "Bronze", "threshold": "0", "multiplier": "1", "benefits": ""},
    {"name": "Silver", "threshold": "300", "multiplier": "2.0", "benefits": ""},
]}


def test_ten_points_per_unit_and_a_double_points_tier_read_10_and_2_never_1e1(shopfront):
    with shopfront.session() as s:
        save_settings(s, shopfront.shop_id, {"earning": {"points_per_unit": "10"},
                                             "tiers": TIERS},
                      changed_by="test", now=T0 - days(30))
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "360.00", T0)
    shopfront.run_due(T0)
    emails = {m["Subject"]: m for m in shopfront.inbox(ADA_EMAIL)}
    welcome = emails["Welcome to Tea & Co rewards, Ada"]
    assert "You earn 10 points for every $1 you spend." in body_text(welcome)
    assert "You earn 10 points for every $1 you spend." in body_html(welcome)
    upgraded = emails["You're Silver now"]
    assert "From your next order you earn 2x points." in body_text(upgraded)
    assert "From your next order you earn 2× points." in body_html(upgraded)
    for email in emails.values():
        assert "E+" not in body_text(email) and "E+" not in body_html(email)
