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

Every figure is a sum over customers, so the days the daily roll-up holds
(app/insights/holdout_days.py) are read as sums of its rows, corrected for the customers whose
periods reach past the round and who did something since (their periods now less as the round
counted them); only the customers of the day whose periods are partly over are read one by
one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from app.insights.holdout_days import DAY, Sums, changes_since, live_sums, rolled_up_sums
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
from app.models import InsightRollup, Shop

# Orders recorded since the daily round are added to its rows for customers whose periods
# reach past the round, and those of customers whose periods ended this little before it
# (webhooks arriving late); older late orders are counted by the next round.
LATE_ORDERS = timedelta(days=1)


@dataclass(frozen=True)
class GroupFigures:
    """One group's customers and what they bought in their follow-up periods, as sums."""

    sums: Sums = field(default_factory=Sums)

    @property
    def customers(self) -> int:
        """Customers whose period is over."""
        return self.sums.customers

    @property
    def repeaters(self) -> int:
        """Those with a second order in their period."""
        return self.sums.repeaters

    @property
    def repeat_rate(self) -> float | None:
        """Share of customers with a second order in their period."""
        return self.repeaters / self.customers if self.customers else None

    @property
    def orders(self) -> int:
        """Orders of the group's customers in their periods."""
        return self.sums.orders

    @property
    def revenue(self) -> float:
        """Their order totals less refunds."""
        return float(self.sums.revenue)

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

    @property
    def orders_summary(self) -> Summary:
        """Orders per customer: count, mean and variance."""
        return Summary.of_sums(self.customers, Decimal(self.orders),
                               Decimal(self.sums.orders_squares))

    @property
    def revenue_summary(self) -> Summary:
        """Revenue per customer: count, mean and variance."""
        return Summary.of_sums(self.customers, self.sums.revenue, self.sums.revenue_squares)

    @property
    def order_value_summary(self) -> Summary:
        """Single orders' values: count, mean and variance."""
        return Summary.of_sums(self.orders, self.sums.revenue, self.sums.order_value_squares)


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
                   first_day: datetime, end: datetime, now: datetime, *,
                   rolled_up: bool = True) -> Effect:
    """The holdout comparison for customers assigned from `first_day` until `end`: the days
    the roll-up holds are summed from it with what its round has not seen, the rest read
    customer by customer (all of them when `rolled_up` is False)."""
    repeat_days, margin, smallest, expected = effect_settings(settings)
    groups: dict[str, Sums] = {CONTROL: Sums(), PROGRAM: Sums()}
    live_parts = [(first_day, end)]
    state = session.get(InsightRollup, shop.id) if rolled_up else None
    through = state.holdout_through if state is not None else None
    if through is not None and through <= now:
        # Whole UTC days inside the window, assigned before the round, whose customers'
        # periods are all over; then what the round has not seen yet.
        first = first_day.date() + (DAY if first_day.time() != time() else timedelta(0))
        last = min(end.date() - DAY, (now - repeat_days * DAY).date() - DAY,
                   through.date() - DAY)
        if first <= last:
            rolled_end = datetime.combine(last + DAY, time())
            for group, sums in rolled_up_sums(session, shop.id, first, last,
                                              repeat_days).items():
                groups[group].add(sums)
            since_round = changes_since(
                session, shop.id,
                max(datetime.combine(first, time()),
                    through - repeat_days * DAY - LATE_ORDERS),
                rolled_end, through, repeat_days)
            for group, sums in since_round.items():
                groups[group].add(sums)
            live_parts = [(first_day, datetime.combine(first, time())), (rolled_end, end)]
    waiting = 0
    for part_first, part_end in live_parts:
        if part_first >= part_end:
            continue
        sums_by_group, still_waiting = live_sums(session, shop.id, part_first, part_end,
                                                 repeat_days, now)
        waiting += still_waiting
        for group, sums in sums_by_group.items():
            groups[group].add(sums)
    control, program = GroupFigures(groups[CONTROL]), GroupFigures(groups[PROGRAM])
    baseline = (control.repeat_rate if control.customers
                else program.repeat_rate if program.customers else 0.0) or 0.0
    ratio = (program.customers / control.customers if control.customers and program.customers
             else (100 - DEFAULT_SHARE) / DEFAULT_SHARE)
    return Effect(
        first_day=first_day, end=end, repeat_days=repeat_days, control=control,
        program=program, waiting=waiting,
        needed=sample_size_for_rates(baseline, float(smallest), ratio),
        smallest_effect=float(smallest),
        repeat_difference=(newcombe_difference(program.repeaters, program.customers,
                                               control.repeaters, control.customers)
                           if control.customers and program.customers else None),
        orders_difference=_welch(program.orders_summary, control.orders_summary),
        revenue_difference=_welch(program.revenue_summary, control.revenue_summary),
        aov_difference=_welch(program.order_value_summary, control.order_value_summary),
        cost=program_cost(groups[PROGRAM], settings, expected),
        gross_margin=margin, expected_redemption=expected)


def _welch(program: Summary, control: Summary) -> WelchResult | None:
    """Welch's comparison, program minus control, when each side has two values."""
    if program.n < 2 or control.n < 2:
        return None
    return welch(program, control)


def program_cost(program: Sums, settings: ProgramSettings, expected: Decimal) -> ProgramCost:
    """The points the program group was given, spent and still holds in their periods."""
    issued, redeemed = program.points_issued, program.points_redeemed
    held = max(issued - program.points_taken_back - redeemed - program.points_expired, 0)
    value = settings.point_value
    return ProgramCost(points_issued=issued, bonus_points=program.bonus_points,
                       points_redeemed=redeemed, points_held=held,
                       redeemed_value=Decimal(redeemed) * value,
                       held_liability=(Decimal(held) * value * expected).quantize(
                           Decimal("0.01")))
