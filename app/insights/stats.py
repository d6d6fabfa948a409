"""The statistics of the effect page: intervals for rates and means, and the sample a
comparison needs.

- Rates: Wilson's score interval for one proportion and Newcombe's hybrid score interval
  (his method 10) for the difference of two, which stay inside [-1, 1] and keep their coverage
  with small counts and rates near 0 or 1, where the textbook normal interval does not
  (R. G. Newcombe, Statistics in Medicine 17 (1998) 873-890).
- Means: Welch's interval with the Welch-Satterthwaite degrees of freedom, for groups of
  different sizes and spreads (a 10 % holdout against 90 %); the t quantile is scipy's.
- Sample size: two proportions with unequal groups at a two-sided level and a power
  (Fleiss, Levin and Paik, Statistical Methods for Rates and Proportions, 3rd ed., 4.14).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

CONFIDENCE = 0.95
POWER = 0.80


def _z(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level (1.959964 for 95 %)."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        """Whether the whole interval lies on one side of zero."""
        return self.low > 0 or self.high < 0


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson's score interval for successes out of n (n > 0)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError("need 0 <= successes <= n and n > 0")
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At 0 and n the bound is exactly 0 or 1; computed, it carries rounding.
    low = 0.0 if successes == 0 else centre - half
    high = 1.0 if successes == n else centre + half
    return Interval(p, low, high)


def newcombe_difference(successes_a: int, n_a: int, successes_b: int, n_b: int,
                        confidence: float = CONFIDENCE) -> Interval:
    """The difference of two rates, a minus b, with Newcombe's hybrid score interval."""
    a, b = wilson(successes_a, n_a, confidence), wilson(successes_b, n_b, confidence)
    difference = a.estimate - b.estimate
    below = math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    above = math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(difference, difference - below, difference + above)


@dataclass(frozen=True)
class Summary:
    """The count, mean and sample variance of some values."""

    n: int
    mean: float
    variance: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        """Summarise values (the variance with n - 1; 0 for fewer than two values)."""
        n = len(values)
        if n == 0:
            return cls(0, 0.0, 0.0)
        mean = math.fsum(values) / n
        variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
        return cls(n, mean, variance)

    @classmethod
    def of_sums(cls, n: int, total: Decimal, squares: Decimal) -> Summary:
        """Summarise n values from their sum and their sum of squares:
        var = (Σx² - n·mean²) / (n - 1), in decimals, so no float cancellation."""
        if n == 0:
            return cls(0, 0.0, 0.0)
        mean = total / n
        variance = max((squares - total * mean) / (n - 1), Decimal(0)) if n > 1 else Decimal(0)
        return cls(n, float(mean), float(variance))


@dataclass(frozen=True)
class WelchResult:
    """Welch's comparison of two means, a minus b."""

    interval: Interval
    t: float
    df: float
    p_value: float


def welch(a: Summary, b: Summary, confidence: float = CONFIDENCE) -> WelchResult:
    """Welch's t interval for the difference of two means; each group needs two values."""
    from scipy.stats import t as student_t

    if a.n < 2 or b.n < 2:
        raise ValueError("each group needs at least two values")
    va, vb = a.variance / a.n, b.variance / b.n
    difference = a.mean - b.mean
    se = math.sqrt(va + vb)
    if se == 0:
        return WelchResult(Interval(difference, difference, difference),
                           math.inf if difference else 0.0, float(a.n + b.n - 2),
                           0.0 if difference else 1.0)
    df = (va + vb) ** 2 / (va * va / (a.n - 1) + vb * vb / (b.n - 1))
    quantile = float(student_t.ppf(1 - (1 - confidence) / 2, df))
    t = difference / se
    p_value = float(2 * student_t.sf(abs(t), df))
    return WelchResult(Interval(difference, difference - quantile * se,
                                difference + quantile * se), t, df, p_value)


@dataclass(frozen=True)
class SampleSize:
    """Customers each group needs for a comparison of rates to detect an effect."""

    control: int
    program: int

    @property
    def total(self) -> int:
        """Both groups together."""
        return self.control + self.program


def sample_size_for_rates(baseline: float, effect: float, ratio: float,
                          confidence: float = CONFIDENCE, power: float = POWER) -> SampleSize:
    """The control and program sizes that detect a change of `effect` (absolute, e.g. 0.03)
    from a `baseline` rate with a two-sided test at `confidence` and `power`, when the
    program group is `ratio` times the control group."""
    if not 0 < effect < 1 or ratio <= 0:
        raise ValueError("the effect must be within (0, 1) and the ratio positive")
    p1 = min(max(baseline, 0.0), 1.0)
    p2 = p1 + effect
    if p2 > 1:
        p1, p2 = 1 - effect, 1.0
    p_bar = (p1 + ratio * p2) / (1 + ratio)
    z_a, z_b = _z(confidence), NormalDist().inv_cdf(power)
    root = (z_a * math.sqrt(p_bar * (1 - p_bar) * (1 + 1 / ratio))
            + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio))
    control = math.ceil(root * root / (effect * effect))
    return SampleSize(control, math.ceil(control * ratio))
