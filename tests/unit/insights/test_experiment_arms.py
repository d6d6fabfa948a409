"""A/B arms: half each, sticky for a customer, another draw for another test's key."""

from __future__ import annotations

from app.loyalty.experiments import arm_for


def test_arms_split_half_each_within_tolerance_and_are_sticky():
    arms = [arm_for("ab" * 32, customer) for customer in range(10_000)]
    # Binomial(10,000, 0.5): standard deviation 50; four of them either side.
    assert abs(arms.count("A") - 5_000) <= 200
    assert arms == [arm_for("ab" * 32, customer) for customer in range(10_000)]
    assert arms != [arm_for("cd" * 32, customer) for customer in range(10_000)]
