"""The points settings page's POS switch: in-store orders earn (on by default); the merchant
turns it off with the page's save bar, a versioned change like every other setting."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.loyalty.program import current_settings
from app.models import SettingsVersion
from tests.integration.admin.conftest import AdminSession

POINTS = {"earning": {"points_per_unit": "5", "point_value": "0.01", "exclude_shipping": True,
                      "exclude_taxes": True, "exclude_tips": True, "exclude_gift_cards": True,
                      "test_orders_earn": False, "pos_orders_earn": True},
          "pending_days": "30", "expiry_months": "12", "allow_negative_balance": False}


def _pos_checkbox(admin: AdminSession) -> str:
    page = admin.page("/admin/settings").get_data(as_text=True)
    [checkbox] = re.findall(r'<s-checkbox name="earning\.pos_orders_earn"[^>]*>', page)
    return checkbox


def _pos_earning(admin: AdminSession) -> bool:
    with admin.db.sessions() as session:
        return bool(current_settings(session, admin.shop_id).earning["pos_orders_earn"])


def test_the_points_page_offers_pos_earning_on_by_default(admin: AdminSession) -> None:
    checkbox = _pos_checkbox(admin)
    assert 'label="In-store (POS) orders earn points"' in checkbox
    assert " checked" in checkbox
    assert _pos_earning(admin) is True


def test_turning_pos_earning_off_saves_a_version_the_page_then_shows(
        admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/points",
                           {**POINTS, "earning": {**POINTS["earning"], "pos_orders_earn": False}},
                           user_id="77")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _pos_earning(admin) is False
    assert " checked" not in _pos_checkbox(admin)
    with admin.db.sessions() as session:
        version = session.execute(select(SettingsVersion).where(
            SettingsVersion.shop_id == admin.shop_id)).scalar_one()
    assert "In-store (POS) orders earn points" in (version.summary or "")
    assert version.changed_by == "staff:77"
