"""`make demo` keeps working: a demo shop installed through the emulator, with a history."""

import html
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from app.models import Member, Referral, Shop
from devstore.demo import DEMO_SHOP, describe, instructions, seed_demo_shop, start_demo
from tests.extensions.widget.tools import CHROMIUM, CHROMIUM_ARGS, missing_tool

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_installs_a_shop_whose_orders_became_members_with_points_tiers_and_a_referral(
        tmp_path):
    demo = start_demo(database_url=f"sqlite:///{tmp_path / 'demo.db'}", port=0)
    try:
        seed_demo_shop(demo)
        seed_demo_shop(demo)  # running the demo twice changes nothing
        db = demo.app.extensions["runtime"].db
        with db.sessions() as s:
            shop = s.execute(select(Shop)).scalar_one()
            members = {m.first_name: m for m in s.execute(select(Member)).scalars()}
            referral = s.execute(select(Referral)).scalar_one()
        assert (shop.domain, shop.is_installed) == (DEMO_SHOP, True)
        ada, grace, alan = members["Ada"], members["Grace"], members["Alan"]
        # Ada: 250 welcome + 360.00 forty days ago (unlocked) as Bronze, then Silver on 45.00.
        assert ada.tier == "Silver"
        assert (ada.points_available, ada.points_pending) == (250 + 1800, 281)
        assert grace.points_pending == 300 and grace.points_available == 250
        assert (referral.status, referral.referrer_id) == ("pending", ada.id)
        # Alan bought two at 25.00 and returned one: half of 250 points reversed.
        assert alan.points_pending == 125
        assert "Silver" in describe(demo)
        assert demo.emulator.shop(DEMO_SHOP).metafields
    finally:
        demo.stop()


def test_the_demo_on_another_port_prints_a_run_due_command_whose_emails_link_to_that_port(
        tmp_path):
    # The demo's default database is instance/loyalty.db under the folder it runs in; the
    # command runs as a newcomer runs it from another terminal, there, with a plain environment.
    (tmp_path / "instance").mkdir()
    (tmp_path / ".venv").symlink_to(REPO_ROOT / ".venv")
    demo = start_demo(database_url=f"sqlite:///{tmp_path / 'instance' / 'loyalty.db'}", port=0)
    try:
        seed_demo_shop(demo)
        assert not demo.app_url.endswith(":8000")
        [command] = [line.strip() for line in instructions(demo).splitlines()
                     if "run-due" in line]
        env = {k: v for k, v in os.environ.items() if k not in (
            "SHOPIFY_APP_URL", "DATABASE_URL", "REDIS_URL", "SMTP_URL", "APP_ENV")}
        env["PYTHONPATH"] = str(REPO_ROOT)
        # The demo shop is in New York: at its night the emails wait for its morning.
        now = datetime.now(UTC).replace(tzinfo=None)
        daytime = now.replace(hour=15, minute=0, second=0, microsecond=0)
        daytime += timedelta(days=1) if daytime < now else timedelta(0)
        command += f" --now {daytime:%Y-%m-%dT%H:%M:%SZ}"
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, text=True,
                              capture_output=True, timeout=120, start_new_session=True)
        assert done.returncode == 0, done.stderr
        assert re.search(r"\bsent [1-9]", done.stdout), done.stdout
        emails = sorted((tmp_path / "instance" / "outbox").glob("*.eml"))
        assert emails
        for path in emails:
            email = _email(path)
            html = email.get_body(("html",)).get_content()
            links = re.findall(r'href="(http://127\.0\.0\.1:\d+)/e/', html)
            assert links and set(links) == {demo.app_url}, path.name
            assert email["List-Unsubscribe"] == f"<{demo.app_url}/e/unsubscribe/" + (
                email["List-Unsubscribe"].split("/e/unsubscribe/")[1])
        welcome = next(e for e in map(_email, emails) if e["To"] == "ada@example.com"
                       and e["Subject"].startswith("Welcome"))
        _screenshot(welcome, REPO_ROOT / "test-output" / "demo-email.png")
    finally:
        demo.stop()


def _email(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def _screenshot(email: EmailMessage, path: Path) -> None:
    """The email as a mail client shows it (From, To, Subject over the HTML body), in Chromium;
    docs/demo-email.png is a copy."""
    if not Path(CHROMIUM).exists():
        missing_tool("chromium", f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    header = "".join(f'<div><span style="color:#6b7280;display:inline-block;width:64px">{name}'
                     f'</span>{html.escape(str(email[name]))}</div>'
                     for name in ("From", "To", "Subject"))
    path.parent.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 680, "height": 200})
            page.route("**/*", lambda route: route.abort())  # the open pixel: nothing is fetched
            page.set_content(email.get_body(("html",)).get_content(),
                             wait_until="domcontentloaded")
            page.evaluate("""header => {
                const bar = document.createElement('div');
                bar.setAttribute('style', 'font:13px/1.6 system-ui,sans-serif;color:#111827;'
                    + 'background:#fff;border-bottom:1px solid #e5e7eb;padding:10px 20px');
                bar.innerHTML = header;
                document.body.style.margin = '0';
                document.body.prepend(bar);
            }""", header)
            page.screenshot(path=str(path), full_page=True)
        finally:
            browser.close()
