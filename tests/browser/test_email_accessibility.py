"""The emails shoppers receive pass axe-core as a mail client would show them.

The welcome and the review request are sent for real (business events on a frozen clock, the
app's dispatcher, a real SMTP server); the HTML part each shopper received is opened in
Chromium with nothing loaded from the network, as a mail client that blocks remote images does.
"""

from __future__ import annotations

import os
from email.message import EmailMessage

import pytest

from app.db import Database
from tests.extensions.widget.tools import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, missing_tool
from tests.integration.engagement.conftest import T0, build_shopfront, days
from tests.support.accessibility import serious_violations
from tests.support.smtp_fixture import SmtpTestServer, body_html

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]

ADA, ADA_EMAIL = 9001, "ada@example.com"
OUTPUT = REPO_ROOT / "test-output"


def _received_emails(db: Database) -> list[EmailMessage]:
    """Ada's welcome, then her review request, as the SMTP server received them (the server
    is stopped before the browser starts: both run an asyncio loop)."""
    smtp = SmtpTestServer().start()
    try:
        shopfront = build_shopfront(db, smtp)
        shopfront.customer(ADA, ADA_EMAIL, "Ada")
        shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
        shopfront.run_due(T0)
        shopfront.fulfil(5001, T0 + days(2))
        shopfront.run_due(T0 + days(12))
        return shopfront.inbox(ADA_EMAIL)
    finally:
        smtp.stop()


def _violations_and_screenshots(emails: dict[str, EmailMessage]) -> dict[str, list[str]]:
    """axe's serious findings in each email's HTML part, opened in Debian's Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        missing_tool("Playwright", str(exc))
    if not os.access(CHROMIUM, os.X_OK):
        missing_tool("Chromium", f"{CHROMIUM} missing (apt-get install -y chromium)")
    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 600, "height": 900})
            page.route("**/*", lambda route: route.abort())
            OUTPUT.mkdir(exist_ok=True)
            for name, email in emails.items():
                page.set_content(body_html(email))
                found[name] = serious_violations(page)
                page.screenshot(path=str(OUTPUT / f"a11y-email-{name}.png"), full_page=True)
        finally:
            browser.close()
    return found


def test_the_welcome_and_review_request_emails_have_no_serious_accessibility_violations(
        db: Database) -> None:
    welcome, review = _received_emails(db)
    assert (welcome["Subject"], review["Subject"]) == (
        "Welcome to Tea & Co rewards, Ada", "How is your order #5001? Earn 100 points")
    found = _violations_and_screenshots({"welcome": welcome, "review-request": review})
    assert found == {"welcome": [], "review-request": []}
