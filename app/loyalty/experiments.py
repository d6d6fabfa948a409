"""The A/B test a member is in, and the settings their arm gives them.

A test (app/insights/experiments.py starts, reads and ends them) varies one setting between
arm A (today's value) and arm B. A customer who joins while one runs enters it: HMAC-SHA256 of
their customer id under the test's own key decides their arm, stored once, and from then on
they are treated with the settings document holding their arm's value.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.program import ProgramSettings
from app.models import Experiment, ExperimentAssignment, Member

ARMS = ("A", "B")


def running_experiment(session: Session, shop_id: int) -> Experiment | None:
    """The shop's test that runs now (one at a time)."""
    return session.execute(select(Experiment).where(
        Experiment.shop_id == shop_id, Experiment.ended_at.is_(None))).scalar_one_or_none()


def arm_for(key: str, customer_id: int) -> str:
    """A or B, half each, from the test's key and the customer."""
    digest = hmac.new(key.encode(), str(customer_id).encode(), hashlib.sha256).digest()
    return ARMS[digest[0] & 1]


def settings_for_member(session: Session, member: Member, settings: ProgramSettings,
                        now: datetime) -> ProgramSettings:
    """The settings that apply to a member joining now: the running test's arm value when the
    member enters it (assigned once, here), else the shop's own."""
    if member.customer_id is None or member.created_at != now:
        return settings
    experiment = running_experiment(session, member.shop_id)
    if experiment is None:
        return settings
    arm = arm_for(experiment.assignment_key, member.customer_id)
    session.add(ExperimentAssignment(experiment_id=experiment.id, member_id=member.id, arm=arm,
                                     assigned_at=now))
    value = next(a["value"] for a in experiment.arms if a["name"] == arm)
    data = copy.deepcopy(settings.data)
    *parents, last = experiment.variable.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return ProgramSettings(version=settings.version, data=data)
