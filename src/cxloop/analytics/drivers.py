"""Driver analysis of NPS: which themes and touchpoints go with a higher or lower score.

Each driver splits the responses in two: those mentioning a theme against the other
responses whose text was analysed, or those at a touchpoint against those at any other. The
effect is NPS(with) - NPS(without) on the -200..200 scale, with the two-sample z test of
:func:`cxloop.analytics.stats.nps_test` (adjusted-Wald variances). It is an association,
not a cause: a theme mentioned by unhappy customers may be a symptom rather than a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cxloop.analytics import stats
from cxloop.analytics.feedback import NONE, Figure, Group, NpsFigure

THEME = "theme"
TOUCHPOINT = "touchpoint"
_DASH = "\N{EN DASH}"


@dataclass(frozen=True)
class Side:
    promoters: int
    detractors: int
    n: int

    @property
    def nps(self) -> float | None:
        return 100 * (self.promoters - self.detractors) / self.n if self.n else None

    def __add__(self, other: Side) -> Side:
        return Side(
            self.promoters + other.promoters, self.detractors + other.detractors, self.n + other.n
        )

    def __sub__(self, other: Side) -> Side:
        return Side(
            self.promoters - other.promoters, self.detractors - other.detractors, self.n - other.n
        )


@dataclass(frozen=True)
class Driver:
    kind: str  # theme or touchpoint
    key: str
    effect: float  # NPS(with) - NPS(without), points
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool
    nps_with: float | None
    nps_without: float | None
    n_with: int
    n_without: int
    small_sample: bool  # a side has fewer than min_n answers
    sentence: str


def side(figure: Figure) -> Side:
    if not isinstance(figure, NpsFigure):
        raise TypeError("drivers are of NPS figures")
    return Side(figure.promoters, figure.detractors, figure.n)


def drivers(
    themes: Sequence[Group],
    analysed: Side,
    touchpoints: Sequence[Group],
    everyone: Side,
    min_n: int = 30,
) -> list[Driver]:
    """Every theme and touchpoint with both sides answered, the largest effect first.

    ``themes`` are the NPS groups by theme (a response in each theme it mentions),
    ``analysed`` the responses with an analysed text; ``touchpoints`` the groups by
    touchpoint and ``everyone`` all responses. ``(none)`` groups are no driver.
    """
    found = [
        *_split(THEME, themes, analysed, min_n),
        *_split(TOUCHPOINT, touchpoints, everyone, min_n),
    ]
    return sorted(found, key=lambda d: (-abs(d.effect), d.kind, d.key))


def _split(kind: str, groups: Sequence[Group], base: Side, min_n: int) -> list[Driver]:
    out = []
    for group in groups:
        if group.key == NONE or not isinstance(group.figure, NpsFigure):
            continue
        with_ = side(group.figure)
        without = base - with_
        if with_.n < 2 or without.n < 2:  # no spread to test on one side
            continue
        test = stats.nps_test(
            (without.promoters, without.detractors, without.n),
            (with_.promoters, with_.detractors, with_.n),
        )
        small = min(with_.n, without.n) < min_n
        out.append(
            Driver(
                kind=kind,
                key=group.key,
                effect=test.difference,
                ci_low=test.ci_low,
                ci_high=test.ci_high,
                p_value=test.p_value,
                significant=test.significant,
                nps_with=with_.nps,
                nps_without=without.nps,
                n_with=with_.n,
                n_without=without.n,
                small_sample=small,
                sentence=sentence(kind, group.key, test, with_.n, small),
            )
        )
    return out


def sentence(kind: str, key: str, test: stats.Test, n: int, small: bool) -> str:
    """The driver in words: 'Responses mentioning delivery have NPS 38 points lower (95% CI
    25-51, n=120)' (with an en dash)."""
    who = f"Responses mentioning {key}" if kind == THEME else f"Responses at {key}"
    effect = round(test.difference)
    low, high = test.ci_low, test.ci_high
    if effect < 0:
        direction, low, high = "lower", -high, -low
    elif effect > 0:
        direction = "higher"
    else:
        return f"{who} have about the same NPS as the others (n={n})"
    ends = f"{low:.0f}{_DASH}{high:.0f}" if round(low) >= 0 else f"{low:.0f} to {high:.0f}"
    note = "; small sample" if small else ""
    return f"{who} have NPS {abs(effect)} points {direction} (95% CI {ends}, n={n}{note})"
