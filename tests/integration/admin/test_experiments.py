"""A/B tests of the program: sized up front, arms applied through the settings, no result
before the horizon, ended by adopting an arm (a new settings version)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.loyalty import events, holdout
from app.loyalty.experiments import arm_for, running_experiment
from app.models import Experiment, ExperimentAssignment, Member, Order, SettingsVersion, Shop
from tests.integration.admin.conftest import NOW


def _start(admin, **overrides):
    body = {"variable": "bonuses.signup", "value_b": "500", "smallest_effect_points": "20",
            "guardrail_cost": "4", **overrides}
    return admin.fetch("/admin/experiments", body)


def _join(admin, customer_id: int, at) -> Member:
    with admin.db.transaction() as s:
        shop = s.get(Shop, admin.shop_id)
        events.customer_joined(s, shop, {"id": customer_id, "email": f"{customer_id}@x.io"}, at,
                               welcome=True)
        return s.execute(select(Member).where(Member.customer_id == customer_id)).scalar_one()


def test_a_test_is_checked_and_sized_when_it_starts(admin):
    assert _start(admin, variable="pending_days").status_code == 422
    assert _start(admin, value_b="250").status_code == 422  # today's value
    assert _start(admin, value_b="-1").status_code == 422
    assert _start(admin, smallest_effect_points="abc").status_code == 422
    assert admin.fetch("/admin/experiments", ["x"]).status_code == 400
    started = _start(admin)
    assert started.status_code == 200
    # From the default 20 % baseline to 40 %: 82 members per arm (5 %, 80 % power).
    assert started.get_json()["sample_per_arm"] == 82
    assert _start(admin).status_code == 422  # one test at a time


def test_members_who_join_get_their_arms_bonus_and_keep_their_arm(admin):
    _start(admin)
    with admin.db.sessions() as s:
        key = running_experiment(s, admin.shop_id).assignment_key
    customers = list(range(300, 340))
    for customer in customers:
        _join(admin, customer, NOW)
    with admin.db.sessions() as s:
        arms = dict(s.execute(select(Member.customer_id, ExperimentAssignment.arm)
                              .join(ExperimentAssignment,
                                    ExperimentAssignment.member_id == Member.id)).all())
        balances = dict(s.execute(select(Member.customer_id, Member.points_available)).all())
    assert arms == {c: arm_for(key, c) for c in customers}
    assert {balances[c] for c in customers if arms[c] == "A"} == {250}
    assert {balances[c] for c in customers if arms[c] == "B"} == {500}
    # Joining again (customers/update) changes nothing.
    _join(admin, customers[0], NOW + timedelta(days=1))
    with admin.db.sessions() as s:
        assert s.execute(select(ExperimentAssignment)).scalars().all().__len__() == 40


def test_a_held_out_customer_never_enters_a_test(admin):
    with admin.db.transaction() as s:
        shop = s.get(Shop, admin.shop_id)
        holdout.start(shop, 50, NOW)
        control = next(c for c in range(400, 500) if holdout.group_for(
            shop.holdout_key, shop.domain, c, 50) == holdout.CONTROL)
    _start(admin)
    member = _join(admin, control, NOW)
    with admin.db.sessions() as s:
        assert s.execute(select(ExperimentAssignment)).first() is None
    assert member.points_available == 0


def test_no_result_before_the_horizon_then_the_difference_and_adopting_an_arm(admin):
    _start(admin)
    with admin.db.sessions() as s:
        key = running_experiment(s, admin.shop_id).assignment_key
    joined = NOW
    by_arm: dict[str, list[int]] = {"A": [], "B": []}
    customer = 1_000
    while min(len(v) for v in by_arm.values()) < 90:
        by_arm[arm_for(key, customer)].append(customer)
        customer += 1
    members = {}
    for ids in by_arm.values():
        for c in ids[:90]:
            members[c] = _join(admin, c, joined).id
    # Arm B orders more: 45 of 90 within 30 days against 18 of 90.
    with admin.db.transaction() as s:
        n = 0
        for arm, buyers in (("A", 18), ("B", 45)):
            for c in by_arm[arm][:buyers]:
                n += 1
                s.add(Order(shop_id=admin.shop_id, shopify_order_id=900_000 + n,
                            member_id=members[c], total_price=Decimal("30"), status="paid",
                            paid_at=joined + timedelta(days=5), created_at=joined))
    early = admin.page("/admin/experiments").get_data(as_text=True)
    assert 'data-figure="experiment-waiting"' in early
    assert "experiment-difference" not in early
    admin.app.extensions["admin_clock"] = lambda: NOW + timedelta(days=31)
    late = admin.page("/admin/experiments").get_data(as_text=True)
    shown = re.search(r'data-figure="experiment-difference">([^<]*)<', late).group(1)
    assert shown == "B +30.0 points"
    # Arm B gives 500 points (5.00) per member: over the 4.00 guardrail.
    assert 'data-guardrail="B"' in late and 'data-guardrail="A"' not in late
    adopted = admin.fetch("/admin/experiments/adopt", {"arm": "B"})
    assert adopted.status_code == 200
    with admin.db.sessions() as s:
        experiment = s.execute(select(Experiment)).scalar_one()
        newest = s.execute(select(SettingsVersion).order_by(SettingsVersion.version.desc())
                           ).scalars().first()
        assert experiment.adopted_arm == "B" and experiment.ended_at is not None
        assert newest.data["bonuses"]["signup"] == 500
    assert admin.fetch("/admin/experiments/adopt", {"arm": "A"}).status_code == 409
    assert "data-past-experiment" in admin.page("/admin/experiments").get_data(as_text=True)
