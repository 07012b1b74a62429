"""KPI formulas: ratios of measures, each measure a figure one query computes per period.

A measure is named ``kind[:role[:property]]``:

- ``active``: customers with any action (a track, page or screen call, but no passive event
  such as an email delivered: :data:`cxloop.analytics.portable.PASSIVE_EVENTS`);
- ``events:R`` / ``customers:R``: events of role R, customers with one;
- ``sum:R:P`` / ``avg:R:P``: a numeric property of R's events (``revenue`` falls back to
  ``total`` and ``value``); ``both:R:S``: customers with events of both roles;
- ``new:R``: customers whose first event of R *ever* falls in the period; ``known``:
  customers seen before the end of the period; ``ttf:R``: median seconds from a customer's
  first action to their first R, over customers whose first R falls in the period;
- ``dau`` (mean daily active customers), ``wau`` / ``mau`` (active in the 7 / 30 days
  before the period's end), ``churn`` (see :mod:`cxloop.analytics.retention`),
  ``retention`` (1 - churn), ``spend`` (imported marketing spend).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SIMPLE = ("events", "customers", "sum", "avg", "both", "active")
FIRSTS = ("new", "known", "ttf")
ACTIVITY = ("dau", "wau", "mau")
OTHER = ("churn", "retention", "spend")


@dataclass(frozen=True)
class Ratio:
    """``scale * num / den`` (``1 - that`` with ``complement``); None when ``den`` is 0."""

    num: Formula
    den: Formula
    scale: float = 1.0
    complement: bool = False

    def measures(self) -> set[str]:
        return measures_of(self.num) | measures_of(self.den)

    def value(self, figures: Mapping[str, float | None]) -> float | None:
        num, den = evaluate(self.num, figures), evaluate(self.den, figures)
        if num is None or den is None or den == 0:
            return None
        result = self.scale * num / den
        return 1.0 - result if self.complement else result


Formula = str | Ratio


def measures_of(formula: Formula) -> set[str]:
    return {formula} if isinstance(formula, str) else formula.measures()


def evaluate(formula: Formula, figures: Mapping[str, float | None]) -> float | None:
    if isinstance(formula, str):
        return figures.get(formula)
    return formula.value(figures)


def kind(measure: str) -> str:
    return measure.split(":", 1)[0]


def roles_of(measures: set[str]) -> set[str]:
    found = set()
    for measure in measures:
        parts = measure.split(":")
        if parts[0] == "both":
            found.update(parts[1:3])
        elif len(parts) > 1:
            found.add(parts[1])
    return found
