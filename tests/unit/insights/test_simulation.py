"""The effect page's statistics are honest: simulated shops with a known true effect give 95 %
intervals that hold it about 95 times in 100, and with no effect declare one about 5 times in
100 at most. Seeded, so every run draws the same shops."""

from __future__ import annotations

import random

from app.insights.stats import Summary, newcombe_difference, sample_size_for_rates, welch

RUNS = 1_000


def _rate_runs(rng: random.Random, control_rate: float, program_rate: float, n_control: int,
               n_program: int) -> list:
    intervals = []
    for _ in range(RUNS):
        c = sum(rng.random() < control_rate for _ in range(n_control))
        p = sum(rng.random() < program_rate for _ in range(n_program))
        intervals.append(newcombe_difference(p, n_program, c, n_control))
    return intervals


def test_the_repeat_rate_interval_holds_a_true_three_point_effect_about_95_in_100():
    # A 10 % holdout of 3,000 customers: 300 against 2,700, 20 % against 23 %.
    intervals = _rate_runs(random.Random(16), 0.20, 0.23, 300, 2_700)
    coverage = sum(i.low <= 0.03 <= i.high for i in intervals) / RUNS
    assert 0.93 <= coverage <= 0.97


def test_with_no_effect_the_rate_interval_declares_one_at_most_5_in_100():
    intervals = _rate_runs(random.Random(17), 0.20, 0.20, 300, 2_700)
    assert sum(i.excludes_zero for i in intervals) / RUNS <= 0.05 + 0.015


def test_the_revenue_interval_holds_the_truth_with_skewed_spending():
    # Revenue per customer: most spend nothing more, a few a lot (log-normal amounts).
    rng = random.Random(18)

    def spend(buy_rate: float) -> float:
        return rng.lognormvariate(3.5, 1.0) if rng.random() < buy_rate else 0.0

    mean_amount = 2.718281828 ** (3.5 + 0.5)
    truth = (0.30 - 0.25) * mean_amount
    held = 0
    runs = 400
    for _ in range(runs):
        control = [spend(0.25) for _ in range(200)]
        program = [spend(0.30) for _ in range(800)]
        interval = welch(Summary.of(program), Summary.of(control)).interval
        held += interval.low <= truth <= interval.high
    assert 0.93 <= held / runs <= 0.97


def test_a_fixed_horizon_read_once_keeps_false_results_at_5_in_100_however_often_one_looks():
    # The A/B page shows nothing before the horizon: ten looks a test, only the last can speak.
    rng = random.Random(19)
    n = sample_size_for_rates(0.2, 0.05, ratio=1).control
    false_results = 0
    for _ in range(RUNS):
        a = [rng.random() < 0.2 for _ in range(n)]
        b = [rng.random() < 0.2 for _ in range(n)]
        verdicts = []
        for look in range(1, 11):
            members = n * look // 10
            at_horizon = members >= n
            if at_horizon:
                verdicts.append(newcombe_difference(sum(b[:members]), members,
                                                    sum(a[:members]), members).excludes_zero)
        false_results += any(verdicts)
    assert false_results / RUNS <= 0.05 + 0.015
