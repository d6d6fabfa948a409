"""Chart axes count in round steps: 0, 50, 100, 150, never 0, 1.2k, 2.5k, 3.8k."""

from __future__ import annotations

import pytest

from app.web.admin.charts import nice_ticks


@pytest.mark.parametrize(("peak", "ticks"), [
    (150, [0, 50, 100, 150]),
    (4800, [0, 2000, 4000, 6000]),
    (5000, [0, 2000, 4000, 6000]),
    (3, [0, 1, 2, 3]),
    (7, [0, 2, 4, 6, 8]),
    (101, [0, 50, 100, 150]),
    (0.4, [0, 1]),
    (0, [0, 1]),
    (1_234_567, [0, 500_000, 1_000_000, 1_500_000]),
])
def test_axis_ticks_are_round_steps_from_zero_past_the_peak(peak: float,
                                                            ticks: list[int]) -> None:
    assert nice_ticks(peak) == ticks


@pytest.mark.parametrize("peak", [1, 9, 11, 99, 250, 999, 1001, 12_345, 98_765, 10**7 + 1])
def test_every_axis_has_at_most_four_steps_of_one_two_or_five_and_reaches_the_peak(
        peak: int) -> None:
    ticks = nice_ticks(peak)
    step = ticks[1]
    assert ticks[0] == 0 and ticks[-1] >= peak and 2 <= len(ticks) <= 5
    assert all(b - a == step for a, b in zip(ticks, ticks[1:], strict=False))
    assert int(str(step)[0]) in (1, 2, 5) and set(str(step)[1:]) <= {"0"}
