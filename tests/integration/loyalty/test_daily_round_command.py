"""`flask daily-round` and `flask run-due` as cron runs them: any ISO 8601 `--now`, and a
non-zero exit naming the shop whenever a shop's work failed."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.loyalty.ledger import post
from app.models import Member, Message, Referral, SettingsVersion, Shop
from tests.conftest import app_config
from tests.integration.loyalty.test_referrals import friend_orders, given_ada
from tests.support.factories import T0, make_member, make_shop

# 31 days after T0: Ada's order points (30 days pending) unlock, the friend's return window
# (30 days) has passed.
LATER = T0 + timedelta(days=31)
NOW_FORMS = [LATER.strftime("%Y-%m-%dT%H:%M:%SZ"), LATER.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
             LATER.isoformat(), (LATER + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")]


def ada_with_pending_points_and_a_friend(db):
    """A shop where Ada has 400 points pending until T0+30d and a referral due at T0+30d."""
    with db.transaction() as s:
        shop, ada = given_ada(s)
        post(s, ada, points=400, kind="earn_order", source_key="order:1:earn", now=T0,
             available_at=T0 + timedelta(days=30), order_id=1)
        friend_orders(s, shop, ada.referral_code)
        return shop.domain, ada.id


BROKEN_TIERS = {"tiers": {"levels": [{"name": "Bronze", "threshold": "lots", "multiplier": "1"}]}}


def a_shop_whose_round_fails(db, domain, data=BROKEN_TIERS):
    """A shop whose saved settings cannot be read (by default a tier threshold not a number)."""
    with db.transaction() as s:
        shop = make_shop(s, domain=domain)
        s.add(SettingsVersion(shop_id=shop.id, version=1, created_at=T0, data=data))


def run(db, *args, outbox=None):
    """The command as cron runs it, on the test database (emails to `outbox`, if given)."""
    extra = {"OUTBOX_DIR": str(outbox)} if outbox is not None else {}
    return create_app(app_config(db, **extra)).test_cli_runner().invoke(args=list(args))


@pytest.mark.parametrize("now", NOW_FORMS)
def test_the_daily_round_unlocks_and_pays_referrals_with_any_iso_now(db, now):
    domain, ada_id = ada_with_pending_points_and_a_friend(db)
    result = run(db, "daily-round", "--now", now)
    assert result.exit_code == 0, result.output
    assert f"{domain}: unlocked 1, expired 0, referrals paid 1" in result.output
    with db.sessions() as s:
        ada = s.get(Member, ada_id)
        # 400 unlocked + 500 for the friend referred.
        assert (ada.points_available, ada.points_pending) == (900, 0)
        referral = s.execute(select(Referral)).scalar_one()
        assert referral.status == "rewarded"


def test_a_shop_whose_daily_round_fails_makes_the_command_fail_and_is_named(db):
    a_shop_whose_round_fails(db, "broken-settings.myshopify.com")
    domain, ada_id = ada_with_pending_points_and_a_friend(db)
    result = run(db, "daily-round", "--now", NOW_FORMS[0])
    assert result.exit_code == 1
    assert "daily round failed for 1 shop(s): broken-settings.myshopify.com" in result.output
    # The healthy shop's round still ran.
    assert f"{domain}: unlocked 1" in result.output
    with db.sessions() as s:
        assert s.get(Member, ada_id).points_available == 900


@pytest.mark.parametrize("command", ["daily-round", "run-due"])
def test_a_now_that_is_not_iso_8601_is_refused_before_any_work(db, command):
    result = run(db, command, "--now", "next tuesday")
    assert result.exit_code == 2
    assert "is not an ISO 8601 time" in result.output


@pytest.mark.parametrize("now", NOW_FORMS)
def test_run_due_sends_what_is_due_with_any_iso_now(db, now, tmp_path):
    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        s.add(Message(shop_id=shop.id, member_id=member.id, kind="welcome",
                      natural_key="welcome:1", scheduled_at=LATER - timedelta(minutes=5),
                      created_at=LATER - timedelta(minutes=5)))
    result = run(db, "run-due", "--now", now, outbox=tmp_path)
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.iterdir())) == 1
    with db.sessions() as s:
        message = s.execute(select(Message)).scalar_one()
        assert (result.output.strip(), message.status) == ("sent 1", "sent")


def test_a_shop_whose_due_message_fails_makes_run_due_fail_and_is_named(db, tmp_path):
    a_shop_whose_round_fails(db, "broken-settings.myshopify.com", {"engagement": "broken"})
    with db.transaction() as s:
        shop = s.execute(select(Shop).where(
            Shop.domain == "broken-settings.myshopify.com")).scalar_one()
        member = make_member(s, shop)
        s.add(Message(shop_id=shop.id, member_id=member.id, kind="welcome",
                      natural_key="welcome:1", scheduled_at=T0, created_at=T0))
    result = run(db, "run-due", "--now", NOW_FORMS[0], outbox=tmp_path)
    assert result.exit_code == 1, result.output
    assert "error 1" in result.output
    assert ("sending due messages failed for 1 shop(s): broken-settings.myshopify.com"
            in result.output)


def welcomes_due(db, *, timezone, count, domain=None):
    """`count` members of a shop in `timezone`, each with a welcome due five minutes ago."""
    due = datetime(2026, 12, 5, 0, 55)
    with db.transaction() as s:
        shop = make_shop(s, domain=domain, timezone=timezone)
        for n in range(count):
            member = make_member(s, shop)
            s.add(Message(shop_id=shop.id, member_id=member.id, kind="welcome",
                          natural_key=f"welcome:{n}", scheduled_at=due, created_at=due))


@pytest.mark.parametrize("now", ["2026-12-05T01:00:00Z", "2026-12-05T12:59:00Z"])
def test_run_due_in_quiet_hours_says_when_the_deferred_messages_go_out(db, now, tmp_path):
    # 21:00-08:00 in New York is 02:00-13:00 UTC in December; at 01:00 UTC it is 20:00 local.
    welcomes_due(db, timezone="America/New_York", count=4)
    result = run(db, "run-due", "--now", now, outbox=tmp_path)
    assert result.exit_code == 0, result.output
    if now.startswith("2026-12-05T01"):
        assert result.output.strip() == "sent 4"
        return
    assert result.output.strip() == (
        "deferred 4 (quiet hours in America/New_York until 08:00 local, 13:00 UTC)")
    assert list(tmp_path.iterdir()) == []


def test_run_due_names_each_shops_end_of_quiet_hours_with_its_date_when_not_today(
        db, tmp_path):
    welcomes_due(db, timezone="America/New_York", count=3)
    welcomes_due(db, timezone="Europe/Paris", count=1)
    # 22:30 UTC: 17:30 in New York (not quiet), 23:30 in Paris (quiet until 08:00 tomorrow).
    result = run(db, "run-due", "--now", "2026-12-05T22:30:00Z", outbox=tmp_path)
    assert result.output.strip() == (
        "deferred 1 (quiet hours in Europe/Paris until 2026-12-06 08:00 local, 07:00 UTC), "
        "sent 3")
    # 03:00 UTC: 22:00 in New York, 04:00 in Paris: both shops wait, each until its morning.
    welcomes_due(db, timezone="America/New_York", count=2, domain="late.myshopify.com")
    welcomes_due(db, timezone="Europe/Paris", count=1, domain="early.myshopify.com")
    result = run(db, "run-due", "--now", "2026-12-06T03:00:00Z", outbox=tmp_path)
    assert result.output.strip() == (
        "deferred 3 (quiet hours: 2 in America/New_York until 2026-12-06 08:00 local, "
        "13:00 UTC; 1 in Europe/Paris until 08:00 local, 07:00 UTC)")
