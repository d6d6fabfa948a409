"""The first-open checklist remembers each step, who did it and when; its last step launches
the program, and its texts say what the program does now."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from app.models import Reward
from tests.conftest import TEST_API_KEY
from tests.integration.admin.conftest import NOW, SHOP, AdminSession
from tests.support.shopify_fakes import admin_token

STEPS = ("defaults_reviewed", "app_embed_enabled", "rewards_reviewed", "launched")


def test_the_admin_opens_on_the_checklist_until_the_program_is_launched(
        draft_admin: AdminSession) -> None:
    first = draft_admin.page("/admin")
    for step in STEPS:
        draft_admin.fetch(f"/admin/onboarding/{step}")
    after = draft_admin.page("/admin")
    assert (first.status_code, urlsplit(first.headers["Location"]).path) == (
        302, "/admin/onboarding")
    assert urlsplit(after.headers["Location"]).path == "/admin/dashboard"


def test_the_checklist_links_to_the_theme_editors_app_embeds(draft_admin: AdminSession) -> None:
    page = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    assert (f"https://{SHOP}/admin/themes/current/editor?context=apps&amp;template=index"
            f"&amp;activateAppId={TEST_API_KEY}/launcher") in page
    assert "0 of 4 steps done." in page


def test_a_step_is_remembered_with_its_staff_member_and_time(draft_admin: AdminSession) -> None:
    response = draft_admin.fetch("/admin/onboarding/app_embed_enabled", user_id="31")
    again = draft_admin.fetch("/admin/onboarding/app_embed_enabled", user_id="32")
    steps = draft_admin.shop().onboarding["steps"]
    assert response.json == {"step": "app_embed_enabled", "done": 1, "of": 4,
                             "complete": False, "state": "draft"}
    assert again.json["done"] == 1
    # The first confirmation is the one kept.
    assert steps["app_embed_enabled"]["by"] == "staff:31"
    assert steps["app_embed_enabled"]["at"].endswith("Z")
    page = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    assert "1 of 4 steps done." in page and "by staff:31" in page


def test_the_dashboard_reminds_of_an_unfinished_checklist(draft_admin: AdminSession) -> None:
    draft_admin.fetch("/admin/onboarding/defaults_reviewed")
    before = draft_admin.page("/admin/dashboard").get_data(as_text=True)
    for step in STEPS:
        draft_admin.fetch(f"/admin/onboarding/{step}")
    after = draft_admin.page("/admin/dashboard").get_data(as_text=True)
    assert "1 of 4 launch steps done." in before
    assert "launch steps done" not in after


def test_an_unknown_step_is_not_found(draft_admin: AdminSession) -> None:
    response = draft_admin.fetch("/admin/onboarding/skip_everything")
    assert (response.status_code, response.json["error"]) == (404, "unknown_step")


def _step_text(page: str, step: str) -> str:
    """The text of one checklist item, tags dropped."""
    start = page.index(f'data-step="{step}"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[start:page.index("</li>", start)]))


def test_a_new_install_is_a_draft_until_launch_program_makes_it_live(
        draft_admin: AdminSession) -> None:
    before = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    launched = draft_admin.fetch("/admin/onboarding/launched", user_id="31")
    again = draft_admin.fetch("/admin/onboarding/launched", user_id="32")
    after = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    assert 'data-program-state="draft"' in before and "Launch program" in before
    assert (launched.json["state"], launched.json["done"]) == ("live", 1)
    assert again.json["state"] == "live"
    # The first launch is the one that counts: the program is live from the clock's now.
    assert draft_admin.shop().launched_at == NOW
    assert 'data-program-state="live"' in after and "Launch program" not in after
    assert "Live since" in _step_text(after, "launched") and "by staff:31" in after


def test_the_checklist_says_the_current_earning_rate_pending_days_and_rewards(
        draft_admin: AdminSession) -> None:
    before = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    saved = draft_admin.fetch("/admin/settings/points", {
        "earning": {"points_per_unit": "2.5"}, "pending_days": 14, "expiry_months": 0})
    after = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    assert saved.status_code == 200
    assert "5 points per $1 spent, points pending for 30 days" in _step_text(
        before, "defaults_reviewed")
    defaults = _step_text(after, "defaults_reviewed")
    assert "2.5 points per $1 spent, points pending for 14 days" in defaults
    assert "points never expire" in defaults and "5 points per" not in defaults.replace(
        "2.5 points per", "")
    assert "earns 2.5 points per $1 spent" in _step_text(after, "launched")


def test_the_rewards_step_lists_the_shops_own_catalog(draft_admin: AdminSession) -> None:
    with draft_admin.db.transaction() as session:
        session.add(Reward(shop_id=draft_admin.shop_id, kind="amount_off", cost=700,
                           value=Decimal("7"), title="$7 off"))
    page = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    assert "$7 off at 700 points" in _step_text(page, "rewards_reviewed")


def test_the_launch_holds_out_ten_percent_by_default_and_says_so(
        draft_admin: AdminSession) -> None:
    before = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    launch_step = _step_text(before, "launched")
    assert "A small holdout is on by default: from the launch, 10% of the customers" in launch_step
    assert "Type 0 for no holdout." in launch_step
    assert 'name="holdout_share" value="10"' in before and 'min="0" max="50"' in before

    # The form's default, and a launch that names no share, both hold out 10 %.
    assert draft_admin.fetch("/admin/onboarding/launched").json["state"] == "live"
    shop = draft_admin.shop()
    assert (shop.holdout_share, shop.holdout_started_at, shop.launched_at) == (10, NOW, NOW)
    assert shop.holdout_key is not None and len(shop.holdout_key) == 64
    after = draft_admin.page("/admin/onboarding").get_data(as_text=True)
    assert "10% of the customers the program meets for the first time are held out" in (
        _step_text(after, "launched"))
    # Ended on Program effect as any holdout; a second launch starts nothing.
    assert draft_admin.fetch("/admin/effect/holdout/end").status_code == 200
    assert draft_admin.fetch("/admin/onboarding/launched").json["state"] == "live"
    assert (draft_admin.shop().holdout_share, draft_admin.shop().holdout_ended_at) == (0, NOW)


def test_a_launch_with_zero_holds_nobody_out(draft_admin: AdminSession) -> None:
    launched = draft_admin.fetch("/admin/onboarding/launched", {"holdout_share": "0"})
    assert launched.json["state"] == "live"
    shop = draft_admin.shop()
    assert (shop.holdout_share, shop.holdout_key, shop.holdout_started_at) == (0, None, None)
    assert 'data-holdout="running"' not in draft_admin.page("/admin/onboarding").get_data(
        as_text=True)


def test_a_typed_share_is_the_holdout(draft_admin: AdminSession) -> None:
    assert draft_admin.fetch("/admin/onboarding/launched", {"holdout_share": "25"}).status_code \
        == 200
    assert draft_admin.shop().holdout_share == 25


@pytest.mark.parametrize("share", [-1, 51, "ten", "", 2.5, True, None, [10]])
def test_a_share_that_is_no_whole_number_up_to_50_launches_nothing(
        draft_admin: AdminSession, share: object) -> None:
    answer = draft_admin.fetch("/admin/onboarding/launched", {"holdout_share": share})
    assert answer.status_code == 422
    assert "whole number from 0 (no holdout) to 50 percent" in answer.json["fields"][
        "holdout_share"]
    shop = draft_admin.shop()
    assert (shop.launched_at, shop.holdout_share, shop.holdout_key) == (None, 0, None)


def test_a_body_that_is_no_json_object_is_refused(draft_admin: AdminSession) -> None:
    answer = draft_admin.client.post(
        "/admin/onboarding/launched", data="holdout_share=0",
        headers={"Authorization": f"Bearer {admin_token(SHOP, user_id='31')}",
                 "Content-Type": "application/json"})
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_body")
    assert draft_admin.shop().launched_at is None


def test_a_holdout_started_before_the_launch_keeps_its_share(draft_admin: AdminSession) -> None:
    assert draft_admin.fetch("/admin/effect/holdout", {"share": 5}).status_code == 200
    assert draft_admin.fetch("/admin/onboarding/launched").status_code == 200
    assert draft_admin.shop().holdout_share == 5
