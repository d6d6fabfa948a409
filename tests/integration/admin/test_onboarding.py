"""The first-open checklist remembers each step, who did it and when."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import TEST_API_KEY
from tests.integration.admin.conftest import SHOP, AdminSession

STEPS = ("defaults_reviewed", "app_embed_enabled", "rewards_reviewed", "launched")


def test_the_admin_opens_on_the_checklist_until_the_program_is_launched(
        admin: AdminSession) -> None:
    first = admin.page("/admin")
    for step in STEPS:
        admin.fetch(f"/admin/onboarding/{step}")
    after = admin.page("/admin")
    assert (first.status_code, urlsplit(first.headers["Location"]).path) == (
        302, "/admin/onboarding")
    assert urlsplit(after.headers["Location"]).path == "/admin/dashboard"


def test_the_checklist_links_to_the_theme_editors_app_embeds(admin: AdminSession) -> None:
    page = admin.page("/admin/onboarding").get_data(as_text=True)
    assert (f"https://{SHOP}/admin/themes/current/editor?context=apps&amp;template=index"
            f"&amp;activateAppId={TEST_API_KEY}/launcher") in page
    assert "0 of 4 steps done." in page


def test_a_step_is_remembered_with_its_staff_member_and_time(admin: AdminSession) -> None:
    response = admin.fetch("/admin/onboarding/app_embed_enabled", user_id="31")
    again = admin.fetch("/admin/onboarding/app_embed_enabled", user_id="32")
    steps = admin.shop().onboarding["steps"]
    assert response.json == {"step": "app_embed_enabled", "done": 1, "of": 4,
                             "complete": False}
    assert again.json["done"] == 1
    # The first confirmation is the one kept.
    assert steps["app_embed_enabled"]["by"] == "staff:31"
    assert steps["app_embed_enabled"]["at"].endswith("Z")
    page = admin.page("/admin/onboarding").get_data(as_text=True)
    assert "1 of 4 steps done." in page and "by staff:31" in page


def test_the_dashboard_reminds_of_an_unfinished_checklist(admin: AdminSession) -> None:
    admin.fetch("/admin/onboarding/defaults_reviewed")
    before = admin.page("/admin/dashboard").get_data(as_text=True)
    for step in STEPS:
        admin.fetch(f"/admin/onboarding/{step}")
    after = admin.page("/admin/dashboard").get_data(as_text=True)
    assert "1 of 4 launch steps done." in before
    assert "launch steps done" not in after


def test_an_unknown_step_is_not_found(admin: AdminSession) -> None:
    response = admin.fetch("/admin/onboarding/skip_everything")
    assert (response.status_code, response.json["error"]) == (404, "unknown_step")
