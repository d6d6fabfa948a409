"""What the program earns, measured against the holdout's control group.

The customers compared are those assigned (app/loyalty/holdout.py) within the chosen window
whose follow-up period (`effect.repeat_days` after assignment) is over, so every customer is
watched for the same time. Chance alone decided who is in which group, so a difference beyond
what chance explains is the program's doing, unlike members against guests.

For each group: customers, the share with two or more paid orders in their period (the order
that brought them in counts as the first), orders and revenue (order total less refunds) per
customer, and the average order value. The program's cost is counted on the program group over
the same periods: each point once, at its value (`earning.point_value`), redeemed points in
full and points still held at the expected redemption rate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.insights.stats import (
    Interval,
    SampleSize,
    Summary,
    WelchResult,
    newcombe_difference,
    sample_size_for_rates,
    welch,
)
from app.loyalty.holdout import CONTROL, DEFAULT_SHARE, PROGRAM
from app.loyalty.program import ProgramSettings
from app.models import LedgerEntry, Member, Order, Shop

# An order paid a moment before its customer was assigned is the order that assigned them:
# its webhook is applied after the payment.
ASSIGNING_ORDER_SLACK = timedelta(days=1)
# Ledger kinds that give points for something other than an order.
BONUS_KINDS = ("bonus_signup", "bonus_birthday", "bonus_review", "bonus_nps",
               "referral_referrer", "referral_referee")
REVERSAL_KINDS = ("refund_reversal", "cancel_reversal")


@dataclass
class GroupFigures:
    """One group's customers and what they bought in their follow-up periods."""

    customers: int = 0
    repeaters: int = 0
    orders_per_customer: list[float] = field(default_factory=list)
    revenue_per_customer: list[float] = field(default_factory=list)
    order_values: list[float] = field(default_factory=list)

    @property
    def repeat_rate(self) -> float | None:
        """Share of customers with a second order in their period."""
        return self.repeaters / self.customers if self.customers else None

    @property
    def orders(self) -> int:
        """Orders of the group's customers in their periods."""
        return int(sum(self.orders_per_customer))

    @property
    def revenue(self) -> float:
        """Their order totals less refunds."""
        return math.fsum(self.revenue_per_customer)

    @property
    def mean_orders(self) -> float | None:
        """Orders per customer."""
        return self.orders / self.customers if self.customers else None

    @property
    def mean_revenue(self) -> float | None:
        """Revenue per customer."""
        return self.revenue / self.customers if self.customers else None

    @property
    def average_order_value(self) -> float | None:
        """Revenue per order."""
        return self.revenue / self.orders if self.orders else None


@dataclass(frozen=True)
class ProgramCost:
    """What the program group's points cost in their follow-up periods, in shop currency."""

    points_issued: int
    bonus_points: int
    points_redeemed: int
    points_held: int
    redeemed_value: Decimal
    held_liability: Decimal

    @property
    def total(self) -> Decimal:
        """Redeemed value plus the expected cost of the points still held."""
        return self.redeemed_value + self.held_liability


@dataclass(frozen=True)
class Effect:
    """The comparison for one window, with its uncertainty and whether it can be told yet."""

    first_day: datetime
    end: datetime
    repeat_days: int
    control: GroupFigures
    program: GroupFigures
    # Assigned in the window whose follow-up period has not ended: counted later.
    waiting: int
    needed: SampleSize
    smallest_effect: float
    repeat_difference: Interval | None
    orders_difference: WelchResult | None
    revenue_difference: WelchResult | None
    aov_difference: WelchResult | None
    cost: ProgramCost
    gross_margin: Decimal
    expected_redemption: Decimal

    @property
    def customers(self) -> int:
        """Customers compared."""
        return self.control.customers + self.program.customers

    @property
    def enough_data(self) -> bool:
        """Whether both groups are large enough to detect the smallest effect that matters."""
        return (self.control.customers >= self.needed.control
                and self.program.customers >= self.needed.program)

    @property
    def more_customers_needed(self) -> int:
        """About how many more customers must finish their period, in the current split."""
        if self.enough_data:
            return 0
        share = (self.control.customers / self.customers if self.control.customers
                 else DEFAULT_SHARE / 100)
        total = max(self.needed.control / share, self.needed.program / (1 - share))
        return max(math.ceil(total) - self.customers, 1)

    @property
    def incremental_revenue(self) -> Interval | None:
        """Revenue the program group brought beyond what the control rate predicts for it."""
        if self.revenue_difference is None:
            return None
        n, d = self.program.customers, self.revenue_difference.interval
        return Interval(d.estimate * n, d.low * n, d.high * n)

    @property
    def net_profit(self) -> Interval | None:
        """Incremental revenue times the gross margin, less the program's cost."""
        revenue = self.incremental_revenue
        if revenue is None:
            return None
        margin, cost = float(self.gross_margin), float(self.cost.total)
        return Interval(revenue.estimate * margin - cost, revenue.low * margin - cost,
                        revenue.high * margin - cost)


def effect_settings(settings: ProgramSettings) -> tuple[int, Decimal, Decimal, Decimal]:
    """(follow-up days, gross margin, smallest effect, expected redemption) as fractions."""
    section = settings.data["effect"]
    return (int(section["repeat_days"]),
            Decimal(str(section["gross_margin_percent"])) / 100,
            Decimal(str(section["smallest_effect_points"])) / 100,
            Decimal(str(section["expected_redemption_percent"])) / 100)




def measure_effect(session: Session, shop: Shop, settings: ProgramSettings,
                   first_day: datetime, end: datetime, now: datetime) -> Effect:
    """The holdout comparison for customers assigned from `first_day` until `end`."""
    repeat_days, margin, smallest, expected = effect_settings(settings)
    period = timedelta(days=repeat_days)
    members = _assigned_members(shop, first_day, end)
    assigned = session.execute(select(Member.id, Member.holdout_group,
                                      Member.holdout_assigned_at).where(*members)).all()
    complete = {row.id: (row.holdout_group, row.holdout_assigned_at) for row in assigned
                if row.holdout_assigned_at + period <= now}
    orders: dict[int, list[float]] = defaultdict(list)
    rows = session.execute(
        select(Order.member_id, Order.paid_at, Order.total_price, Order.refunded_amount)
        .join(Member, Member.id == Order.member_id)
        # No condition on paid_at here: SQLite would then walk the shop's orders by payment
        # time for every member instead of each member's own orders.
        .where(*members, Order.shop_id == shop.id, Order.status == "paid",
               Order.test.is_(False)))
    for member_id, paid_at, total, refunded in rows:
        if member_id not in complete or paid_at is None:
            continue
        at = complete[member_id][1]
        if at - ASSIGNING_ORDER_SLACK <= paid_at < at + period:
            orders[member_id].append(float((total or 0) - (refunded or 0)))
    groups = {CONTROL: GroupFigures(), PROGRAM: GroupFigures()}
    for member_id, (group, _) in complete.items():
        figures, values = groups[group], orders.get(member_id, [])
        figures.customers += 1
        figures.repeaters += len(values) >= 2
        figures.orders_per_customer.append(float(len(values)))
        figures.revenue_per_customer.append(math.fsum(values))
        figures.order_values.extend(values)
    control, program = groups[CONTROL], groups[PROGRAM]
    baseline = (control.repeat_rate if control.customers
                else program.repeat_rate if program.customers else 0.0) or 0.0
    ratio = (program.customers / control.customers if control.customers and program.customers
             else (100 - DEFAULT_SHARE) / DEFAULT_SHARE)
    return Effect(
        first_day=first_day, end=end, repeat_days=repeat_days, control=control,
        program=program, waiting=len(assigned) - len(complete),
        needed=sample_size_for_rates(baseline, float(smallest), ratio),
        smallest_effect=float(smallest),
        repeat_difference=(newcombe_difference(program.repeaters, program.customers,
                                               control.repeaters, control.customers)
                           if control.customers and program.customers else None),
        orders_difference=_welch(program.orders_per_customer, control.orders_per_customer),
        revenue_difference=_welch(program.revenue_per_customer, control.revenue_per_customer),
        aov_difference=_welch(program.order_values, control.order_values),
        cost=program_cost(session, members, settings, complete, period, expected),
        gross_margin=margin, expected_redemption=expected)


def _welch(program: list[float], control: list[float]) -> WelchResult | None:
    """Welch's comparison, program minus control, when each side has two values."""
    if len(program) < 2 or len(control) < 2:
        return None
    return welch(Summary.of(program), Summary.of(control))


def _assigned_members(shop: Shop, first_day: datetime, end: datetime) -> list:
    """The conditions on Member of the customers assigned in [first_day, end)."""
    return [Member.shop_id == shop.id, Member.holdout_group.is_not(None),
            Member.holdout_assigned_at >= first_day, Member.holdout_assigned_at < end]


def program_cost(session: Session, assigned: list, settings: ProgramSettings,
                 complete: dict[int, tuple[str, datetime]], period: timedelta,
                 expected: Decimal) -> ProgramCost:
    """The points the program group was given, spent and still holds in their periods."""
    issued = bonus = redeemed = taken_back = expired = 0
    program_ids = {m for m, (group, _) in complete.items() if group == PROGRAM}
    if program_ids:
        entries = session.execute(
            select(LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.points,
                   LedgerEntry.created_at)
            .join(Member, Member.id == LedgerEntry.member_id)
            .where(*assigned, Member.holdout_group == PROGRAM))
        for member_id, kind, points, created_at in entries:
            if member_id not in program_ids:
                continue
            at = complete[member_id][1]
            if not at - ASSIGNING_ORDER_SLACK <= created_at < at + period:
                continue
            if kind == "redeem":
                redeemed -= points
            elif kind == "redeem_refund":
                redeemed -= points
            elif kind == "expire":
                expired -= points
            elif kind in REVERSAL_KINDS or points < 0:
                taken_back -= points
            else:
                issued += points
                bonus += points if kind in BONUS_KINDS else 0
    held = max(issued - taken_back - redeemed - expired, 0)
    value = settings.point_value
    return ProgramCost(points_issued=issued, bonus_points=bonus, points_redeemed=redeemed,
                       points_held=held, redeemed_value=Decimal(redeemed) * value,
                       held_liability=(Decimal(held) * value * expected).quantize(
                           Decimal("0.01")))
