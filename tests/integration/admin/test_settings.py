"""Settings pages: every save is a validated, versioned change that applies from then on."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.loyalty.events import order_paid
from app.loyalty.program import current_settings
from app.models import LedgerEntry, Member, SettingsVersion, Shop
from app.web.admin.settings import HISTORY_SIZE
from tests.integration.admin.conftest import AdminSession
from tests.support.factories import T0
from tests.support.order_payloads import line, paid_order


def _versions(admin: AdminSession) -> list[SettingsVersion]:
    """The shop's saved versions, oldest first."""
    with admin.db.sessions() as session:
        return list(session.execute(select(SettingsVersion).where(
            SettingsVersion.shop_id == admin.shop_id).order_by(SettingsVersion.version)).scalars())


def _settings(admin: AdminSession):  # noqa: ANN202 - ProgramSettings
    """The shop's current settings."""
    with admin.db.sessions() as session:
        return current_settings(session, admin.shop_id)


def test_saving_the_earn_rate_records_a_version_with_the_staff_member_and_the_change(
        admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/points", {
        "earning": {"points_per_unit": "10", "point_value": "0.01", "exclude_shipping": True,
                    "exclude_taxes": True, "exclude_tips": True, "exclude_gift_cards": True,
                    "test_orders_earn": False},
        "pending_days": "14", "expiry_months": "12", "allow_negative_balance": False},
        user_id="77")
    [version] = _versions(admin)
    assert response.status_code == 200
    assert response.json["version"] == 1
    assert (version.version, version.changed_by) == (1, "staff:77")
    assert version.summary == "Points per unit spent: 5 → 10; Pending period (days): 30 → 14"
    assert (_settings(admin).points_per_unit, _settings(admin).pending_days) == (Decimal(10), 14)


def test_the_history_page_shows_who_changed_what_and_when(admin: AdminSession) -> None:
    admin.fetch("/admin/settings/bonuses", {"bonuses": {"signup": "300"}}, user_id="7")
    admin.fetch("/admin/settings/referrals", {"referrals": {"referrer_points": "750"}},
                user_id="8")
    page = admin.page("/admin/settings/history").get_data(as_text=True)
    assert page.index("Points for the advocate: 500 → 750") < page.index(
        "Bonus for creating an account: 250 → 300")
    assert "Staff 1" in page and "Staff 2" in page
    assert [v.changed_by for v in _versions(admin)] == ["staff:7", "staff:8"]


def _history_by(admin: AdminSession) -> list[str]:
    """The history's "By" column, newest version first."""
    page = admin.page("/admin/settings/history").get_data(as_text=True)
    return re.findall(r'data-figure="by">([^<]*)<', page)


def test_the_history_names_staff_by_number_in_the_order_they_first_changed_the_program(
        admin: AdminSession) -> None:
    admin.fetch("/admin/settings/bonuses", {"bonuses": {"signup": "300"}}, user_id="908")
    admin.fetch("/admin/settings/bonuses", {"bonuses": {"signup": "310"}}, user_id="17")
    admin.fetch("/admin/settings/bonuses", {"bonuses": {"signup": "320"}}, user_id="908")
    assert _history_by(admin) == ["Staff 1", "Staff 2", "Staff 1"]
    page = admin.page("/admin/settings/history").get_data(as_text=True)
    assert "staff:" not in page and ">908<" not in page


def test_staff_numbers_stay_when_older_versions_leave_the_history_page(
        admin: AdminSession) -> None:
    admin.fetch("/admin/settings/bonuses", {"bonuses": {"signup": "300"}}, user_id="5")
    for points in range(301, 301 + HISTORY_SIZE):
        admin.fetch("/admin/settings/bonuses", {"bonuses": {"signup": str(points)}},
                    user_id="6")
    assert _history_by(admin) == ["Staff 2"] * HISTORY_SIZE


def test_invalid_fields_come_back_as_field_errors_and_nothing_is_saved(
        admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/points", {
        "earning": {"points_per_unit": "-1"}, "pending_days": "two weeks",
        "expiry_months": "500"})
    assert response.status_code == 422
    assert response.json["error"] == "invalid_settings"
    assert response.json["fields"] == {
        "earning.points_per_unit": "must be between 0 and 1000",
        "pending_days": "must be a whole number",
        "expiry_months": "must be between 0 and 120"}
    assert _versions(admin) == []


def test_a_page_shows_the_saved_values(admin: AdminSession) -> None:
    admin.fetch("/admin/settings/engagement", {"engagement": {"nps_request_days": "21"}})
    page = admin.page("/admin/settings/engagement").get_data(as_text=True)
    assert 'name="engagement.nps_request_days" value="21"' in page
    assert "Version 1." in page


def test_a_new_earn_rate_applies_to_orders_processed_after_it_never_before(
        admin: AdminSession) -> None:
    with admin.db.transaction() as session:
        shop = session.get(Shop, admin.shop_id)
        order_paid(session, shop, paid_order(1001, customer_id=501, updated_at=T0,
                                              lines=[line("40.00")]), T0)
    admin.fetch("/admin/settings/points", {"earning": {"points_per_unit": "10"}})
    with admin.db.transaction() as session:
        shop = session.get(Shop, admin.shop_id)
        later = T0 + timedelta(days=1)
        order_paid(session, shop, paid_order(1002, customer_id=501, updated_at=later,
                                              lines=[line("40.00")]), later)
    with admin.db.sessions() as session:
        earned = session.execute(select(LedgerEntry.order_id, LedgerEntry.points,
                                        LedgerEntry.rate).order_by(LedgerEntry.id)).all()
    assert [(o, p, Decimal(r)) for o, p, r in earned] == [
        (1001, 200, Decimal(5)), (1002, 400, Decimal(10))]


def test_tiers_can_be_added_reordered_and_removed_and_members_move_at_once(
        admin: AdminSession) -> None:
    with admin.db.transaction() as session:
        shop = session.get(Shop, admin.shop_id)
        order_paid(session, shop, paid_order(2001, customer_id=601, updated_at=T0,
                                              lines=[line("150.00")]), T0)
    levels = [{"name": "Member", "threshold": "0", "multiplier": "1", "benefits": "Base"},
              {"name": "Insider", "threshold": "100", "multiplier": "1.2", "benefits": "More"},
              {"name": "Icon", "threshold": "1000", "multiplier": "2", "benefits": "Most"}]
    response = admin.fetch("/admin/settings/tiers", {
        "tiers": {"basis": "spend_12m", "retention_days": "180", "levels": levels}})
    program = _settings(admin)
    with admin.db.sessions() as session:
        tier = session.execute(select(Member.tier).where(Member.customer_id == 601)).scalar_one()
    assert response.status_code == 200
    assert [t.name for t in program.tiers] == ["Member", "Insider", "Icon"]
    assert (program.tier_retention_days, tier) == (180, "Insider")
    # Reordered and one removed: the ladder is the list as sent.
    admin.fetch("/admin/settings/tiers", {"tiers": {"levels": [levels[2], levels[0]]}})
    assert [lv["name"] for lv in _settings(admin).data["tiers"]["levels"]] == ["Icon", "Member"]


def test_tier_errors_point_at_the_row_and_field(admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/tiers", {"tiers": {"levels": [
        {"name": "Base", "threshold": "0", "multiplier": "1", "benefits": ""},
        {"name": "Gold", "threshold": "lots", "multiplier": "50", "benefits": ""}]}})
    assert response.status_code == 422
    assert response.json["fields"] == {"tiers.levels.1.threshold": "must be a number",
                                       "tiers.levels.1.multiplier": "must be between 0.1 and 10"}


def test_tiers_sent_as_something_other_than_a_list_are_refused(admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/tiers", {"tiers": {"levels": "Gold"}})
    assert (response.status_code, response.json["fields"]) == (
        422, {"tiers.levels": "must be a list"})


@pytest.mark.parametrize(("fields", "errors"), [
    ({"engagement": {"frequency_cap_days": "0", "quiet_hours_start": "24"}},
     {"engagement.frequency_cap_days": "must be between 1 and 90",
      "engagement.quiet_hours_start": "must be between 0 and 23"}),
    ({"engagement": {"daily_reward_budget": "plenty"}},
     {"engagement.daily_reward_budget": "must be a number"}),
    ({"widget": {"launcher_label": "  ", "position": "top",
                 "colors": {"accent": "green"}}},
     {"widget.launcher_label": "cannot be empty", "widget.position": "must be right or left",
      "widget.colors.accent": "must be a color like #1f6f50"}),
    ({"widget": {"guest_intro": "x" * 301}},
     {"widget.guest_intro": "must be at most 300 characters"}),
])
def test_engagement_and_widget_mistakes_are_field_errors(
        admin: AdminSession, fields: dict, errors: dict) -> None:
    section = next(iter(fields))
    response = admin.fetch(f"/admin/settings/{section}", fields)
    assert (response.status_code, response.json["fields"]) == (422, errors)


def test_engagement_and_widget_settings_save(admin: AdminSession) -> None:
    admin.fetch("/admin/settings/engagement", {"engagement": {
        "review_request_days": "7", "frequency_cap_messages": "3", "quiet_hours_end": "9",
        "daily_reward_budget": "75.50"}})
    admin.fetch("/admin/settings/widget", {"widget": {
        "launcher_label": "Perks", "position": "left", "colors": {"accent": "#AA0044"}}})
    data = _settings(admin).data
    timing = ("review_request_days", "nps_request_days", "frequency_cap_messages",
              "frequency_cap_days", "quiet_hours_start", "quiet_hours_end", "daily_reward_budget")
    assert {key: data["engagement"][key] for key in timing} == {
        "review_request_days": 7, "nps_request_days": 14, "frequency_cap_messages": 3,
        "frequency_cap_days": 7, "quiet_hours_start": 21, "quiet_hours_end": 9,
        "daily_reward_budget": "75.50"}
    assert (data["widget"]["launcher_label"], data["widget"]["position"],
            data["widget"]["colors"]["accent"]) == ("Perks", "left", "#aa0044")


def test_engagement_flows_are_switched_off_and_tuned_from_the_engagement_page(
        admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/engagement", {"engagement": {"flows": {
        "win_back": {"enabled": False, "bonus_points": "300"},
        "expiry_warning": {"enabled": True, "days_before": "14"}}}})
    flows = _settings(admin).data["engagement"]["flows"]
    assert response.status_code == 200
    assert flows["win_back"] == {"enabled": False, "bonus_points": 300}
    assert flows["expiry_warning"] == {"enabled": True, "days_before": 14}
    assert flows["welcome"] == {"enabled": True}


def test_an_unknown_section_is_not_found(admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/secrets", {})
    assert (response.status_code, response.json["error"]) == (404, "unknown_section")


def test_a_body_that_is_not_a_json_object_is_refused(admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/points", ["earning"])
    assert (response.status_code, response.json["error"]) == (400, "invalid_body")


def test_saving_any_section_ticks_the_review_step_of_the_checklist(
        admin: AdminSession) -> None:
    admin.fetch("/admin/settings/bonuses", {"bonuses": {"birthday": "150"}}, user_id="5")
    steps = admin.shop().onboarding["steps"]
    assert list(steps) == ["defaults_reviewed"]
    assert steps["defaults_reviewed"]["by"] == "staff:5"
