"""The demo's second shop: a year of history with a holdout and an A/B test, so the program
effect, A/B test and cohort pages have something true to show.

The shop is installed through OAuth over HTTP and launched from the embedded admin, as the
first demo shop is. Its year is then generated with a seeded random generator and applied
through the program's own rules in-process (app.loyalty.events, each event with the moment it
happened as `now`), one transaction per batch of events:

- a holdout of 10 % of new customers runs all year;
- customers sign up evenly over the year; the rules assign each to the program or the control
  group, and while the A/B test runs, to an arm;
- a customer's orders are drawn from their group: a known share order twice within the
  holdout's follow-up period, REPEAT_RATE, so the program's true effect on the repeat rate is
  TRUE_REPEAT_EFFECT; the share ordering within 30 days of signing up is FIRST_MONTH_RATE,
  higher for the A/B test's arm B (a doubled welcome bonus) by TRUE_TEST_EFFECT;
- the daily round runs every DAILY_ROUND_EVERY simulated days, and once today through the
  pipeline's job, as the scheduler runs it.

Which customer lands in which group is the rules' own HMAC draw; the holdout's and the test's
keys are derived from SEED so the year comes out the same on every machine.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import func, select

from app.db import utcnow
from app.insights.experiments import read_experiment, start_experiment
from app.loyalty import events, holdout
from app.loyalty.daily import run_daily_round
from app.loyalty.experiments import running_experiment
from app.loyalty.flow_triggers import PENDING_TRIGGERS
from app.loyalty.holdout import CONTROL, PROGRAM
from app.loyalty.program import current_settings, save_settings
from app.models import ExperimentAssignment, Member, Order, Shop
from app.pipeline.jobs import daily_round

if TYPE_CHECKING:
    from devstore.demo import Demo

HISTORY_SHOP = "loyalty-loop-history.myshopify.com"
SEED = 2026
DAYS = 365
# Customers with an account who sign up over the year, and shoppers who only ever check out
# as guests (they earn by email and make the cohort page's guest segment).
CUSTOMERS = 3000
GUESTS = 300
HOLDOUT_SHARE = 10
# The share of each group ordering twice within the follow-up period (90 days by default).
REPEAT_RATE = {CONTROL: 0.20, PROGRAM: 0.25}
TRUE_REPEAT_EFFECT = REPEAT_RATE[PROGRAM] - REPEAT_RATE[CONTROL]
# The share ordering within 30 days of signing up: arm B's welcome bonus is double arm A's.
FIRST_MONTH_RATE = {"A": 0.45, "B": 0.55}
TRUE_TEST_EFFECT = FIRST_MONTH_RATE["B"] - FIRST_MONTH_RATE["A"]
# After the follow-up period, a customer's chance of ordering in each later 30 days.
LATER_MONTHLY_RATE = {CONTROL: 0.08, PROGRAM: 0.11}
# The welcome bonus test: started this many days ago, arm B's bonus, the smallest change the
# merchant said matters (points) and the guardrail (points' value per member).
TEST_STARTED_DAYS_AGO = 200
TEST_BONUS = 500
TEST_SMALLEST_EFFECT = "10"
TEST_GUARDRAIL = "10"
# The effect page's smallest repeat-rate change worth knowing, as this merchant set it: a shop
# of a few thousand customers a year can tell 10 points within a year, not 3.
EFFECT_SMALLEST_CHANGE = "10"
DAILY_ROUND_EVERY = 30
# Events applied per transaction.
BATCH = 400
FIRST_CUSTOMER_ID = 7_100_000_000
FIRST_ORDER_ID = 8_100_000_000


@dataclass(frozen=True)
class Seeded:
    """What seeding did: whether it ran, and how much it applied."""

    ran: bool
    customers: int = 0
    orders: int = 0


def _key(name: str) -> str:
    """A fixed key for one of the shop's random draws (holdout, test), from SEED."""
    return hashlib.sha256(f"loyalty-loop-demo-{SEED}-{name}".encode()).hexdigest()


def install_history_shop(demo: Demo) -> None:
    """Install the shop through OAuth over HTTP and launch its program from the admin."""
    emu = demo.emulator
    if HISTORY_SHOP not in emu.shops:
        emu.add_shop(HISTORY_SHOP, name="Loyalty Loop History Tea", currency="USD")
    with httpx.Client(follow_redirects=True, timeout=15) as browser:
        browser.get(f"{demo.app_url}/auth/install", params={"shop": HISTORY_SHOP})
        # The launch states no holdout: the year's holdout starts a year ago, below, with a
        # key fixed by SEED (the launch's would be new on every run).
        token = emu.mint_admin_session_token(HISTORY_SHOP)
        browser.post(f"{demo.app_url}/admin/onboarding/launched", json={"holdout_share": 0},
                     headers={"Authorization": f"Bearer {token}"}).raise_for_status()


def seed_history_shop(demo: Demo, now: datetime | None = None) -> Seeded:
    """Install the history shop and give it its year, once: a shop that has members already is
    left as it is, so running the demo twice changes nothing."""
    install_history_shop(demo)
    runtime = demo.app.extensions["runtime"]
    db = runtime.db
    with db.sessions() as s:
        shop_id = s.execute(select(Shop.id).where(Shop.domain == HISTORY_SHOP)).scalar_one()
        members = s.execute(select(func.count(Member.id)).where(
            Member.shop_id == shop_id)).scalar_one()
    if members:
        return Seeded(ran=False)
    now = now or utcnow()
    year = _Year(demo, shop_id, now)
    year.run()
    # Today's round as the scheduler runs it: unlocks, expiry, tiers and whatever it builds.
    daily_round(runtime, shop_id, now.isoformat())
    return Seeded(ran=True, customers=CUSTOMERS + GUESTS, orders=year.orders)


class _Year:
    """The year's events in time order, applied batch by batch."""

    def __init__(self, demo: Demo, shop_id: int, now: datetime) -> None:
        self.demo, self.shop_id, self.now = demo, shop_id, now
        self.start = now - timedelta(days=DAYS)
        self.rng = random.Random(SEED)
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self.sequence = 0
        self.next_order_id = FIRST_ORDER_ID
        self.orders = 0
        self.repeat_days = 90

    def _at(self, moment: datetime, kind: str, data: Any = None) -> None:
        if moment < self.now:
            self.sequence += 1
            heapq.heappush(self.queue, (moment, self.sequence, kind, data))

    def _moment(self, low_days: float, high_days: float, since: datetime) -> datetime:
        return (since + timedelta(days=self.rng.uniform(low_days, high_days))).replace(
            microsecond=0)

    def run(self) -> None:
        db = self.demo.app.extensions["runtime"].db
        with db.transaction() as session:
            shop = session.get(Shop, self.shop_id)
            # The merchant set up the holdout and the effect page's settings a year ago.
            holdout.start(shop, HOLDOUT_SHARE, self.start)
            shop.holdout_key = _key("holdout")
            save_settings(session, shop.id,
                          {"effect": {"smallest_effect_points": EFFECT_SMALLEST_CHANGE}},
                          changed_by="demo", now=self.start)
            self.repeat_days = int(current_settings(session, shop.id).data["effect"]
                                   ["repeat_days"])
        emulator_shop = self.demo.emulator.shop(HISTORY_SHOP)
        for index in range(CUSTOMERS):
            customer_id = FIRST_CUSTOMER_ID + index
            first, last = f"Shopper{index}", "History"
            emulator_shop.add_customer(customer_id, email=f"shopper{index}@example.com",
                                       first_name=first, last_name=last)
            self._at(self._moment(0, DAYS, self.start), "signup", customer_id)
        for index in range(GUESTS):
            self._at(self._moment(0, DAYS, self.start), "guest", index)
        self._at(self.now - timedelta(days=TEST_STARTED_DAYS_AGO), "test", None)
        for day in range(DAILY_ROUND_EVERY, DAYS, DAILY_ROUND_EVERY):
            self._at(self.start + timedelta(days=day), "round", None)
        while self.queue:
            with db.transaction() as session:
                shop = session.get(Shop, self.shop_id)
                for _ in range(BATCH):
                    if not self.queue:
                        break
                    moment, _, kind, data = heapq.heappop(self.queue)
                    if kind == "round":
                        run_daily_round(session, shop, moment)
                        break  # the round's changes commit on their own
                    getattr(self, f"_{kind}")(session, shop, moment, data)
                # The rules write the year's Flow triggers (the outbox) but they are not sent
                # now: a year of them to the emulator takes minutes. They stay pending; the
                # inbox sweep (`flask sweep-inbox`) would hand them out.
                session.info.pop(PENDING_TRIGGERS, None)

    def _test(self, session: Any, shop: Shop, moment: datetime, _: Any) -> None:
        """The merchant starts the welcome bonus test from the A/B tests page."""
        settings = current_settings(session, shop.id)
        experiment = start_experiment(
            session, shop, settings, variable="bonuses.signup", value_b=TEST_BONUS,
            metric="next_order_30d", smallest_effect_points=TEST_SMALLEST_EFFECT,
            guardrail_cost=TEST_GUARDRAIL, now=moment, started_by="demo")
        experiment.assignment_key = _key("welcome-bonus-test")

    def _signup(self, session: Any, shop: Shop, moment: datetime, customer_id: int) -> None:
        """customers/create, then the customer's orders, drawn from the group they got."""
        index = customer_id - FIRST_CUSTOMER_ID
        payload = self.demo.emulator.sample_payload(
            "customers/create", customer_id=customer_id, email=f"shopper{index}@example.com",
            first_name=f"Shopper{index}", last_name="History")
        outcome = events.customer_joined(session, shop, payload, moment, welcome=True)
        [member_id] = outcome.changed_member_ids
        member = session.get(Member, member_id)
        group = member.holdout_group or PROGRAM
        arm = session.execute(select(ExperimentAssignment.arm).where(
            ExperimentAssignment.member_id == member_id)).scalar_one_or_none() or "A"
        rng = random.Random(f"{SEED}-{customer_id}")
        window = self.repeat_days
        times: list[datetime] = []
        if rng.random() < REPEAT_RATE[group]:
            # A repeater: the first order within 30 days, the second within the period.
            first = rng.uniform(0.01, 29)
            times += [first, rng.uniform(first + 1, window - 1)]
        else:
            # Of the others, enough order in their first 30 days that the arm's rate holds
            # (repeaters all do); the rest may order once later in the period, or never.
            repeat = REPEAT_RATE[group]
            if rng.random() < (FIRST_MONTH_RATE[arm] - repeat) / (1 - repeat):
                times.append(rng.uniform(0.01, 29))
            elif rng.random() < 0.4:
                times.append(rng.uniform(31, window - 1))
        if times:
            slot = window
            while slot < DAYS:
                if rng.random() < LATER_MONTHLY_RATE[group]:
                    times.append(rng.uniform(slot, slot + 30))
                slot += 30
        for offset in times:
            when = (moment + timedelta(days=offset)).replace(microsecond=0)
            price = Decimal(rng.randrange(1800, 9000)) / 100
            self._at(when, "order", (customer_id, str(price), rng.choice((1, 1, 2))))

    def _guest(self, session: Any, shop: Shop, moment: datetime, index: int) -> None:
        """A guest's first order, and the ones after it."""
        rng = random.Random(f"{SEED}-guest-{index}")
        self._order(session, shop, moment, (None, f"guest{index}@example.com", "32.00", 1))
        day = 20.0
        while day < DAYS and rng.random() < 0.6:
            when = (moment + timedelta(days=day)).replace(microsecond=0)
            price = str(Decimal(rng.randrange(1800, 9000)) / 100)
            self._at(when, "order", (None, f"guest{index}@example.com", price, 1))
            day += rng.uniform(20, 90)

    def _order(self, session: Any, shop: Shop, moment: datetime,
               data: tuple[Any, ...]) -> None:
        """orders/paid at `moment`, applied by the rules as the webhook job applies it."""
        if len(data) == 3:
            customer_id, price, quantity = data
            index = customer_id - FIRST_CUSTOMER_ID
            email = f"shopper{index}@example.com"
            names = {"first_name": f"Shopper{index}", "last_name": "History"}
        else:
            customer_id, email, price, quantity = data
            names = {}
        self.next_order_id += 1
        stamp = moment.isoformat() + "Z"
        payload = self.demo.emulator.sample_payload(
            "orders/paid", shop=HISTORY_SHOP, order_id=self.next_order_id,
            customer_id=customer_id, email=email, test=False, created_at=stamp,
            updated_at=stamp, processed_at=stamp,
            line_items=[{"id": self.next_order_id * 10, "title": "Loose-leaf tea",
                         "price": price, "quantity": quantity, "product_id": 7}], **names)
        events.order_paid(session, shop, payload, moment)
        self.orders += 1


def history_links() -> list[tuple[str, str]]:
    """The history shop's pages in the framed admin, for the terminal."""
    return [(f"/dev/admin?shop={HISTORY_SHOP}&path=/admin/{page}", what) for page, what in (
        ("effect", "program effect against the holdout, with intervals"),
        ("experiments", "the welcome bonus A/B test at its horizon, with its verdict"),
        ("cohorts", "monthly cohorts: members, guests and the held-out customers"))]


def describe_history(demo: Demo, now: datetime | None = None) -> str:
    """A short account of the history shop, for the terminal."""
    db = demo.app.extensions["runtime"].db
    now = now or utcnow()
    with db.sessions() as s:
        shop = s.execute(select(Shop).where(Shop.domain == HISTORY_SHOP)).scalar_one()
        members = s.execute(select(func.count(Member.id)).where(
            Member.shop_id == shop.id)).scalar_one()
        orders = s.execute(select(func.count(Order.id)).where(
            Order.shop_id == shop.id)).scalar_one()
        experiment = running_experiment(s, shop.id)
        reading = (read_experiment(s, experiment, current_settings(s, shop.id), now)
                   if experiment else None)
    lines = [f"  {members:,} members, {orders:,} orders over the last {DAYS} days; "
             f"{HOLDOUT_SHARE}% held out (true repeat-rate effect "
             f"{TRUE_REPEAT_EFFECT * 100:+.0f} points)"]
    if reading is not None:
        a, b = reading.arms
        lines.append(f"  welcome bonus test: {a.value} against {b.value} points, "
                     f"{a.members:,} and {b.members:,} members followed 30 days (true effect "
                     f"{TRUE_TEST_EFFECT * 100:+.0f} points)")
    return "\n".join(lines)


def history_instructions(demo: Demo) -> str:
    """What the terminal shows about the history shop: its figures and where its pages are."""
    lines = [f"History shop {HISTORY_SHOP}, installed through OAuth, a year of orders:",
             describe_history(demo)]
    lines += [f"  {what}: {demo.app_url}{path}" for path, what in history_links()]
    return "\n".join(lines)
