"""A/B tests of the program itself, read at a fixed horizon.

The merchant varies one thing between arm A (today's value) and arm B: the welcome bonus, the
earning rate of new members, the review request's delay, or one reward's points price. The
metric (next order, a redemption or a review within its follow-up) and the guardrail (points'
value per member) are declared up front, and the sample each arm needs is computed when the
test starts (the shop's own baseline rate of that metric, the smallest change that matters,
5 % two-sided, 80 % power). The page shows no difference at all until both arms have that
many members whose follow-up is over: a fixed horizon, so looking early can never turn chance
into a verdict. The arms are the program's own settings (app/loyalty/experiments.py applies
them where each rule reads them). The merchant ends a test by adopting an arm, which saves
that value for everyone: a new settings version, or the reward's price.

Members enter a test when they sign up while it runs, and keep their arm: HMAC-SHA256 of the
member's customer id under the test's own key decides it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.insights.stats import Interval, newcombe_difference, sample_size_for_rates
from app.loyalty.experiments import (
    REWARD_COST,
    end_assignments,
    reward_of,
    running_experiment,
)
from app.loyalty.program import SUBJECT_MAX, ProgramSettings, SettingsError, save_settings
from app.loyalty.settings_labels import FLOW_LABELS
from app.models import (
    Experiment,
    ExperimentAssignment,
    LedgerEntry,
    Member,
    Order,
    Redemption,
    Reward,
    Shop,
)
from app.models.review import Review


@dataclass(frozen=True)
class Variable:
    """A thing a test may vary, and what its value must be."""

    key: str
    label: str
    low: Decimal
    high: Decimal
    # Whole numbers only (points, days); the earning rate may have decimals.
    whole: bool = True
    # A text (an email subject) rather than a number.
    text: bool = False


# The settings paths a test may vary. A reward's price is `reward_cost:<id>` (reward_variable),
# a flow's email subject `engagement.flows.<flow>.subject` (subject_variable).
VARIABLES = {
    "bonuses.signup": Variable("bonuses.signup", "Welcome bonus (points)", Decimal(0),
                               Decimal(100_000)),
    "earning.points_per_unit": Variable(
        "earning.points_per_unit", "Points per unit of spend for new members", Decimal(0),
        Decimal(1000), whole=False),
    "engagement.review_request_days": Variable(
        "engagement.review_request_days", "Review request delay (days after fulfilment)",
        Decimal(1), Decimal(365)),
}


@dataclass(frozen=True)
class Metric:
    """What a test measures: whether a member did something within `days` of entering."""

    key: str
    label: str
    days: int


METRICS = {metric.key: metric for metric in (
    Metric("next_order_30d", "A paid order within 30 days of joining", 30),
    Metric("redemption_30d", "A reward redeemed within 30 days of joining", 30),
    # A review needs an order, its fulfilment and the request's delay: a longer follow-up.
    Metric("review_60d", "A product review within 60 days of joining", 60),
)}
# Redemptions that gave the member their reward (a failed one gave nothing).
_REDEEMED = ("issued", "used", "expired", "refunded")


class ExperimentError(ValueError):
    """A test that cannot be started or ended, with the reason a merchant can read."""


def _reward(session: Session, shop_id: int, reward_id: int) -> Reward | None:
    """The shop's active reward with that id (another shop's reward is not found)."""
    return session.execute(select(Reward).where(
        Reward.id == reward_id, Reward.shop_id == shop_id, Reward.active.is_(True))
    ).scalar_one_or_none()


def reward_variable(reward: Reward) -> Variable:
    """The variable of a test of one reward's points price."""
    return Variable(f"{REWARD_COST}{reward.id}", f"Price of “{reward.title}” (points)",
                    Decimal(1), Decimal(10**7))


def subject_variable(flow: str) -> Variable:
    """The variable of a test of one flow's email subject."""
    return Variable(f"engagement.flows.{flow}.subject", f"{FLOW_LABELS[flow]} email subject",
                    Decimal(1), Decimal(SUBJECT_MAX), whole=False, text=True)


def _subject_flow(key: str) -> str | None:
    """The flow whose subject a variable names, None for any other variable."""
    match = _SUBJECT.fullmatch(key)
    return match.group(1) if match and match.group(1) in FLOW_LABELS else None


_SUBJECT = re.compile(r"engagement\.flows\.(\w+)\.subject")


def testable_variables(session: Session, shop_id: int) -> list[Variable]:
    """Everything a test of this shop may vary: the settings, each flow's email subject, then
    each active reward's price."""
    rewards = session.execute(select(Reward).where(
        Reward.shop_id == shop_id, Reward.active.is_(True))
        .order_by(Reward.position, Reward.cost, Reward.id)).scalars()
    return [*VARIABLES.values(), *(subject_variable(flow) for flow in FLOW_LABELS),
            *(reward_variable(r) for r in rewards)]


def variable_label(variable: str) -> str:
    """What a merchant reads for a test's variable, even once its reward is gone."""
    if variable in VARIABLES:
        return VARIABLES[variable].label
    if _subject_flow(variable) is not None:
        return subject_variable(_subject_flow(variable)).label
    return "A reward's price (points)" if reward_of(variable) is not None else variable


def _value(variable: Variable, raw: Any) -> Any:
    """A valid arm value: an int, the earning rate as a plain decimal string, or a subject."""
    if variable.text:
        text = str(raw).strip() if isinstance(raw, str) else ""
        if not text or len(text) > SUBJECT_MAX or any(c in text for c in "\r\n\x00"):
            raise ExperimentError(f"{variable.label}: write one line of 1 to {SUBJECT_MAX} "
                                  "characters")
        return text
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        value = Decimal("NaN")
    kind = "a whole number" if variable.whole else "a number"
    if not value.is_finite() or (variable.whole and value != value.to_integral_value()):
        raise ExperimentError(f"{variable.label} must be {kind}")
    if not variable.low <= value <= variable.high:
        raise ExperimentError(f"{variable.label} must be from {variable.low} to "
                              f"{variable.high}")
    if variable.whole:
        return int(value)
    return format(value.normalize(), "f")


def current_value(session: Session, shop_id: int, settings: ProgramSettings,
                  variable: str) -> Any:
    """Today's value of a variable for everyone: arm A."""
    reward_id = reward_of(variable)
    if reward_id is not None:
        reward = _reward(session, shop_id, reward_id)
        if reward is None:
            raise ExperimentError("that reward is not in the catalog any more")
        return reward.cost
    *parents, last = variable.split(".")
    node: Any = settings.data
    for part in parents:
        node = node[part]
    # A flow without a subject of the merchant's sends its own (translated): "".
    return node.get(last, "")


def _variable(session: Session, shop_id: int, key: str) -> Variable:
    """The variable a start request names; ExperimentError when it is not testable here."""
    if key in VARIABLES:
        return VARIABLES[key]
    flow = _subject_flow(key)
    if flow is not None:
        return subject_variable(flow)
    digits = key.removeprefix(REWARD_COST)
    reward = None
    if key.startswith(REWARD_COST) and digits.isdigit() and len(digits) <= 18:
        reward = _reward(session, shop_id, int(digits))
    if reward is None:
        raise ExperimentError("that setting cannot be tested")
    return reward_variable(reward)


def start_experiment(session: Session, shop: Shop, settings: ProgramSettings, *,
                     variable: str, value_b: Any, metric: str, smallest_effect_points: Any,
                     guardrail_cost: Any, now: datetime,
                     started_by: str | None) -> Experiment:
    """Start a test of `variable` measured by `metric`: A keeps today's value, B gets
    `value_b`; the sample per arm is computed now from the shop's baseline of that metric."""
    if metric not in METRICS:
        raise ExperimentError("choose a metric from the list")
    chosen = _variable(session, shop.id, variable)
    if running_experiment(session, shop.id) is not None:
        raise ExperimentError("a test is already running: end it first")
    value_a, value_b = current_value(session, shop.id, settings, chosen.key), _value(chosen,
                                                                                     value_b)
    if (value_a == value_b if chosen.text else Decimal(str(value_a)) == Decimal(str(value_b))):
        raise ExperimentError("arm B must differ from today's setting")
    try:
        effect = Decimal(str(smallest_effect_points).strip()) / 100
        cost = Decimal(str(guardrail_cost).strip())
    except ArithmeticError:
        raise ExperimentError("the smallest effect and the guardrail are numbers") from None
    if not effect.is_finite() or not Decimal("0.005") <= effect <= Decimal("0.5") \
            or not cost.is_finite() or cost < 0 or cost > Decimal(10**9):
        raise ExperimentError("the smallest effect is 0.5 to 50 points, the guardrail from 0 "
                              "to 1,000,000,000")
    baseline = baseline_rate(session, shop.id, metric, now)
    if baseline + float(effect) >= 1:
        raise ExperimentError(f"from today's {baseline:.0%} the rate cannot rise by that much")
    size = sample_size_for_rates(baseline, float(effect), ratio=1)
    experiment = Experiment(
        shop_id=shop.id, variable=chosen.key,
        arms=[{"name": "A", "value": value_a}, {"name": "B", "value": value_b}],
        metric=metric, guardrail_cost=cost, baseline=Decimal(f"{baseline:.6f}"),
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


def fixed_horizon_difference(sample_per_arm: int, a: ArmFigures,
                             b: ArmFigures) -> Interval | None:
    """B minus A with Newcombe's interval once both arms have the sample computed up front,
    and nothing before, however often the page is looked at."""
    if min(a.members, b.members) < sample_per_arm:
        return None
    return newcombe_difference(b.converted, b.members, a.converted, a.members)


@dataclass(frozen=True)
class Reading:
    """A test's state: each arm, whether the horizon is reached, and only then the verdict."""

    experiment: Experiment
    arms: tuple[ArmFigures, ArmFigures]
    waiting: int

    @property
    def metric(self) -> Metric:
        """The metric declared when the test started."""
        return METRICS[self.experiment.metric]

    @property
    def horizon_reached(self) -> bool:
        """Both arms have the sample computed when the test started."""
        return all(a.members >= self.experiment.sample_per_arm for a in self.arms)

    @property
    def difference(self) -> Interval | None:
        """B minus A with Newcombe's interval, once the horizon is reached, never before."""
        return fixed_horizon_difference(self.experiment.sample_per_arm, *self.arms)

    def over_guardrail(self, arm: ArmFigures) -> bool:
        """Whether an arm's members cost more than the guardrail allows, judged at the
        horizon with the verdict."""
        per = arm.cost_per_member
        return (self.horizon_reached and per is not None
                and per > Decimal(str(self.experiment.guardrail_cost)))


def _event_times(metric: str, members: Any) -> Select[Any]:
    """(member id, moment) of each time a member in `members` (a subquery of ids) did what
    the metric counts."""
    if metric == "next_order_30d":
        return select(Order.member_id, Order.paid_at).where(
            Order.member_id.in_(members), Order.status == "paid", Order.test.is_(False))
    if metric == "redemption_30d":
        return select(Redemption.member_id, Redemption.created_at).where(
            Redemption.member_id.in_(members), Redemption.status.in_(_REDEEMED))
    return select(Review.member_id, Review.created_at).where(Review.member_id.in_(members))


def _converted(session: Session, metric: Metric, members: Any,
               entered: dict[int, datetime]) -> set[int]:
    """The members of `entered` who did it within the follow-up after entering."""
    follow_up = timedelta(days=metric.days)
    return {member_id for member_id, at in session.execute(_event_times(metric.key, members))
            if member_id in entered and at is not None
            and entered[member_id] <= at < entered[member_id] + follow_up}


def read_experiment(session: Session, experiment: Experiment, settings: ProgramSettings,
                    now: datetime) -> Reading:
    """Each arm's members whose follow-up is over, converted (did what the metric counts
    within it) and their points' value."""
    metric = METRICS[experiment.metric]
    rows = session.execute(
        select(ExperimentAssignment.member_id, ExperimentAssignment.arm,
               ExperimentAssignment.assigned_at)
        .where(ExperimentAssignment.experiment_id == experiment.id)).all()
    follow_up = timedelta(days=metric.days)
    done = {m: (arm, at) for m, arm, at in rows if at + follow_up <= now}
    in_test = select(ExperimentAssignment.member_id).where(
        ExperimentAssignment.experiment_id == experiment.id).scalar_subquery()
    converted = _converted(session, metric, in_test, {m: at for m, (_, at) in done.items()})
    points: dict[int, int] = dict(session.execute(
        select(LedgerEntry.member_id, func.sum(LedgerEntry.points))
        .where(LedgerEntry.member_id.in_(in_test), LedgerEntry.points > 0)
        .group_by(LedgerEntry.member_id)).all())
    arms = []
    for arm in experiment.arms:
        ids = [m for m, (name, _) in done.items() if name == arm["name"]]
        cost = Decimal(sum(points.get(m, 0) for m in ids)) * settings.point_value
        arms.append(ArmFigures(arm["name"], arm["value"], len(ids),
                               sum(1 for m in ids if m in converted), cost))
    return Reading(experiment, (arms[0], arms[1]), len(rows) - len(done))


def adopt_arm(session: Session, shop: Shop, experiment: Experiment, arm: str, *,
              now: datetime, changed_by: str | None) -> str:
    """End the test by making an arm's value everyone's: a new settings version, or the
    reward's price. Returns what was saved, for the merchant."""
    if experiment.ended_at is not None:
        raise ExperimentError("this test has ended")
    chosen = next((a for a in experiment.arms if a["name"] == arm), None)
    if chosen is None:
        raise ExperimentError("no such arm")
    reward_id = reward_of(experiment.variable)
    if reward_id is not None:
        reward = _reward(session, shop.id, reward_id)
        if reward is None:
            # Switched off or deleted during the test: the test still ends, nothing to save.
            saved = "the reward is no longer in the catalog, so no price was saved"
        else:
            reward.cost = int(chosen["value"])
            saved = f"“{reward.title}” now costs {reward.cost:,} points"
    else:
        *parents, last = experiment.variable.split(".")
        changes: dict[str, Any] = {last: chosen["value"]}
        for part in reversed(parents):
            changes = {part: changes}
        try:
            version = save_settings(session, shop.id, changes, changed_by=changed_by, now=now)
        except SettingsError as exc:
            raise ExperimentError(str(exc)) from None
        saved = f"settings saved as version {version.version}"
    experiment.ended_at, experiment.adopted_arm = now, arm
    end_assignments(session, experiment)
    return saved


# The rate assumed when a shop has too few recent members to measure its own, per metric.
DEFAULT_BASELINES = {"next_order_30d": 0.2, "redemption_30d": 0.1, "review_60d": 0.05}
BASELINE_MINIMUM = 50
# How far back, before the follow-up, the baseline's members joined.
BASELINE_WINDOW = timedelta(days=90)


def baseline_rate(session: Session, shop_id: int, metric: str, now: datetime) -> float:
    """The share of customers who joined in the 90 days before the metric's follow-up who did
    what it counts within the follow-up: the metric's rate before the test."""
    chosen = METRICS[metric]
    follow_up = timedelta(days=chosen.days)
    window = (Member.shop_id == shop_id, Member.customer_id.is_not(None),
              Member.created_at >= now - follow_up - BASELINE_WINDOW,
              Member.created_at < now - follow_up)
    members = dict(session.execute(select(Member.id, Member.created_at).where(*window)).all())
    if len(members) < BASELINE_MINIMUM:
        return DEFAULT_BASELINES[metric]
    converted = _converted(session, chosen, select(Member.id).where(*window).scalar_subquery(),
                           members)
    return len(converted) / len(members)


def baselines(session: Session, shop_id: int, now: datetime) -> dict[str, float]:
    """Every metric's baseline rate, for the form."""
    return {key: baseline_rate(session, shop_id, key, now) for key in METRICS}

