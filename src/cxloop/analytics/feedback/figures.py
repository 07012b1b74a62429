"""Figures, intervals and tests computed from score counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from cxloop.analytics import stats
from cxloop.analytics.feedback.spec import DEFAULT_MIN_N, Metric, Spec

# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """How many answers gave each score of the metric's scale."""

    low: int
    counts: tuple[int, ...]

    @property
    def n(self) -> int:
        return sum(self.counts)

    def between(self, low: int, high: int) -> int:
        return sum(self.counts[low - self.low : high - self.low + 1])

    def mean(self) -> float:
        return sum((self.low + i) * c for i, c in enumerate(self.counts)) / self.n

    def variance(self) -> float:
        """Sample variance (n - 1); exact, from the counts."""
        mean = self.mean()
        squares = sum(c * (self.low + i - mean) ** 2 for i, c in enumerate(self.counts))
        return squares / (self.n - 1) if self.n > 1 else 0.0

    def distribution(self) -> dict[str, int]:
        return {str(self.low + i): c for i, c in enumerate(self.counts)}


@dataclass(frozen=True)
class NpsFigure:
    nps: float | None  # % promoters - % detractors, -100..100
    ci_low: float | None
    ci_high: float | None
    n: int
    promoters: int  # 9-10
    passives: int  # 7-8
    detractors: int  # 0-6
    small_sample: bool
    distribution: dict[str, int]


@dataclass(frozen=True)
class CsatFigure:
    csat: float | None  # % of answers 4-5 (top-2-box)
    ci_low: float | None
    ci_high: float | None
    mean: float | None  # 1-5
    mean_ci_low: float | None
    mean_ci_high: float | None
    n: int
    satisfied: int  # answers 4-5
    small_sample: bool
    distribution: dict[str, int]


@dataclass(frozen=True)
class CesFigure:
    ces: float | None  # mean, 1-7
    ci_low: float | None
    ci_high: float | None
    easy_pct: float | None  # % of answers 5-7
    easy_ci_low: float | None
    easy_ci_high: float | None
    n: int
    easy: int  # answers 5-7
    small_sample: bool
    distribution: dict[str, int]


Figure = NpsFigure | CsatFigure | CesFigure


@dataclass(frozen=True)
class Group:
    key: str
    figure: Figure


@dataclass(frozen=True)
class Bucket:
    period: date  # first day of the bucket, in the spec's time zone
    figure: Figure


@dataclass(frozen=True)
class Measurement:
    overall: Figure
    groups: list[Group]  # largest first; empty without ``by``
    trend: list[Bucket]  # oldest first, empty buckets included; empty without ``interval``


@dataclass(frozen=True)
class Difference:
    """b - a for one measure; ``refused`` (not an error) when a side is too small."""

    measure: str
    test: str
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    statistic: float | None
    p_value: float | None
    significant: bool | None
    refused: bool
    reason: str | None


@dataclass(frozen=True)
class Comparison:
    a: Figure
    b: Figure
    differences: list[Difference]  # the metric's headline measure first


# -- figures from counts --------------------------------------------------------------------


def summarize(metric: Metric, scores: Scores, min_n: int = DEFAULT_MIN_N) -> Figure:
    """The figure of ``metric`` from the count of each score; nulls when nobody answered."""
    n = scores.n
    small = n < min_n
    dist = scores.distribution()
    if metric is Metric.NPS:
        promoters, passives, detractors = (
            scores.between(9, 10),
            scores.between(7, 8),
            scores.between(0, 6),
        )
        low = high = nps = None
        if n:
            nps = 100 * (promoters - detractors) / n
            low, high = stats.nps_interval(promoters, detractors, n)
        return NpsFigure(nps, low, high, n, promoters, passives, detractors, small, dist)
    if metric is Metric.CSAT:
        satisfied = scores.between(4, 5)
        low, high = _wilson(satisfied, n)
        return CsatFigure(
            _rate(satisfied, n), low, high, *_mean(scores, 1, 5), n, satisfied, small, dist
        )
    easy = scores.between(5, 7)
    return CesFigure(*_mean(scores, 1, 7), _rate(easy, n), *_wilson(easy, n), n, easy, small, dist)


def _mean(scores: Scores, low: int, high: int) -> tuple[float | None, float | None, float | None]:
    """Mean and its t interval, kept within the scale."""
    if not scores.n:
        return None, None, None
    mean = scores.mean()
    interval = stats.mean_interval(scores.n, mean, scores.variance())
    if interval is None:
        return mean, None, None
    return mean, max(interval[0], low), min(interval[1], high)


def _rate(k: int, n: int) -> float | None:
    return 100 * k / n if n else None


def _wilson(k: int, n: int) -> tuple[float | None, float | None]:
    if not n:
        return None, None
    low, high = stats.wilson(k, n)
    return 100 * low, 100 * high


_Measure = tuple[str, str, Callable[[Scores], float], Callable[[Scores, Scores], stats.Test]]


def differences(spec: Spec, a: Scores, b: Scores) -> list[Difference]:
    tests: list[_Measure]
    if spec.metric is Metric.NPS:
        tests = [("nps", "two-sample z (adjusted-Wald variances)", _nps_value, _nps_test)]
    elif spec.metric is Metric.CSAT:
        tests = [
            ("csat", "two-proportion z", _share(4, 5), _share_test(4, 5)),
            ("mean", "Welch t", Scores.mean, _mean_test),
        ]
    else:
        tests = [
            ("ces", "Welch t", Scores.mean, _mean_test),
            ("easy_pct", "two-proportion z", _share(5, 7), _share_test(5, 7)),
        ]
    return [_difference(spec, *test, a, b) for test in tests]


def _difference(
    spec: Spec,
    measure: str,
    test: str,
    value: Callable[[Scores], float],
    run: Callable[[Scores, Scores], stats.Test],
    a: Scores,
    b: Scores,
) -> Difference:
    needed = max(spec.min_n, 2)  # a test needs some spread on each side
    small = [f"{side} has {s.n}" for side, s in (("a", a), ("b", b)) if s.n < needed]
    if small:
        raw = value(b) - value(a) if a.n and b.n else None
        reason = f"{' and '.join(small)} answers; each side needs at least {needed}"
        return Difference(measure, test, raw, None, None, None, None, None, True, reason)
    result = run(a, b)
    return Difference(
        measure,
        test,
        result.difference,
        result.ci_low,
        result.ci_high,
        result.statistic,
        result.p_value,
        result.significant,
        False,
        None,
    )


def _nps_value(scores: Scores) -> float:
    return 100 * (scores.between(9, 10) - scores.between(0, 6)) / scores.n


def _share(low: int, high: int) -> Callable[[Scores], float]:
    return lambda scores: 100 * scores.between(low, high) / scores.n


def _nps_test(a: Scores, b: Scores) -> stats.Test:
    return stats.nps_test(
        (a.between(9, 10), a.between(0, 6), a.n), (b.between(9, 10), b.between(0, 6), b.n)
    )


def _share_test(low: int, high: int) -> Callable[[Scores, Scores], stats.Test]:
    def run(a: Scores, b: Scores) -> stats.Test:
        result = stats.proportion_test((a.between(low, high), a.n), (b.between(low, high), b.n))
        return stats.Test(  # in percentage points, like the figures
            100 * result.difference,
            100 * result.ci_low,
            100 * result.ci_high,
            result.statistic,
            result.p_value,
        )

    return run


def _mean_test(a: Scores, b: Scores) -> stats.Test:
    return stats.welch_test((a.n, a.mean(), a.variance()), (b.n, b.mean(), b.variance()))
