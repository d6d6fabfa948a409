"""The first-open checklist remembers each step, who did it and when; its last step launches
the program, and its texts say what the program does now."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

from app.models import Reward
from tests.conftest import TEST_API_KEY
from tests.integration.admin.conftest import NOW, SHOP, AdminSession

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
