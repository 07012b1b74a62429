"""Interval estimates and tests for survey scores, in the standard library alone.

- NPS: adjusted-Wald interval (Rocks, "Interval Estimation for the Net Promoter Score",
  The American Statistician 70(4), 2016): add 3 to n and 3/4 to promoters and to
  detractors, then use the variance of a difference of multinomial proportions,
  ``(p_P + p_D - (p_P - p_D)^2) / n``. Its coverage stays near 95% at small n, where the
  plain Wald interval is too narrow (and of zero width when every answer is a 10); at large
  n the two agree.
- Proportions (CSAT top-2-box, CES "easy"): Wilson score interval; the difference of two
  proportions is tested with the pooled two-proportion z test and bounded with Newcombe's
  hybrid score interval (built from the two Wilson intervals).
- Means: Student's t interval; two means are compared with Welch's t test.

Student's t comes from the regularised incomplete beta function (a continued fraction), so
no numerical library is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
_NORMAL = NormalDist()
Z = _NORMAL.inv_cdf(1 - ALPHA / 2)  # 1.959963...

# pseudo-observations of the adjusted-Wald NPS interval (Rocks 2016)
NPS_ADD_N = 3.0
NPS_ADD_EACH = 0.75


@dataclass(frozen=True)
class Test:
    """A difference ``b - a`` between two independent samples, its interval and test."""

    difference: float
    ci_low: float
    ci_high: float
    statistic: float | None
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


# -- Student's t ----------------------------------------------------------------------------


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return result


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on the distribution function)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be between 0 and 1")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    tail = 2.0 * (1.0 - p)  # two-sided tail the quantile leaves
    low, high = 0.0, max(_NORMAL.inv_cdf(p), 1.0)
    while t_two_sided_p(high, df) > tail:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_two_sided_p(middle, df) > tail:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * high:
            break
    return (low + high) / 2.0


def normal_two_sided_p(z: float) -> float:
    return 2.0 * (1.0 - _NORMAL.cdf(abs(z)))


# -- one sample -----------------------------------------------------------------------------


def nps_variance(promoters: float, detractors: float, n: float) -> float:
    """Variance of the net score ``p_P - p_D`` (on the -1..1 scale) of ``n`` answers."""
    p, d = promoters / n, detractors / n
    return max(p + d - (p - d) ** 2, 0.0) / n


def nps_interval(
    promoters: int, detractors: int, n: int, *, adjusted: bool = True
) -> tuple[float, float]:
    """95% interval of the NPS on the -100..100 scale (adjusted Wald unless told otherwise)."""
    add_n, add_each = (NPS_ADD_N, NPS_ADD_EACH) if adjusted else (0.0, 0.0)
    size = n + add_n
    p, d = promoters + add_each, detractors + add_each
    centre = (p - d) / size
    half = Z * math.sqrt(nps_variance(p, d, size))
    return _clip(100 * (centre - half), -100, 100), _clip(100 * (centre + half), -100, 100)


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson score interval of a proportion, on the 0..1 scale."""
    p = successes / n
    z2 = Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


def mean_interval(n: int, mean: float, variance: float) -> tuple[float, float] | None:
    """Student's t interval of a mean; None below two answers (no spread to go by)."""
    if n < 2:
        return None
    half = t_quantile(1 - ALPHA / 2, n - 1) * math.sqrt(variance / n)
    return mean - half, mean + half


# -- two samples (difference b - a) ---------------------------------------------------------


def nps_test(a: tuple[int, int, int], b: tuple[int, int, int]) -> Test:
    """Two-sample z test of NPS b - NPS a; each side is (promoters, detractors, n).

    The standard error uses the adjusted-Wald variances, which stay above zero when a side
    is all promoters; the difference and its interval are on the -200..200 scale.
    """
    diff = 100 * ((b[0] - b[1]) / b[2] - (a[0] - a[1]) / a[2])
    se = 100 * math.sqrt(
        sum(nps_variance(p + NPS_ADD_EACH, d + NPS_ADD_EACH, n + NPS_ADD_N) for p, d, n in (a, b))
    )
    z = diff / se
    return Test(
        difference=diff,
        ci_low=_clip(diff - Z * se, -200, 200),
        ci_high=_clip(diff + Z * se, -200, 200),
        statistic=z,
        p_value=normal_two_sided_p(z),
    )


def proportion_test(a: tuple[int, int], b: tuple[int, int]) -> Test:
    """Two-proportion z test of b - a (pooled), with Newcombe's hybrid score interval;
    each side is (successes, n); the difference is on the 0..1 scale."""
    (ka, na), (kb, nb) = a, b
    pa, pb = ka / na, kb / nb
    diff = pb - pa
    pooled = (ka + kb) / (na + nb)
    se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    la, ua = wilson(ka, na)
    lb, ub = wilson(kb, nb)
    if se == 0:
        z, p_value = None, 1.0  # both sides all yes or all no: nothing differs
    else:
        z = diff / se
        p_value = normal_two_sided_p(z)
    return Test(
        difference=diff,
        ci_low=diff - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2),
        ci_high=diff + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2),
        statistic=z,
        p_value=p_value,
    )


def welch_test(a: tuple[int, float, float], b: tuple[int, float, float]) -> Test:
    """Welch's t test of mean b - mean a; each side is (n, mean, variance); n >= 2."""
    (na, ma, va), (nb, mb, vb) = a, b
    diff = mb - ma
    sa, sb = va / na, vb / nb
    se = math.sqrt(sa + sb)
    if se == 0:  # both sides gave one score each: equal or surely different
        same = diff == 0
        return Test(diff, diff, diff, None, 1.0 if same else 0.0)
    df = (sa + sb) ** 2 / (sa**2 / (na - 1) + sb**2 / (nb - 1))
    t = diff / se
    half = t_quantile(1 - ALPHA / 2, df) * se
    return Test(
        difference=diff,
        ci_low=diff - half,
        ci_high=diff + half,
        statistic=t,
        p_value=t_two_sided_p(t, df),
    )


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
