"""Issue 8 end to end: the demo shop's members receive the whole post-purchase journey.

The demo (`make demo`'s own code) installs the shop through OAuth and sends its webhook history
over HTTP; consent and fulfilments arrive as signed webhooks too. Then the clock travels: at
each stop the daily round and the run-due sweep run as of that moment (jobs inline, no Redis,
the Message rows are the schedule) and a real SMTP server shows what each member received.
Shoppers answer through the links in those emails, over HTTP, at the running app.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from app.db import utcnow
from app.engagement.reviews import approve_review
from app.engagement.stats import flow_stats
from app.loyalty.bonuses import set_birthday
from app.models import Member, Message, Shop, WebhookEvent
from app.models.review import Review
from app.pipeline.jobs import daily_round, run_due_messages
from devstore.demo import CUSTOMERS, DEMO_SHOP, seed_demo_shop, start_demo
from tests.e2e.conftest import eventually
from tests.support.smtp_fixture import body_text, smtp_server  # noqa: F401 (fixture)

NEW_YORK = ZoneInfo("America/New_York")
ADA, GRACE, ALAN = CUSTOMERS
OWNER = "owner@loyalty-loop-demo.example"


def _morning_after(moment: datetime) -> datetime:
    """The first 10:00 in New York (the demo shop's timezone) at or after a UTC moment."""
    local = moment.replace(tzinfo=UTC).astimezone(NEW_YORK)
    morning = datetime.combine(local.date(), time(10), tzinfo=NEW_YORK)
    if morning < local:
        morning = datetime.combine(local.date() + timedelta(days=1), time(10), tzinfo=NEW_YORK)
    return morning.astimezone(UTC).replace(tzinfo=None)


def _link(email, prefix: str) -> str:
    """The first URL in the email's text that follows `prefix`."""
    return body_text(email).split(prefix, 1)[1].split()[0]


def _fulfil(emulator, order_id: int, customer: dict, price: str, quantity: int = 1) -> None:
    """Shopify's orders/updated webhook for an order that has just been fulfilled."""
    now = utcnow().isoformat() + "Z"
    emulator.send_webhook(DEMO_SHOP, "orders/updated", emulator.sample_payload(
        "orders/updated", shop=DEMO_SHOP, order_id=order_id, customer_id=customer["id"],
        email=customer["email"], first_name=customer["first_name"],
        last_name=customer["last_name"], test=False, updated_at=now,
        line_items=[{"id": order_id * 10, "title": "Loose-leaf tea", "price": price,
                     "quantity": quantity, "product_id": 7}],
        fulfillment_status="fulfilled",
        fulfillments=[{"id": order_id + 1, "status": "success", "created_at": now}]))


def _all_processed(db) -> bool:
    """Whether every webhook delivered so far has been applied (jobs run after responses)."""
    with db.sessions() as s:
        return not s.execute(select(WebhookEvent.id).where(
            WebhookEvent.processed_at.is_(None))).first()


def _consents(emulator, customer: dict) -> None:
    """customers_email_marketing_consent/update: the customer subscribed to email marketing."""
    emulator.send_webhook(DEMO_SHOP, "customers_email_marketing_consent/update",
                          emulator.sample_payload(
                              "customers_email_marketing_consent/update",
                              customer_id=customer["id"], email=customer["email"],
                              state="subscribed", opt_in_level="single_opt_in",
                              consent_updated_at=utcnow().isoformat() + "Z"))


def test_the_demo_shops_members_receive_the_whole_journey_by_email(
        tmp_path, monkeypatch, smtp_server):  # noqa: F811 - the fixture imported above
    monkeypatch.setenv("SMTP_URL", smtp_server.url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    demo = start_demo(database_url=f"sqlite:///{tmp_path / 'demo.db'}", port=0)
    rt = demo.app.extensions["runtime"]
    db = rt.db
    emu = demo.emulator

    def subjects(customer_or_address) -> list[str]:
        """The subjects a customer (or an address) received, in order."""
        address = (customer_or_address if isinstance(customer_or_address, str)
                   else customer_or_address["email"])
        return [m["Subject"] for m in smtp_server.to(address)]

    def travel(moment: datetime, *, daily: bool = True) -> None:
        """Run the daily round and the run-due sweep as of `moment`."""
        if daily:
            daily_round(rt, shop_id, moment.isoformat())
        run_due_messages(rt, moment.isoformat())

    try:
        seed_demo_shop(demo)
        _consents(emu, ADA)
        _consents(emu, ALAN)
        assert eventually(lambda: _all_processed(db))
        seeded = utcnow()
        with db.sessions() as s:
            shop_id = s.execute(select(Shop.id)).scalar_one()

        def stop(days: int) -> datetime:
            """The first morning in New York at least `days` after seeding."""
            return _morning_after(seeded + timedelta(days=days))

        # The next morning: a welcome for each member (a notice: consent not needed), and
        # Ada's upgrade to Silver on her first order.
        travel(stop(1), daily=False)
        assert subjects(ADA) == ["Welcome to Loyalty Loop Demo Tea rewards, Ada",
                                 "You're Silver now"]
        assert subjects(GRACE) == ["Welcome to Loyalty Loop Demo Tea rewards, Grace"]
        assert subjects(ALAN) == ["Welcome to Loyalty Loop Demo Tea rewards, Alan"]
        assert ("Your first order earned you 125 points"
                in body_text(smtp_server.to(ALAN["email"])[0]))

        # The orders ship. Ten days later: review requests (Alan returned one of his two,
        # so he is not asked; Grace gave no marketing consent) and Ada's survey.
        _fulfil(emu, 50002, ADA, "45.00")
        _fulfil(emu, 50003, GRACE, "60.00")
        _fulfil(emu, 50004, ALAN, "25.00", quantity=2)
        assert eventually(lambda: _all_processed(db))
        travel(stop(11), daily=False)
        assert subjects(ADA)[2:] == ["How is your order #51002? Earn 100 points",
                                     "One quick question about order #51002"]
        assert subjects(GRACE) == ["Welcome to Loyalty Loop Demo Tea rewards, Grace"]

        # Ada reviews the tea through the link in her email, at the running app.
        review, survey = smtp_server.to(ADA["email"])[2:4]
        review_url = _link(review, "Write a review: ")
        assert review_url.startswith(demo.app_url + "/e/review/")
        with httpx.Client(timeout=10) as browser:
            assert "Loose-leaf tea" in browser.get(review_url).text
            thanks = browser.post(review_url, data={"product_id": "7", "rating": "5",
                                                     "body": "Lovely smoky tea."})
            assert thanks.status_code == 200 and "100 points" in thanks.text
            # Her survey: a click on 4 opens it with 4 chosen; she sends it with a comment.
            score = [line for line in body_text(survey).splitlines()
                     if line.startswith("4: ")][0].removeprefix("4: ")
            assert 'value="4" required checked' in browser.get(score).text
            sent = browser.post(score.split("?")[0], data={"score": "4",
                                                            "comment": "A little too strong."})
            assert "you answered 4" in sent.text
        with db.transaction() as s:
            review_row = s.execute(select(Review)).scalar_one()
            approve_review(s, shop_id, review_row.id, utcnow())
        # The approved review shows in the storefront block, through Shopify's app proxy.
        with httpx.Client(timeout=10) as storefront:
            shown = storefront.get(f"{emu.base_url}/{DEMO_SHOP}/apps/loyalty/reviews").json()
        assert shown["reviews"][0]["body"] == "Lovely smoky tea."
        assert shown["reviews"][0]["author"] == "Ada L."
        # The detractor's alert reaches the merchant with the comment and the order.
        travel(stop(11) + timedelta(minutes=30), daily=False)
        [alert] = smtp_server.to(OWNER)
        assert alert["Subject"] == "Detractor alert: 4/10 on order #51002"
        assert "Comment: A little too strong." in body_text(alert)

        # Alan's survey; his mail client unsubscribes him with RFC 8058's one-click POST, and
        # from then on he hears nothing.
        travel(stop(14), daily=False)
        assert subjects(ALAN)[1:] == ["One quick question about order #51004"]
        alans_survey = smtp_server.to(ALAN["email"])[1]
        assert alans_survey["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        with httpx.Client(timeout=10) as mail_client:
            unsubscribed = mail_client.post(alans_survey["List-Unsubscribe"].strip("<>"),
                                            data={"List-Unsubscribe": "One-Click"})
        assert "You're unsubscribed" in unsubscribed.text

        # Points unlock when the return window closes.
        travel(stop(28), daily=False)
        assert subjects(ADA)[4:] == ["Your 281 points are ready to use"]
        travel(stop(30), daily=False)
        assert subjects(GRACE)[1:] == ["Your 300 points are ready to use"]

        # Ada reorders every 37 days: a reminder after 37 quiet days, an offer after 74.
        travel(stop(34))
        assert subjects(ADA)[5:] == ["Time to restock, Ada?"]
        travel(stop(37))
        travel(stop(71))
        assert subjects(ADA)[6:] == ["We miss you: 200 bonus points inside"]

        # Her birthday, on the day in New York.
        birthday = stop(80).replace(tzinfo=UTC).astimezone(NEW_YORK).date()
        with db.transaction() as s:
            ada = s.execute(select(Member).where(Member.customer_id == ADA["id"])).scalar_one()
            set_birthday(s, ada, f"{birthday:%m-%d}", utcnow(), by_staff=True)
        travel(stop(80))
        assert subjects(ADA)[7:] == ["Happy birthday, Ada!"]

        # Eleven months on: Grace's points are about to expire; Ada's Silver is at risk.
        travel(stop(345))
        assert subjects(ADA)[8:] == ["Keep your Silver status"]
        assert len(subjects(GRACE)) == 3 and subjects(GRACE)[2].startswith("550 points expire")
        assert subjects(ALAN) == ["Welcome to Loyalty Loop Demo Tea rewards, Alan",
                                  "One quick question about order #51004"]
        assert run_due_messages(rt, stop(345).isoformat()) == "nothing due"

        with db.sessions() as s:
            stats = {f.kind: f for f in flow_stats(s, shop_id, seeded - timedelta(days=60),
                                                   stop(346))}
            alan_reasons = sorted(s.execute(select(Message.kind, Message.reason).join(
                Member, Member.id == Message.member_id).where(
                Member.customer_id == ALAN["id"], Message.status == "suppressed")).all())
        assert {kind: f.sent for kind, f in stats.items()} == {
            "welcome": 3, "points_unlocked": 2, "tier_upgraded": 1, "expiry_warning": 1,
            "review_request": 1, "nps_request": 2, "tier_at_risk": 1, "birthday": 1,
            "replenishment": 1, "win_back": 1, "detractor_alert": 1}
        assert stats["review_request"].reasons == {"no_marketing_consent": 1}
        assert ("points_unlocked", "unsubscribed") in alan_reasons
        assert stats["review_request"].clicked == 1
    finally:
        demo.stop()
