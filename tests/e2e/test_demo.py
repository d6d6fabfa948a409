"""`make demo` keeps working: a demo shop installed through the emulator, with a history."""

import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import select

from app.demo import DEMO_SHOP, describe, instructions, seed_demo_shop, start_demo
from app.models import Member, Referral, Shop

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
            email = message_from_bytes(path.read_bytes(), policy=policy.default)
            html = email.get_body(("html",)).get_content()
            links = re.findall(r'href="(http://127\.0\.0\.1:\d+)/e/', html)
            assert links and set(links) == {demo.app_url}, path.name
            assert email["List-Unsubscribe"] == f"<{demo.app_url}/e/unsubscribe/" + (
                email["List-Unsubscribe"].split("/e/unsubscribe/")[1])
    finally:
        demo.stop()
