"""Each flow is switchable and tunable per shop, and bad values are refused field by field."""

from __future__ import annotations

import pytest

from app.loyalty.program import SettingsError, current_settings, save_settings
from tests.support.factories import T0, make_shop


def test_every_flow_is_on_by_default_with_its_tunables(db):
    with db.transaction() as s:
        engagement = current_settings(s, make_shop(s).id).engagement
    assert {name: flow["enabled"] for name, flow in engagement["flows"].items()} == {
        "welcome": True, "points_unlocked": True, "review_request": True, "nps_request": True,
        "expiry_warning": True, "tier_upgraded": True, "tier_at_risk": True,
        "birthday": True, "replenishment": True, "win_back": True}
    assert engagement["flows"]["expiry_warning"]["days_before"] == 30
    assert engagement["flows"]["win_back"]["bonus_points"] == 200
    assert (engagement["transactional_needs_consent"], engagement["open_tracking"]) == (
        False, False)


def test_a_shop_switches_one_flow_off_and_tunes_another_leaving_the_rest(db):
    with db.transaction() as s:
        shop = make_shop(s)
        save_settings(s, shop.id, {"engagement": {"flows": {
            "birthday": {"enabled": False}, "win_back": {"bonus_points": 500}}}},
            changed_by="staff", now=T0)
        flows = current_settings(s, shop.id).engagement["flows"]
    assert (flows["birthday"]["enabled"], flows["win_back"]) == (
        False, {"enabled": True, "bonus_points": 500})
    assert flows["welcome"]["enabled"] is True


def test_unknown_flows_and_bad_values_are_refused_field_by_field(db):
    with db.transaction() as s:
        shop = make_shop(s)
        with pytest.raises(SettingsError) as refused:
            save_settings(s, shop.id, {"engagement": {
                "open_tracking": "yes",
                "flows": {"sms_blast": {"enabled": True},
                          "welcome": {"enabled": "on"},
                          "expiry_warning": {"days_before": 0},
                          "win_back": {"bonus_points": -5}}}}, changed_by="staff", now=T0)
    assert refused.value.errors == {
        "engagement.open_tracking": "must be on or off",
        "engagement.flows.sms_blast": "is not a flow",
        "engagement.flows.welcome.enabled": "must be on or off",
        "engagement.flows.expiry_warning.days_before": "must be between 1 and 365",
        "engagement.flows.win_back.bonus_points": "must be between 0 and 1000000",
    }
