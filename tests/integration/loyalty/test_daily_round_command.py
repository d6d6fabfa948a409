"""`flask daily-round` and `flask run-due` as cron runs them: any ISO 8601 `--now`, and a
non-zero exit naming the shop whenever a shop's work failed."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.loyalty.ledger import post
from app.models import Member, Message, Referral, SettingsVersion, Shop
from tests.conftest import app_config
from tests.factories import T0, make_member, make_shop
from tests.integration.loyalty.test_referrals import friend_orders, given_ada

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
