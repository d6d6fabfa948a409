"""Shops with known activity for the dashboard: exact figures to assert, or a busy month to show.

`seed_known_month` writes a small, hand-countable October 2026 and returns what the dashboard
must say about the 30 days ending 2026-11-01 (UTC); `seed_busy_shop` writes a plausible month
of activity for screenshots and page-speed runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from app.loyalty.ledger import post
from app.models import Member, Message, Order, Redemption, Referral, Shop, SurveyResponse


def _at(month: int, day: int, hour: int = 12) -> datetime:
    """Noon UTC on a day of 2026."""
    return datetime(2026, month, day, hour, 0, 0)


@dataclass(frozen=True)
class Known:
    """What the dashboard must show for the seeded month."""

    members_total: int = 4
    members_new: int = 3
    issued: int = 2650
    reversed: int = 150
    redeemed: int = 500
    expired: int = 150
    outstanding: int = 2100
    liability: Decimal = Decimal("21.00")
    expected_liability: Decimal = Decimal("3.96")
    member_customers: int = 2
    member_orders: int = 3
    member_repeaters: int = 1
    guest_customers: int = 3
    guest_orders: int = 5
    guest_repeaters: int = 2
    total_orders: int = 8
    total_revenue: Decimal = Decimal("390.00")
    reward_orders: int = 1
    reward_revenue: Decimal = Decimal("50.00")
    shares: int = 8
    referred: int = 4
    rewarded: int = 1
    waiting: int = 2
    rejected: int = 1
    promoters: int = 4
    passives: int = 2
    detractors: int = 3
    nps: int = 11
    comments: tuple[str, ...] = ("Wrong size, twice", "Shipping was slow")


def _member(session: Session, shop: Shop, customer_id: int | None, email: str, first: str,
            created: datetime) -> Member:
    """A member as written by hand (enrol would pick its own code and time)."""
    member = Member(shop_id=shop.id, customer_id=customer_id, email=email, first_name=first,
                    referral_code=f"{first.upper()}-{email.split('@')[0].upper()}"[:32],
                    created_at=created, last_activity_at=created)
    session.add(member)
    session.flush()
    return member


def _order(session: Session, shop: Shop, order_id: int, member: Member | None, total: str,
           paid: datetime, *, email: str | None = None, status: str = "paid",
           test: bool = False) -> Order:
    """An order row as the program records it."""
    order = Order(shop_id=shop.id, shopify_order_id=order_id,
                  member_id=member.id if member else None,
                  email=email or (member.email if member else None), total_price=Decimal(total),
                  eligible_amount=Decimal(total), status=status, test=test, paid_at=paid,
                  created_at=paid)
    session.add(order)
    return order


def _points(session: Session, member: Member, points: int, kind: str, at: datetime,
            key: str) -> None:
    """A ledger entry through the ledger, so cached balances stay exact."""
    post(session, member, points=points, kind=kind, source_key=key, now=at,
         available_at=at + timedelta(days=30) if kind == "earn_order" else at)


def seed_known_month(session: Session, shop: Shop) -> Known:
    """The month of activity Known describes (plus a little before it, which must not count)."""
    ada = _member(session, shop, 1, "ada@example.com", "Ada", _at(9, 1))
    bob = _member(session, shop, 2, "bob@example.com", "Bob", _at(10, 10))
    cat = _member(session, shop, None, "cat@example.com", "Cat", _at(10, 12))
    dan = _member(session, shop, None, "dan@example.com", "Dan", _at(10, 20))

    _order(session, shop, 100, ada, "999.00", _at(9, 15))                 # before the period
    _order(session, shop, 101, ada, "100.00", _at(10, 5))
    _order(session, shop, 102, ada, "50.00", _at(10, 15))                 # used a reward
    _order(session, shop, 103, ada, "70.00", _at(10, 16), status="cancelled")
    _order(session, shop, 111, bob, "80.00", _at(10, 11))
    _order(session, shop, 121, cat, "60.00", _at(10, 12))
    _order(session, shop, 122, cat, "40.00", _at(10, 25))
    _order(session, shop, 131, dan, "30.00", _at(10, 20))
    _order(session, shop, 132, dan, "35.00", _at(10, 21), test=True)
    # A guest we never enrolled, known by email only, in two spellings.
    _order(session, shop, 141, None, "20.00", _at(10, 22), email="zed@example.com")
    _order(session, shop, 142, None, "10.00", _at(10, 23), email="ZED@example.com")
    session.add(Redemption(shop_id=shop.id, member_id=ada.id, points=500, code="LOYAL-AAAA",
                           status="used", used_order_id=102, created_at=_at(10, 15)))

    _points(session, ada, 250, "bonus_signup", _at(9, 1), "signup:ada")  # before the period
    _points(session, ada, 500, "earn_order", _at(10, 5), "order:101:earn")
    _points(session, ada, 250, "earn_order", _at(10, 15), "order:102:earn")
    _points(session, bob, 400, "earn_order", _at(10, 11), "order:111:earn")
    _points(session, cat, 300, "earn_order", _at(10, 12), "order:121:earn")
    _points(session, cat, 200, "earn_order", _at(10, 25), "order:122:earn")
    _points(session, dan, 150, "earn_order", _at(10, 20), "order:131:earn")
    _points(session, bob, 250, "bonus_signup", _at(10, 10), "signup:bob")
    _points(session, ada, 500, "referral_referrer", _at(10, 28), "referral:1")
    _points(session, ada, 100, "adjust", _at(10, 29), "adjust:1")
    _points(session, bob, -50, "adjust", _at(10, 30), "adjust:2")
    _points(session, cat, -100, "refund_reversal", _at(10, 26), "refund:1")
    _points(session, ada, -500, "redeem", _at(10, 15), "redeem:1")
    _points(session, bob, -400, "redeem", _at(10, 31), "redeem:2")
    _points(session, bob, 400, "redeem_refund", _at(10, 31), "redeem:2:refund")
    _points(session, dan, -150, "expire", _at(10, 30), "expire:dan")

    for day in (2, 5, 6, 7, 9, 18, 19, 27, 28):                          # 8 in the period
        session.add(Message(shop_id=shop.id, member_id=ada.id, kind="referral_share",
                            channel="copy_link", natural_key=f"share:{day}", status="sent",
                            created_at=_at(10, day)))
    for n, status in enumerate(("rewarded", "rejected", "pending", "flagged")):
        session.add(Referral(shop_id=shop.id, referrer_id=ada.id, order_id=900 + n,
                             code=ada.referral_code, status=status, created_at=_at(10, 10 + n)))
    session.add(Referral(shop_id=shop.id, referrer_id=ada.id, order_id=899, code="x",
                         status="rewarded", created_at=_at(9, 20)))      # before the period

    answers = [(10, None), (10, "Love it"), (9, None), (9, None), (8, None), (7, "Fine"),
               (6, "Shipping was slow"), (3, "Wrong size, twice"), (0, "  ")]
    for n, (score, comment) in enumerate(answers):
        session.add(SurveyResponse(shop_id=shop.id, member_id=cat.id, order_id=500 + n,
                                   score=score, comment=comment, detractor=score <= 6,
                                   created_at=_at(10, 10 + n)))
    session.add(SurveyResponse(shop_id=shop.id, member_id=cat.id, order_id=499, score=0,
                               comment="Old complaint", detractor=True, created_at=_at(9, 2)))
    session.flush()
    return Known()


def seed_busy_shop(session: Session, shop: Shop, now: datetime, *, days: int = 30,
                   members: int = 60, seed: int = 7) -> None:
    """A month of plausible activity (deterministic) for screenshots and page-speed runs."""
    rng = random.Random(seed)
    people = [_member(session, shop, 10_000 + n if n % 3 else None, f"shopper{n}@example.com",
                      rng.choice(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Frances",
                                  "Donald"]), now - timedelta(days=rng.randint(0, 90)))
              for n in range(members)]
    order_id = 50_000
    for day in range(days):
        moment = now - timedelta(days=days - day - 1, hours=rng.randint(0, 8))
        for _ in range(rng.randint(3, 9)):
            order_id += 1
            member = rng.choice(people)
            total = Decimal(rng.randint(20, 160))
            _order(session, shop, order_id, member, f"{total}.00", moment)
            _points(session, member, int(total) * 5, "earn_order", moment,
                    f"order:{order_id}:earn")
            if rng.random() < 0.2:
                _points(session, member, -500, "redeem", moment, f"redeem:{order_id}")
                session.add(Redemption(shop_id=shop.id, member_id=member.id, points=500,
                                       code=f"LOYAL-{order_id}", status="used",
                                       used_order_id=order_id, created_at=moment))
        if rng.random() < 0.5:
            session.add(Message(shop_id=shop.id, member_id=rng.choice(people).id,
                                kind="referral_share", channel="copy_link",
                                natural_key=f"share:{day}", status="sent", created_at=moment))
        if day % 4 == 0:
            _points(session, rng.choice(people), -rng.randint(50, 300), "expire", moment,
                    f"expire:{day}")
        score = rng.choice([10, 10, 9, 9, 9, 8, 7, 6, 4])
        session.add(SurveyResponse(
            shop_id=shop.id, member_id=rng.choice(people).id, order_id=order_id, score=score,
            comment={6: "Delivery took a week", 4: "The discount code did not work"}.get(score),
            detractor=score <= 6, created_at=moment))
    for n in range(6):
        session.add(Referral(shop_id=shop.id, referrer_id=people[n].id, order_id=90_000 + n,
                             code=people[n].referral_code,
                             status=("rewarded", "pending", "rewarded", "rejected", "pending",
                                     "rewarded")[n], created_at=now - timedelta(days=3 * n)))
    session.flush()
