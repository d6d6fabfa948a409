"""The A/B test a member is in, and the settings their arm gives them.

A test (app/insights/experiments.py starts, reads and ends them) varies one thing between arm
A (today's value) and arm B: a path of the settings document (`bonuses.signup`,
`earning.points_per_unit`, `engagement.review_request_days`) or one reward's points price
(`reward_cost:<reward id>`). A customer who signs up while a test runs enters it: HMAC-SHA256
of their customer id under the test's own key decides their arm, stored once. From then on,
while the test runs, every rule that treats them reads their arm's value through the functions
here (the welcome bonus, the earning rate, the review request's delay, a reward's price).
Held-out members never enter.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.loyalty.holdout import is_held_out
from app.loyalty.program import ProgramSettings
from app.models import Experiment, ExperimentAssignment, Member, Reward

ARMS = ("A", "B")
# The variable of a test of one reward's price: this prefix, then the reward's id.
REWARD_COST = "reward_cost:"


def running_experiment(session: Session, shop_id: int) -> Experiment | None:
    """The shop's test that runs now (one at a time)."""
    return session.execute(select(Experiment).where(
        Experiment.shop_id == shop_id, Experiment.ended_at.is_(None))).scalar_one_or_none()


def arm_for(key: str, customer_id: int) -> str:
    """A or B, half each, from the test's key and the customer."""
    digest = hmac.new(key.encode(), str(customer_id).encode(), hashlib.sha256).digest()
    return ARMS[digest[0] & 1]


def reward_of(variable: str) -> int | None:
    """The reward id a test of a reward's price varies, None for a settings path."""
    if not variable.startswith(REWARD_COST):
        return None
    return int(variable.removeprefix(REWARD_COST))


def arm_value(experiment: Experiment, arm: str) -> Any:
    """The value an arm gives."""
    return next(a["value"] for a in experiment.arms if a["name"] == arm)


def member_arm(session: Session, member: Member, now: datetime, *,
               enter: bool = False) -> tuple[Experiment, str] | None:
    """The running test and the member's arm in it, None when they are not in one.

    With `enter`, a member joining now (created at `now`, with a customer account, not held
    out) who is not in the test yet is assigned here, once. A member whose row carries no arm
    and who does not enter now costs no statement."""
    entering = enter and member.created_at == now
    if member.customer_id is None or is_held_out(member) or (
            member.experiment_arm is None and not entering):
        return None
    experiment = running_experiment(session, member.shop_id)
    if experiment is None:
        return None
    arm = session.execute(select(ExperimentAssignment.arm).where(
        ExperimentAssignment.experiment_id == experiment.id,
        ExperimentAssignment.member_id == member.id)).scalar_one_or_none()
    if arm is not None:
        return experiment, arm
    if not entering:
        return None
    arm = arm_for(experiment.assignment_key, member.customer_id)
    session.add(ExperimentAssignment(experiment_id=experiment.id, member_id=member.id, arm=arm,
                                     assigned_at=now))
    member.experiment_arm = arm
    return experiment, arm


def end_assignments(session: Session, experiment: Experiment) -> None:
    """A test ends: its members' rows carry no arm any more (their assignments stay)."""
    session.execute(update(Member).where(Member.id.in_(
        select(ExperimentAssignment.member_id)
        .where(ExperimentAssignment.experiment_id == experiment.id))).values(experiment_arm=None)
        .execution_options(synchronize_session=False))


def with_value(settings: ProgramSettings, path: str, value: Any) -> ProgramSettings:
    """The settings document with one path set to `value` (same version)."""
    data = copy.deepcopy(settings.data)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return ProgramSettings(version=settings.version, data=data)


def settings_for_member(session: Session, member: Member, settings: ProgramSettings,
                        now: datetime, *, enter: bool = False) -> ProgramSettings:
    """The settings that apply to a member: with their arm's value while a test of a setting
    runs and they are in it, else the shop's own. `enter` as in member_arm."""
    found = member_arm(session, member, now, enter=enter)
    if found is None or reward_of(found[0].variable) is not None:
        return settings
    experiment, arm = found
    return with_value(settings, experiment.variable, arm_value(experiment, arm))


@dataclass(frozen=True)
class RewardPriceTest:
    """A running test of one reward's price, as the storefront keeps it with the program."""

    experiment_id: int
    reward_id: int
    prices: dict[str, int]


def reward_price_test(session: Session, shop_id: int) -> RewardPriceTest | None:
    """The shop's running test of a reward's price, None when no such test runs."""
    experiment = running_experiment(session, shop_id)
    reward_id = reward_of(experiment.variable) if experiment is not None else None
    if experiment is None or reward_id is None:
        return None
    return RewardPriceTest(experiment.id, reward_id,
                           {a["name"]: int(a["value"]) for a in experiment.arms})


def member_reward_costs(session: Session, member: Member | None,
                        test: RewardPriceTest | None) -> dict[int, int]:
    """Reward id → the price the member's arm gives it in `test` (empty when no test runs or
    the member is not in it: every reward costs its own `cost`)."""
    if member is None or test is None or member.experiment_arm is None:
        return {}
    arm = session.execute(select(ExperimentAssignment.arm).where(
        ExperimentAssignment.experiment_id == test.experiment_id,
        ExperimentAssignment.member_id == member.id)).scalar_one_or_none()
    return {} if arm is None else {test.reward_id: test.prices[arm]}


def reward_costs_for_member(session: Session, member: Member | None) -> dict[int, int]:
    """Reward id → the points price the member's arm gives it, while a test of that reward's
    price runs and they are in it (empty otherwise)."""
    if member is None or member.experiment_arm is None:
        return {}
    return member_reward_costs(session, member, reward_price_test(session, member.shop_id))


def reward_cost(session: Session, member: Member, reward: Reward) -> int:
    """What this member pays for this reward: their arm's price, else the reward's."""
    return reward_costs_for_member(session, member).get(reward.id, reward.cost)
