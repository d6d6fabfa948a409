"""The A/B page's stopping rule, simulated: with no true effect, a merchant who looks at the
page ten times during a test sees a difference declared in at most 5 % of tests, for every
metric the page offers (each at its own typical baseline). Seeded, so every run draws the
same tests; the looks go through the page's own rule (fixed_horizon_difference)."""

from __future__ import annotations

import random
from decimal import Decimal
from itertools import accumulate

import pytest

from app.insights.experiments import ArmFigures, fixed_horizon_difference
from app.insights.stats import sample_size_for_rates

RUNS, LOOKS = 1_000, 10


def _arm(name: str, members: int, converted: int) -> ArmFigures:
    return ArmFigures(name, 0, members, converted, Decimal(0))


def _false_results(rng: random.Random, baseline: float, effect: float) -> float:
    n = sample_size_for_rates(baseline, effect, ratio=1).control
    declared = 0
    for _ in range(RUNS):
        # Members reach the end of their follow-up one by one; the page is looked at ten
        # times, the last look a little past the horizon.
        total = n + n // LOOKS
        a = list(accumulate(rng.random() < baseline for _ in range(total)))
        b = list(accumulate(rng.random() < baseline for _ in range(total)))
        verdicts = []
        for look in range(1, LOOKS + 1):
            members = total * look // LOOKS
            verdict = fixed_horizon_difference(n, _arm("A", members, a[members - 1]),
                                               _arm("B", members, b[members - 1]))
            if members < n:
                assert verdict is None
            elif verdict is not None:
                verdicts.append(verdict.excludes_zero)
        declared += any(verdicts)
    return declared / RUNS


@pytest.mark.parametrize(("metric", "baseline", "effect", "seed"), [
    ("next_order_30d", 0.20, 0.08, 31),
    ("redemption_30d", 0.10, 0.06, 32),
    ("review_60d", 0.05, 0.05, 33),
])
def test_with_no_effect_repeated_looks_declare_a_difference_at_most_5_in_100(
        metric, baseline, effect, seed):
    # Binomial(1,000, 0.05) has a standard deviation of 0.7 points: 2 of them of slack.
    assert _false_results(random.Random(seed), baseline, effect) <= 0.05 + 0.014


def test_before_the_horizon_nothing_is_declared_even_for_a_huge_gap():
    assert fixed_horizon_difference(100, _arm("A", 99, 0), _arm("B", 99, 99)) is None
    assert fixed_horizon_difference(100, _arm("A", 100, 0), _arm("B", 99, 99)) is None
    assert fixed_horizon_difference(100, _arm("A", 100, 0), _arm("B", 100, 100)).excludes_zero
