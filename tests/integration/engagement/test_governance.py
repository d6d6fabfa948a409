"""Opt-out, consent, the frequency cap, quiet hours and the reward budget, each recorded."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from app.engagement.rules import quiet_hours_end
from app.messaging.dispatch import Dispatcher, send_message
from app.messaging.mailer import SmtpMailer
from app.models import LedgerEntry, Shop
from app.pipeline.jobs import dispatcher_for
from tests.integration.engagement.conftest import NEW_YORK, T0, build_shopfront, days
from tests.support.smtp_fixture import body_text

ADA, GRACE, ALAN = 9001, 9002, 9003
ADA_EMAIL, GRACE_EMAIL, ALAN_EMAIL = "ada@example.com", "grace@example.com", "alan@example.com"


def _statuses(shopfront, kind):
    """(status, reason) of the shop's messages of a kind, oldest first."""
    return [(m.status, m.reason) for m in shopfront.messages(kind)]


def test_an_unsubscribe_link_asks_once_then_is_honoured_at_once_and_recorded_as_the_reason(
        shopfront):
    member_id = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0)
    [welcome] = shopfront.inbox(ADA_EMAIL)
    link = body_text(welcome).split("Unsubscribe: ")[1].split()[0]
    assert welcome["List-Unsubscribe"] == f"<{link}>"
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire the header is the bare <URL> mail clients act on, never an encoded word.
    assert f"\r\nList-Unsubscribe: <{link}>\r\n".encode() in shopfront.smtp.raw[0]
    path = link.removeprefix("https://loyalty.test")
    client = shopfront.client(T0 + days(1))
    page = client.get(path)
    assert page.status_code == 200 and f'<form method="post" action="{path}">' in page.text
    assert shopfront.member(member_id).unsubscribed_at is None
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You're unsubscribed" in done.text
    assert shopfront.member(member_id).unsubscribed_at == T0 + days(1)
    # The link again, once unsubscribed: the page says so and offers the way back.
    assert "You're unsubscribed" in client.get(path).text
    shopfront.run_due(T0 + days(14))
    shopfront.run_due(T0 + days(30))
    assert len(shopfront.inbox(ADA_EMAIL)) == 1
    assert _statuses(shopfront, "nps_request") == [("suppressed", "unsubscribed")]
    assert _statuses(shopfront, "points_unlocked") == [("suppressed", "unsubscribed")]


def test_a_mail_scanner_fetching_every_link_of_an_email_unsubscribes_nobody(shopfront):
    member_id = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0)
    [welcome] = shopfront.inbox(ADA_EMAIL)
    client = shopfront.client(T0 + days(1))
    links = {word for word in body_text(welcome).split() if word.startswith("https://")}
    links.add(welcome["List-Unsubscribe"].strip("<>"))
    assert any("/e/unsubscribe/" in link for link in links)
    for link in links:
        # What a scanner does: GET and HEAD every URL it finds.
        client.get(link.removeprefix("https://loyalty.test"))
        client.head(link.removeprefix("https://loyalty.test"))
    assert shopfront.member(member_id).unsubscribed_at is None


def test_a_mail_clients_one_click_post_unsubscribes_and_the_page_can_undo_it(shopfront):
    member_id = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0)
    path = shopfront.inbox(ADA_EMAIL)[0]["List-Unsubscribe"].strip("<>").removeprefix(
        "https://loyalty.test")
    client = shopfront.client(T0 + days(1))
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert shopfront.member(member_id).unsubscribed_at == T0 + days(1)
    token = path.rsplit("/", 1)[1]
    assert client.post(f"/e/resubscribe/{token}").status_code == 200
    assert shopfront.member(member_id).unsubscribed_at is None


def test_a_forged_or_foreign_link_changes_nothing(shopfront):
    member_id = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0)
    store = body_text(shopfront.inbox(ADA_EMAIL)[0]).split("Redeem at Tea & Co: ")[1].split()[0]
    click_token = store.rsplit("/", 1)[1]
    client = shopfront.client(T0 + days(1))
    # A click link is signed for clicks only: it cannot unsubscribe anyone.
    assert client.get(f"/e/unsubscribe/{click_token}").status_code == 404
    payload, signature = click_token.split(".")
    assert client.get(f"/e/unsubscribe/{payload}.{signature[:-2]}AA").status_code == 404
    assert shopfront.member(member_id).unsubscribed_at is None


def test_promotional_flows_need_marketing_consent_and_notices_follow_the_shop_setting(
        shopfront):
    shopfront.customer(GRACE, GRACE_EMAIL, "Grace", consent=False)
    shopfront.pay(5001, GRACE, GRACE_EMAIL, "60.00", T0)
    shopfront.run_due(T0)
    shopfront.run_due(T0 + days(14))
    assert [m["Subject"] for m in shopfront.inbox(GRACE_EMAIL)] == [
        "Welcome to Tea & Co rewards, Grace"]
    assert _statuses(shopfront, "nps_request") == [("suppressed", "no_marketing_consent")]
    shopfront.settings(transactional_needs_consent=True)
    shopfront.run_due(T0 + days(30))
    assert _statuses(shopfront, "points_unlocked") == [("suppressed", "no_marketing_consent")]
    assert len(shopfront.inbox(GRACE_EMAIL)) == 1


def test_the_frequency_cap_allows_two_promotional_messages_a_week(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    for order_id in (5001, 5002, 5003):
        shopfront.pay(order_id, ADA, ADA_EMAIL, "30.00", T0)
    shopfront.run_due(T0 + days(14))
    surveys = [m["Subject"] for m in shopfront.inbox(ADA_EMAIL) if "question" in m["Subject"]]
    assert surveys == ["One quick question about order #5001",
                       "One quick question about order #5002"]
    assert _statuses(shopfront, "nps_request") == [
        ("sent", None), ("sent", None), ("suppressed", "frequency_cap")]


def test_transactional_notices_go_first_and_are_never_held_by_the_cap(shopfront):
    shopfront.settings(frequency_cap_messages=1)
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "30.00", T0)
    shopfront.pay(5002, ADA, ADA_EMAIL, "30.00", T0 + days(16))
    # Due together at T0+30: 5001's points unlock, 5002's survey. One slot: the notice wins.
    shopfront.run_due(T0 + days(30))
    assert [m["Subject"] for m in shopfront.inbox(ADA_EMAIL)] == [
        "Your 150 points are ready to use"]
    assert [(m.natural_key, m.status, m.reason) for m in shopfront.messages("nps_request")] == [
        ("nps_request:5001", "cancelled", "too_late"),
        ("nps_request:5002", "suppressed", "frequency_cap")]
    # The cap is reached, and yet the next notice goes: transactional mail is never held.
    shopfront.run_due(T0 + days(46))
    assert shopfront.inbox(ADA_EMAIL)[-1]["Subject"] == "Your 150 points are ready to use"
    assert len(shopfront.inbox(ADA_EMAIL)) == 2


def test_quiet_hours_end_at_the_shops_morning_across_midnight_and_daylight_saving():
    shop = Shop(domain="x.myshopify.com", timezone=NEW_YORK)
    # 23:00 in New York (EST) → 08:00 the next morning.
    assert quiet_hours_end(datetime(2026, 11, 3, 4, 0), shop, 21, 8) == datetime(2026, 11, 3, 13)
    # 07:59 → 08:00 the same morning; 08:00 is not quiet; 20:59 is not quiet.
    assert quiet_hours_end(datetime(2026, 11, 3, 12, 59), shop, 21, 8) == datetime(
        2026, 11, 3, 13)
    assert quiet_hours_end(datetime(2026, 11, 3, 13, 0), shop, 21, 8) is None
    assert quiet_hours_end(datetime(2026, 11, 4, 1, 59), shop, 21, 8) is None
    # The night clocks spring forward (14 March 2027): 08:00 EDT is 12:00 UTC.
    assert quiet_hours_end(datetime(2027, 3, 14, 4, 0), shop, 21, 8) == datetime(
        2027, 3, 14, 12)
    # A window within one day, and none at all.
    assert quiet_hours_end(datetime(2026, 11, 3, 17, 30), shop, 12, 14) == datetime(
        2026, 11, 3, 19)
    assert quiet_hours_end(datetime(2026, 11, 3, 4, 0), shop, 8, 8) is None


def test_a_message_due_at_night_goes_at_the_end_of_quiet_hours(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    night = T0 + days(12 / 24)  # 22:00 in New York
    shopfront.pay(5001, ADA, ADA_EMAIL, "30.00", night)
    assert shopfront.run_due(night)["deferred"] == 1
    welcome = shopfront.message("welcome")
    assert (welcome.status, welcome.reason, welcome.scheduled_at) == (
        "scheduled", "quiet_hours", T0 + days(22 / 24))
    shopfront.run_due(T0 + days(22 / 24))
    assert len(shopfront.inbox(ADA_EMAIL)) == 1


def _quiet_member(shopfront, customer_id, email, name, first_order_id, start):
    """A member with two orders ten days apart: win-back is due 20 days after the second."""
    shopfront.customer(customer_id, email, name)
    shopfront.pay(first_order_id, customer_id, email, "20.00", start)
    shopfront.pay(first_order_id + 1, customer_id, email, "20.00", start + days(10))


def test_the_daily_reward_budget_suppresses_offers_beyond_it_until_the_next_day(shopfront):
    # One 200-point offer is worth 2.00; no frequency cap here (0), so only the budget speaks.
    shopfront.settings(daily_reward_budget="3.00", frequency_cap_messages=0)
    _quiet_member(shopfront, ADA, ADA_EMAIL, "Ada", 5001, T0)
    _quiet_member(shopfront, GRACE, GRACE_EMAIL, "Grace", 5011, T0)
    _quiet_member(shopfront, ALAN, ALAN_EMAIL, "Alan", 5021, T0 + days(1))
    shopfront.daily(T0 + days(30))
    shopfront.run_due(T0 + days(30))
    shopfront.daily(T0 + days(31))
    shopfront.run_due(T0 + days(31))
    assert _statuses(shopfront, "win_back") == [
        ("sent", None), ("suppressed", "daily_budget_reached"), ("sent", None)]
    with shopfront.db.sessions() as s:
        offers = s.execute(select(LedgerEntry.points).where(
            LedgerEntry.actor == "engagement")).scalars().all()
    assert offers == [200, 200]
    assert [m["To"] for m in shopfront.smtp.messages() if "We miss you" in m["Subject"]] == [
        ADA_EMAIL, ALAN_EMAIL]


def test_a_flow_switched_off_schedules_nothing_and_suppresses_what_was_waiting(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "30.00", T0)
    shopfront.settings(flows={"nps_request": {"enabled": False}})
    shopfront.pay(5002, ADA, ADA_EMAIL, "30.00", T0 + days(1))
    shopfront.run_due(T0 + days(14))
    assert [(m.natural_key, m.status, m.reason) for m in shopfront.messages("nps_request")] == [
        ("nps_request:5001", "suppressed", "flow_disabled")]


def test_a_message_more_than_its_flows_delay_late_is_cancelled_not_sent(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "30.00", T0)
    shopfront.run_due(T0 + days(4))
    assert _statuses(shopfront, "welcome") == [("cancelled", "too_late")]
    assert shopfront.inbox(ADA_EMAIL) == []


def _free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_smtp_server_is_retried_later_and_a_refused_recipient_fails(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.customer(GRACE, GRACE_EMAIL, "Grace")
    shopfront.pay(5001, ADA, ADA_EMAIL, "30.00", T0)
    shopfront.pay(5002, GRACE, GRACE_EMAIL, "30.00", T0)
    working = dispatcher_for(shopfront.app.extensions["runtime"])
    down = Dispatcher(working.db, SmtpMailer("127.0.0.1", _free_port(), "rewards@loyalty.test",
                                             timeout=2), working.signer,
                      working.wake)
    ada_welcome, grace_welcome = shopfront.messages("welcome")
    assert send_message(down, ada_welcome.id, T0) == "retry"
    retried = shopfront.messages("welcome")[0]
    assert (retried.status, retried.reason, retried.scheduled_at) == (
        "scheduled", "smtp_retry_1", T0 + days(10 / 1440))
    assert send_message(working, ada_welcome.id, T0 + days(5 / 1440)) == "not_due"
    assert send_message(working, ada_welcome.id, T0 + days(10 / 1440)) == "sent"
    shopfront.smtp.refuse.add(GRACE_EMAIL)
    assert send_message(working, grace_welcome.id, T0) == "failed"
    assert _statuses(shopfront, "welcome") == [
        ("sent", "smtp_retry_1"), ("failed", "recipient_refused")]
    assert len(shopfront.inbox(ADA_EMAIL)) == 1


def test_two_workers_sending_the_same_message_at_once_send_it_once(pg, smtp_server):
    front = build_shopfront(pg, smtp_server)
    front.customer(ADA, ADA_EMAIL, "Ada")
    front.pay(5001, ADA, ADA_EMAIL, "30.00", T0)
    [welcome] = front.messages("welcome")
    dispatcher = dispatcher_for(front.app.extensions["runtime"])
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def worker() -> None:
        """One worker: wait for the others, then send."""
        start.wait()
        outcomes.append(send_message(dispatcher, welcome.id, T0))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["not_scheduled"] * 3 + ["sent"]
    assert len(smtp_server.to(ADA_EMAIL)) == 1


def test_a_members_own_referral_shares_never_count_against_the_frequency_cap(db):
    from app.engagement.rules import messages_sent_recently
    from app.loyalty.program import current_settings
    from app.loyalty.referrals import record_referral_share
    from tests.support.factories import T0 as F0
    from tests.support.factories import make_member, make_shop

    with db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        for minute in range(3):
            record_referral_share(s, shop, member, "copy", F0 + timedelta(minutes=minute))
        assert messages_sent_recently(s, member.id, current_settings(s, shop.id),
                                      F0 + timedelta(hours=1)) == 0
