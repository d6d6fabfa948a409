"""A/B tests of the program itself, read at a fixed horizon.

The merchant varies one setting between arm A (today's value) and arm B, and declares up
front the metric and the guardrail. The sample each arm needs is computed when the test starts
(the baseline rate, the smallest change that matters, 5 % two-sided, 80 % power), and the page
shows no difference at all until both arms have that many members whose follow-up period is
over: a fixed horizon, so looking early can never turn chance into a verdict. The arms are the
program's own settings: a member of arm B is treated with the settings document with B's value
in it. The merchant ends a test by adopting an arm, which saves that value as a new settings
version for everyone.

Members enter a test when the program first meets them while it runs (their sign-up), and keep
their arm: HMAC-SHA256 of the member's customer id under the test's own key decides it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.insights.stats import Interval, newcombe_difference, sample_size_for_rates
from app.loyalty.experiments import running_experiment
from app.loyalty.program import ProgramSettings, SettingsError, save_settings
from app.models import Experiment, ExperimentAssignment, LedgerEntry, Member, Order, Shop


@dataclass(frozen=True)
class Variable:
    """A setting a test may vary, and what its value must be."""

    path: str
    label: str
    low: int
    high: int


VARIABLES = {
    "bonuses.signup": Variable("bonuses.signup", "Welcome bonus (points)", 0, 100_000),
}
METRICS = {"next_order_30d": "A paid order within 30 days of joining"}
FOLLOW_UP = timedelta(days=30)


class ExperimentError(ValueError):
    """A test that cannot be started or ended, with the reason a merchant can read."""


def _value(variable: Variable, raw: Any) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ExperimentError(f"{variable.label} must be a whole number") from None
    if not variable.low <= value <= variable.high:
        raise ExperimentError(f"{variable.label} must be from {variable.low} to "
                              f"{variable.high}")
    return value


def _current(settings: ProgramSettings, path: str) -> Any:
    value: Any = settings.data
    for part in path.split("."):
        value = value[part]
    return value


def start_experiment(session: Session, shop: Shop, settings: ProgramSettings, *,
                     variable: str, value_b: Any, smallest_effect_points: Any,
                     guardrail_cost: Any, baseline: float, now: datetime,
                     started_by: str | None) -> Experiment:
    """Start a test of `variable`: A keeps today's value, B gets `value_b`."""
    if variable not in VARIABLES:
        raise ExperimentError("that setting cannot be tested")
    if running_experiment(session, shop.id) is not None:
        raise ExperimentError("a test is already running: end it first")
    chosen = VARIABLES[variable]
    value_a, value_b = int(_current(settings, variable)), _value(chosen, value_b)
    if value_a == value_b:
        raise ExperimentError("arm B must differ from today's setting")
    try:
        effect = Decimal(str(smallest_effect_points).strip()) / 100
        cost = Decimal(str(guardrail_cost).strip())
    except ArithmeticError:
        raise ExperimentError("the smallest effect and the guardrail are numbers") from None
    if not Decimal("0.005") <= effect <= Decimal("0.5") or not cost.is_finite() or cost < 0:
        raise ExperimentError("the smallest effect is 0.5 to 50 points, the guardrail at "
                              "least 0")
    size = sample_size_for_rates(baseline, float(effect), ratio=1)
    experiment = Experiment(
        shop_id=shop.id, variable=variable,
        arms=[{"name": "A", "value": value_a}, {"name": "B", "value": value_b}],
        metric="next_order_30d", guardrail_cost=cost, baseline=Decimal(f"{baseline:.6f}"),
        smallest_effect=effect, sample_per_arm=size.control,
        assignment_key=secrets.token_hex(32), started_at=now, started_by=started_by,
        created_at=now)
    session.add(experiment)
    session.flush()
    return experiment


@dataclass(frozen=True)
class ArmFigures:
    """One arm's members whose follow-up is over, how many converted, what they cost."""

    name: str
    value: Any
    members: int
    converted: int
    cost: Decimal

    @property
    def rate(self) -> float | None:
        """The metric's rate."""
        return self.converted / self.members if self.members else None

    @property
    def cost_per_member(self) -> Decimal | None:
        """Points given to the arm, at their value, per member."""
        return (self.cost / self.members).quantize(Decimal("0.01")) if self.members else None


@dataclass(frozen=True)
class Reading:
    """A test's state: each arm, whether the horizon is reached, and only then the verdict."""

    experiment: Experiment
    arms: tuple[ArmFigures, ArmFigures]
    waiting: int

    @property
    def horizon_reached(self) -> bool:
        """Both arms have the sample computed when the test started."""
        return all(a.members >= self.experiment.sample_per_arm for a in self.arms)

    @property
    def difference(self) -> Interval | None:
        """B minus A with Newcombe's interval, once the horizon is reached, never before."""
        a, b = self.arms
        if not self.horizon_reached:
            return None
        return newcombe_difference(b.converted, b.members, a.converted, a.members)

    def over_guardrail(self, arm: ArmFigures) -> bool:
        """Whether an arm's members cost more than the guardrail allows."""
        per = arm.cost_per_member
        return per is not None and per > Decimal(str(self.experiment.guardrail_cost))


def read_experiment(session: Session, experiment: Experiment, settings: ProgramSettings,
                    now: datetime) -> Reading:
    """Each arm's members whose 30 days are over, converted (a paid order within them) and
    their points' value."""
    rows = session.execute(
        select(ExperimentAssignment.member_id, ExperimentAssignment.arm,
               ExperimentAssignment.assigned_at)
        .where(ExperimentAssignment.experiment_id == experiment.id)).all()
    done = {m: (arm, at) for m, arm, at in rows if at + FOLLOW_UP <= now}
    converted: set[int] = set()
    for member_id, paid_at in session.execute(
            select(Order.member_id, Order.paid_at)
            .join(ExperimentAssignment, ExperimentAssignment.member_id == Order.member_id)
            .where(ExperimentAssignment.experiment_id == experiment.id,
                   Order.status == "paid", Order.test.is_(False))):
        if member_id in done and paid_at is not None:
            at = done[member_id][1]
            if at <= paid_at < at + FOLLOW_UP:
                converted.add(member_id)
    points: dict[int, int] = dict(session.execute(
        select(LedgerEntry.member_id, func.sum(LedgerEntry.points))
        .join(ExperimentAssignment, ExperimentAssignment.member_id == LedgerEntry.member_id)
        .where(ExperimentAssignment.experiment_id == experiment.id, LedgerEntry.points > 0)
        .group_by(LedgerEntry.member_id)).all())
    arms = []
    for arm in experiment.arms:
        ids = [m for m, (name, _) in done.items() if name == arm["name"]]
        cost = Decimal(sum(points.get(m, 0) for m in ids)) * settings.point_value
        arms.append(ArmFigures(arm["name"], arm["value"], len(ids),
                               sum(1 for m in ids if m in converted), cost))
    return Reading(experiment, (arms[0], arms[1]), len(rows) - len(done))


def adopt_arm(session: Session, shop: Shop, experiment: Experiment, arm: str, *,
              now: datetime, changed_by: str | None) -> ProgramSettings:
    """End the test by making an arm's value the shop's setting (a new settings version)."""
    if experiment.ended_at is not None:
        raise ExperimentError("this test has ended")
    chosen = next((a for a in experiment.arms if a["name"] == arm), None)
    if chosen is None:
        raise ExperimentError("no such arm")
    *parents, last = experiment.variable.split(".")
    changes: dict[str, Any] = {last: chosen["value"]}
    for part in reversed(parents):
        changes = {part: changes}
    try:
        saved = save_settings(session, shop.id, changes, changed_by=changed_by, now=now)
    except SettingsError as exc:
        raise ExperimentError(str(exc)) from None
    experiment.ended_at, experiment.adopted_arm = now, arm
    return saved


# The rate assumed when a shop has too few recent members to measure its own.
DEFAULT_BASELINE, BASELINE_MINIMUM = 0.2, 50


def baseline_rate(session: Session, shop_id: int, now: datetime) -> float:
    """The share of customers who joined 30 to 120 days ago with a paid order within 30 days
    of joining: the metric's rate before the test."""
    members = dict(session.execute(select(Member.id, Member.created_at).where(
        Member.shop_id == shop_id, Member.customer_id.is_not(None),
        Member.created_at >= now - timedelta(days=120),
        Member.created_at < now - FOLLOW_UP)).all())
    if len(members) < BASELINE_MINIMUM:
        return DEFAULT_BASELINE
    converted = {member_id for member_id, paid_at in session.execute(
        select(Order.member_id, Order.paid_at).join(Member, Member.id == Order.member_id)
        .where(Order.shop_id == shop_id, Member.shop_id == shop_id,
               Member.created_at >= now - timedelta(days=120), Order.status == "paid"))
        if member_id in members and paid_at is not None
        and members[member_id] <= paid_at < members[member_id] + FOLLOW_UP}
    return len(converted) / len(members)
