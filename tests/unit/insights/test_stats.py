"""The effect page's statistics against published values."""

from __future__ import annotations

import math

import pytest

from app.insights.stats import (
    Summary,
    newcombe_difference,
    sample_size_for_rates,
    welch,
    wilson,
)


# Newcombe (1998), Table II, method 10 (hybrid score), examples (a)-(h).
@pytest.mark.parametrize(("a", "n_a", "b", "n_b", "low", "high"), [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
])
def test_newcombe_hybrid_score_interval_matches_his_paper(a, n_a, b, n_b, low, high):
    interval = newcombe_difference(a, n_a, b, n_b)
    assert interval.estimate == pytest.approx(a / n_a - b / n_b)
    assert interval.low == pytest.approx(low, abs=1e-4)
    assert interval.high == pytest.approx(high, abs=1e-4)


def test_wilson_interval_matches_newcombes_single_proportion_examples():
    # Newcombe (1998) companion paper on one proportion, 81/263, score method: 0.2553-0.3662.
    interval = wilson(81, 263)
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.2553, 0.3662)
    assert wilson(0, 10).low == 0 and wilson(10, 10).high == 1


def test_wilson_refuses_impossible_counts():
    with pytest.raises(ValueError):
        wilson(3, 0)
    with pytest.raises(ValueError):
        wilson(5, 4)


# Welch's t-test, worked example 1 of the Wikipedia article "Welch's t-test":
# t = -2.46, df = 24.98 (rounded 25.0), p = 0.021.
A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]


def test_welch_matches_the_textbook_example():
    result = welch(Summary.of(A1), Summary.of(A2))
    assert result.t == pytest.approx(-2.46, abs=0.005)
    assert result.df == pytest.approx(24.98, abs=0.01)
    assert result.p_value == pytest.approx(0.021, abs=0.0005)
    # The interval excludes zero exactly when p < 0.05, and is centred on the difference.
    interval = result.interval
    assert interval.high < 0 and interval.excludes_zero
    assert (interval.low + interval.high) / 2 == pytest.approx(
        sum(A1) / len(A1) - sum(A2) / len(A2))


def test_welch_interval_is_the_t_quantile_times_the_standard_error():
    a, b = Summary.of(A1), Summary.of(A2)
    result = welch(a, b)
    se = math.sqrt(a.variance / a.n + b.variance / b.n)
    # t(0.975, 24.98) = 2.0596 (tables: 2.060 at 25 degrees of freedom).
    assert (result.interval.high - result.interval.estimate) / se == pytest.approx(2.0596,
                                                                                   abs=1e-3)


def test_welch_needs_two_values_per_group():
    with pytest.raises(ValueError):
        welch(Summary.of([1.0]), Summary.of([1.0, 2.0]))


def test_sample_size_for_equal_groups_matches_fleiss():
    # 20 % against 30 %, two-sided 5 %, power 80 %, no continuity correction:
    # [1.96 sqrt(2 x .25 x .75) + 0.8416 sqrt(.16 + .21)]^2 / 0.1^2 = 293.2 -> 294 each.
    size = sample_size_for_rates(0.20, 0.10, ratio=1)
    assert (size.control, size.program) == (294, 294)


def test_sample_size_agrees_with_the_arcsine_approximation():
    # Cohen's h for 30 % against 20 % is 0.2319: n = 2 ((z_a + z_b) / h)^2 = 291.8 per group.
    assert sample_size_for_rates(0.20, 0.10, ratio=1).control == pytest.approx(292, rel=0.01)


def test_a_small_control_group_needs_more_customers_in_all():
    equal = sample_size_for_rates(0.25, 0.05, ratio=1)
    holdout = sample_size_for_rates(0.25, 0.05, ratio=9)
    assert holdout.program == pytest.approx(9 * holdout.control, abs=1)
    assert holdout.control < equal.control and holdout.total > equal.total
    # Smaller effects need more customers.
    assert sample_size_for_rates(0.25, 0.02, ratio=9).total > holdout.total
