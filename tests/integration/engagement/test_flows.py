"""Each flow end to end on a frozen clock: the right member gets the right email, once."""

from __future__ import annotations

from sqlalchemy import select

from app.engagement.surveys import detractor_alerts
from app.loyalty.bonuses import set_birthday
from app.models import LedgerEntry, Member, SurveyResponse
from tests.integration.engagement.conftest import CUPS, T0, TEA, days
from tests.support.smtp_fixture import body_html, body_text

ADA, GRACE = 9001, 9002
ADA_EMAIL, GRACE_EMAIL = "ada@example.com", "grace@example.com"


def test_the_first_earning_order_welcomes_the_member_once_with_balance_and_how_to_redeem(
        shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)  # the webhook delivered twice
    assert shopfront.run_due(T0)["sent"] == 1
    [email] = shopfront.inbox(ADA_EMAIL)
    assert email["Subject"] == "Welcome to Tea & Co rewards, Ada"
    assert email["From"] == "Tea & Co <rewards@loyalty.test>"
    assert email["Reply-To"] == "owner@tea.example"
    text = body_text(email)
    assert ("Your first order earned you 300 points, ready to use on December 2, 2026 once "
            "the return window has passed.") in text
    assert "You earn 5 points for every $1 you spend." in text
    assert "Your balance: 0 points to spend, 300 on the way (Bronze member)." in text
    assert "400 more points and Free shipping is yours." in text
    assert "300 points" in body_html(email)
    shopfront.pay(5002, ADA, ADA_EMAIL, "20.00", T0 + days(5))
    shopfront.run_due(T0 + days(5))
    assert [m["Subject"] for m in shopfront.inbox(ADA_EMAIL)] == [
        "Welcome to Tea & Co rewards, Ada"]
    assert shopfront.message("welcome").status == "sent"


def test_an_order_that_earns_nothing_sends_no_welcome(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "0.10", T0)
    shopfront.run_due(T0)
    assert shopfront.messages("welcome") == []


def test_points_unlocked_notice_arrives_when_the_pending_period_ends(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "120.00", T0)
    shopfront.run_due(T0)  # the welcome
    shopfront.run_due(T0 + days(30) - days(1 / 24))
    assert len(shopfront.inbox(ADA_EMAIL)) == 1
    shopfront.run_due(T0 + days(30))
    [_, email] = shopfront.inbox(ADA_EMAIL)
    assert email["Subject"] == "Your 600 points are ready to use"
    text = body_text(email)
    assert "The 600 points from order #5001 are now available to spend." in text
    assert "Your balance: 600 points to spend (Bronze member)." in text
    assert "That's enough for $5 off (500 points)." in text


def test_unlock_notice_counts_only_the_points_a_partial_refund_left(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "120.00", T0)
    shopfront.refund(7001, 5001, "40.00", T0 + days(3))
    shopfront.run_due(T0 + days(30))
    assert shopfront.inbox(ADA_EMAIL)[-1]["Subject"] == "Your 400 points are ready to use"


def test_a_fully_refunded_order_sends_no_unlock_notice(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "120.00", T0)
    shopfront.refund(7001, 5001, "120.00", T0 + days(3))
    shopfront.run_due(T0 + days(30))
    unlocked = shopfront.message("points_unlocked")
    assert (unlocked.status, unlocked.reason) == ("cancelled", "order_refunded")


def test_review_request_goes_ten_days_after_fulfilment_and_pays_one_bonus_per_product(
        shopfront):
    member_id = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0)
    shopfront.fulfil(5001, T0 + days(2))
    shopfront.run_due(T0 + days(12) - days(1 / 24))
    assert len(shopfront.inbox(ADA_EMAIL)) == 1
    shopfront.run_due(T0 + days(12))
    email = shopfront.inbox(ADA_EMAIL)[-1]
    assert email["Subject"] == "How is your order #5001? Earn 100 points"
    text = body_text(email)
    assert "Tell other shoppers about Loose-leaf tea from order #5001." in text
    review_url = text.split("Write a review: ")[1].split()[0]
    path = review_url.removeprefix("https://loyalty.test")
    client = shopfront.client(T0 + days(13))
    form = client.get(path)
    assert form.status_code == 200 and "Loose-leaf tea" in form.text
    sent = client.post(path, data={"product_id": str(TEA), "rating": "5", "body": "Lovely"})
    assert sent.status_code == 200 and "100 points" in sent.text
    again = client.post(path, data={"product_id": str(TEA), "rating": "1", "body": "Changed"})
    assert again.status_code == 200 and "You already reviewed" in again.text
    with shopfront.db.sessions() as s:
        bonuses = s.execute(select(LedgerEntry.points).where(
            LedgerEntry.member_id == member_id, LedgerEntry.kind == "bonus_review")).all()
    assert bonuses == [(100,)]
    assert shopfront.message("review_request").clicked_at == T0 + days(13)


def test_a_refund_cancels_a_pending_review_request(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.fulfil(5001, T0 + days(2))
    assert shopfront.message("review_request").status == "scheduled"
    shopfront.refund(7001, 5001, "60.00", T0 + days(5))
    request = shopfront.message("review_request")
    assert (request.status, request.reason) == ("cancelled", "order_refunded")
    shopfront.run_due(T0 + days(12))
    assert not [m for m in shopfront.inbox(ADA_EMAIL) if "review" in m["Subject"].lower()]


def test_a_review_request_for_an_order_refunded_before_it_was_due_is_not_sent_even_if_the_refund_came_first(  # noqa: E501
        shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.refund(7001, 5001, "10.00", T0 + days(1))
    shopfront.fulfil(5001, T0 + days(2))
    assert shopfront.messages("review_request") == []


def test_nps_request_asks_members_who_did_not_answer_on_the_thank_you_page(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    grace_id = shopfront.customer(GRACE, GRACE_EMAIL, "Grace")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.pay(5002, GRACE, GRACE_EMAIL, "60.00", T0)
    with shopfront.session() as s:
        s.add(SurveyResponse(shop_id=shopfront.shop_id, member_id=grace_id, order_id=5002,
                             score=9, channel="thank_you", detractor=False, created_at=T0))
    shopfront.run_due(T0 + days(14))
    [survey] = [m for m in shopfront.inbox(ADA_EMAIL) if "question" in m["Subject"]]
    assert survey["Subject"] == "One quick question about order #5001"
    assert "Answering earns you 50 points." in body_text(survey)
    assert "question" not in " ".join(m["Subject"] for m in shopfront.inbox(GRACE_EMAIL))
    grace_survey = [m for m in shopfront.messages("nps_request") if m.member_id == grace_id]
    assert [(m.status, m.reason) for m in grace_survey] == [("cancelled", "already_answered")]


def test_a_detractor_answer_alerts_the_merchant_with_the_comment_and_the_order(shopfront):
    member_id = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0 + days(14))
    survey = shopfront.inbox(ADA_EMAIL)[-1]
    score_3 = [line for line in body_text(survey).splitlines() if line.startswith("3: ")][0]
    path = score_3.removeprefix("3: ").removeprefix("https://loyalty.test")
    answered_at = T0 + days(14) + days(1 / 24)
    client = shopfront.client(answered_at)
    confirm = client.get(path)
    assert confirm.status_code == 200 and 'value="3" required checked' in confirm.text
    page = client.post(path.split("?")[0], data={"score": "3"})
    assert page.status_code == 200 and "you answered 3" in page.text
    assert "50 points" in page.text
    client.post(path.split("?")[0], data={"score": "3", "comment": "The tea arrived cold."})
    shopfront.run_due(answered_at + days(10 / 1440))
    assert shopfront.inbox("owner@tea.example") == []  # the alert waits for the comment
    shopfront.run_due(answered_at + days(15 / 1440))
    [alert] = shopfront.inbox("owner@tea.example")
    assert alert["Subject"] == "Detractor alert: 3/10 on order #5001"
    text = body_text(alert)
    assert "Ada Tester (ada@example.com) answered the survey about order #5001 (email)." in text
    assert "Comment: The tea arrived cold." in text
    with shopfront.db.sessions() as s:
        [(points,)] = s.execute(select(LedgerEntry.points).where(
            LedgerEntry.member_id == member_id, LedgerEntry.kind == "bonus_nps")).all()
    assert points == 50


def test_a_mail_scanner_fetching_every_score_link_casts_no_score_and_pays_no_bonus(shopfront):
    member_id = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0 + days(14))
    survey = shopfront.inbox(ADA_EMAIL)[-1]
    links = [line.split(": ", 1)[1] for line in body_text(survey).splitlines()
             if line[:1].isdigit() and ": https://" in line]
    assert len(links) == 11
    client = shopfront.client(T0 + days(14))
    for link in links:
        # What a scanner does: GET and HEAD every URL it finds.
        assert client.get(link.removeprefix("https://loyalty.test")).status_code == 200
        client.head(link.removeprefix("https://loyalty.test"))
    shopfront.run_due(T0 + days(15))
    with shopfront.db.sessions() as s:
        assert s.execute(select(SurveyResponse)).all() == []
        assert s.execute(select(LedgerEntry).where(
            LedgerEntry.member_id == member_id, LedgerEntry.kind == "bonus_nps")).all() == []
    assert shopfront.messages("detractor_alert") == []
    # Ada's own answer, sent from the page, counts.
    answered = client.post(links[8].removeprefix("https://loyalty.test").split("?")[0],
                           data={"score": "8", "comment": ""})
    assert answered.status_code == 200 and "you answered 8" in answered.text
    with shopfront.db.sessions() as s:
        assert [(r.score, r.comment) for r in s.execute(select(SurveyResponse)).scalars()] == [
            (8, None)]


def test_every_detractor_from_the_thank_you_page_raises_an_alert_once(shopfront):
    member_id = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.pay(5002, ADA, ADA_EMAIL, "30.00", T0)
    with shopfront.session() as s:
        s.add_all([
            SurveyResponse(shop_id=shopfront.shop_id, member_id=member_id, order_id=5001,
                           score=6, comment="Slow delivery", channel="thank_you",
                           detractor=True, created_at=T0),
            SurveyResponse(shop_id=shopfront.shop_id, member_id=member_id, order_id=5002,
                           score=7, channel="thank_you", detractor=False, created_at=T0)])
    shopfront.run_due(T0 + days(1 / 24))
    shopfront.run_due(T0 + days(2 / 24))
    [alert] = shopfront.inbox("owner@tea.example")
    assert alert["Subject"] == "Detractor alert: 6/10 on order #5001"
    assert "Comment: Slow delivery" in body_text(alert)
    with shopfront.db.sessions() as s:
        listed = detractor_alerts(s, shopfront.shop_id)
    assert [(a["order_id"], a["score"], a["comment"], a["alert"], a["alerted_at"])
            for a in listed] == [("5001", 6, "Slow delivery", "sent", T0 + days(1 / 24))]


def test_points_expiring_in_30_days_are_announced_once_and_not_after_new_activity(shopfront):
    ada = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    grace = shopfront.customer(GRACE, GRACE_EMAIL, "Grace")
    shopfront.pay(5001, ADA, ADA_EMAIL, "140.00", T0)
    shopfront.pay(5002, GRACE, GRACE_EMAIL, "140.00", T0)
    shopfront.run_due(T0)
    # Points expire 12 months after the last activity: 2 November 2027.
    shopfront.daily(T0 + days(334))
    assert shopfront.messages("expiry_warning") == []
    shopfront.daily(T0 + days(335))
    shopfront.daily(T0 + days(336))
    assert len(shopfront.messages("expiry_warning")) == 2
    with shopfront.session() as s:
        grace_member = s.get(Member, grace)
        from app.loyalty.ledger import post

        post(s, grace_member, points=10, kind="adjust", source_key="goodwill",
             now=T0 + days(336))
    shopfront.run_due(T0 + days(336))
    [warning] = [m for m in shopfront.inbox(ADA_EMAIL) if "expire" in m["Subject"]]
    assert warning["Subject"] == "700 points expire on November 2, 2027"
    warnings = {m.member_id: (m.status, m.reason) for m in shopfront.messages("expiry_warning")}
    assert warnings == {ada: ("sent", None), grace: ("cancelled", "active_since")}


def test_a_tier_upgrade_is_congratulated_and_a_tier_at_risk_is_warned_before_its_review(
        shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "360.00", T0)
    shopfront.run_due(T0)
    subjects = [m["Subject"] for m in shopfront.inbox(ADA_EMAIL)]
    assert "You're Silver now" in subjects
    upgraded = [m for m in shopfront.inbox(ADA_EMAIL) if m["Subject"] == "You're Silver now"][0]
    assert "From your next order you earn 1.25x points." in body_text(upgraded)
    # Silver is reviewed after 365 days; by then the order has left the rolling year.
    shopfront.daily(T0 + days(334))
    assert shopfront.messages("tier_at_risk") == []
    shopfront.daily(T0 + days(335))
    shopfront.run_due(T0 + days(335))
    warning = shopfront.inbox(ADA_EMAIL)[-1]
    assert warning["Subject"] == "Keep your Silver status"
    assert ("Your Silver status is reviewed on November 2, 2027. $300 more before then and "
            "you keep it") in body_text(warning)


def test_a_member_who_already_spent_enough_for_next_year_is_not_warned(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "360.00", T0)
    shopfront.pay(5002, ADA, ADA_EMAIL, "300.00", T0 + days(200))
    shopfront.daily(T0 + days(340))
    assert shopfront.messages("tier_at_risk") == []


def test_the_birthday_email_comes_on_the_birthday_in_the_shops_timezone(shopfront):
    ada = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    with shopfront.session() as s:
        set_birthday(s, s.get(Member, ada), "11-03", T0 - days(30))
    from datetime import datetime

    # 22:00 on 2 November in New York: still the day before.
    shopfront.daily(datetime(2026, 11, 3, 3, 0))
    assert shopfront.messages("birthday") == []
    # 01:00 on 3 November in New York: the bonus is paid, the email waits for the morning.
    shopfront.daily(datetime(2026, 11, 3, 6, 0))
    assert shopfront.run_due(datetime(2026, 11, 3, 6, 0))["deferred"] == 1
    shopfront.run_due(datetime(2026, 11, 3, 12, 59))
    assert shopfront.inbox(ADA_EMAIL) == []
    shopfront.run_due(datetime(2026, 11, 3, 13, 0))
    [email] = shopfront.inbox(ADA_EMAIL)
    assert email["Subject"] == "Happy birthday, Ada!"
    assert "We've added 200 birthday points to your account." in body_text(email)
    shopfront.daily(datetime(2026, 11, 4, 6, 0))
    shopfront.run_due(datetime(2026, 11, 4, 15, 0))
    assert len(shopfront.inbox(ADA_EMAIL)) == 1


def test_replenishment_after_the_median_gap_and_a_win_back_offer_after_twice_that(shopfront):
    ada = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "20.00", T0)
    shopfront.pay(5002, ADA, ADA_EMAIL, "20.00", T0 + days(30))
    shopfront.pay(5003, ADA, ADA_EMAIL, "20.00", T0 + days(70))
    # Gaps of 30 and 40 days: the median interval is 35 days after the last order.
    shopfront.daily(T0 + days(104))
    assert shopfront.messages("replenishment") == []
    shopfront.daily(T0 + days(105))
    shopfront.run_due(T0 + days(105))
    email = shopfront.inbox(ADA_EMAIL)[-1]
    assert email["Subject"] == "Time to restock, Ada?"
    assert ("It's been 35 days since order #5003 (Loose-leaf tea): about when you'd usually "
            "stock up again.") in body_text(email)
    shopfront.daily(T0 + days(139))
    assert shopfront.messages("win_back") == []
    shopfront.daily(T0 + days(140))
    shopfront.run_due(T0 + days(140))
    offer = shopfront.inbox(ADA_EMAIL)[-1]
    assert offer["Subject"] == "We miss you: 200 bonus points inside"
    assert "we've added 200 bonus points (worth $2) to your account." in body_text(offer)
    with shopfront.db.sessions() as s:
        [(points, actor)] = s.execute(select(LedgerEntry.points, LedgerEntry.actor).where(
            LedgerEntry.member_id == ada, LedgerEntry.kind == "adjust")).all()
    assert (points, actor) == (200, "engagement")


def test_a_one_order_member_is_reminded_after_the_products_median_across_members(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.customer(GRACE, GRACE_EMAIL, "Grace")
    shopfront.pay(5001, ADA, ADA_EMAIL, "20.00", T0, product_id=CUPS, title="Tea cups")
    shopfront.pay(5002, ADA, ADA_EMAIL, "20.00", T0 + days(20), product_id=CUPS,
                  title="Tea cups")
    shopfront.pay(5003, GRACE, GRACE_EMAIL, "20.00", T0 + days(5), product_id=CUPS,
                  title="Tea cups")
    shopfront.daily(T0 + days(24))
    assert shopfront.messages("replenishment") == []
    shopfront.daily(T0 + days(25))
    [reminder] = shopfront.messages("replenishment")
    assert reminder.natural_key.endswith(":5003")
    shopfront.run_due(T0 + days(25))
    assert shopfront.inbox(GRACE_EMAIL)[-1]["Subject"] == "Time to restock, Grace?"


def test_an_order_placed_meanwhile_cancels_a_waiting_reminder(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "20.00", T0)
    shopfront.pay(5002, ADA, ADA_EMAIL, "20.00", T0 + days(30))
    at_night = T0 + days(60) + days(12 / 24)  # 22:00 in New York
    shopfront.daily(at_night)
    shopfront.run_due(at_night)
    waiting = shopfront.message("replenishment")
    assert (waiting.status, waiting.reason) == ("scheduled", "quiet_hours")
    shopfront.pay(5003, ADA, ADA_EMAIL, "20.00", at_night + days(1 / 24))
    shopfront.run_due(T0 + days(61))
    reminder = shopfront.message("replenishment")
    assert (reminder.status, reminder.reason) == ("cancelled", "ordered_since")


def test_a_detractor_who_changes_their_score_within_the_grace_period_raises_no_alert(
        shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0 + days(14))
    survey = shopfront.inbox(ADA_EMAIL)[-1]
    path = [line for line in body_text(survey).splitlines() if line.startswith("2: ")][0]
    path = path.removeprefix("2: ").removeprefix("https://loyalty.test")
    client = shopfront.client(T0 + days(14))
    client.post(path.split("?")[0], data={"score": "2"})
    client.post(path.split("?")[0], data={"score": "9", "comment": "Misclicked, sorry!"})
    shopfront.run_due(T0 + days(15))
    assert shopfront.inbox("owner@tea.example") == []
    alert = shopfront.message("detractor_alert")
    assert (alert.status, alert.reason) == ("cancelled", "no_longer_detractor")


def test_an_orders_fulfilled_webhook_schedules_the_review_request_from_its_fulfilment(
        shopfront):
    from app.pipeline import topics
    from tests.support.order_payloads import iso, line, paid_order

    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    item = line("60.00", line_id=50010, title="Loose-leaf tea")
    item["product_id"] = TEA
    payload = paid_order(5001, updated_at=T0 + days(6), customer_id=ADA, email=ADA_EMAIL,
                         lines=[item], fulfillment_status="fulfilled",
                         fulfillments=[{"id": 1, "status": "success",
                                        "created_at": iso(T0 + days(3))}])
    with shopfront.session() as s:
        outcome = topics.order_fulfilled(s, shopfront.shop(s), payload, T0 + days(6),
                                         shopfront.jobs(s))
    assert outcome.note == "fulfilled: review request scheduled"
    request = shopfront.message("review_request")
    assert (request.natural_key, request.scheduled_at) == ("review_request:5001", T0 + days(13))
