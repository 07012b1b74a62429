"""NPS, CSAT and CES over the event store's ``Survey Responded`` events.

Each survey response is a track event whose ``properties`` hold the survey, the touchpoint,
stage, channel and language, the answers, and the ``nps`` / ``csat`` / ``ces`` scores. A
response sent again (edited, completed later) keeps its ``response_id``: only its latest
version counts (latest ``timestamp``, then ``received_at``), and it counts at that version's
time. A response is dated, filtered and grouped by its latest version.

One DuckDB statement per figure: the JSON of each event is parsed once (only the fields the
spec needs), duplicates are dropped with a window, and scores are counted per score value
for the whole, each group and each period (``GROUPING SETS``). Everything else (rates,
means, intervals, tests) is computed in Python from those few counts; see
:mod:`cxloop.analytics.stats` for the formulas.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

from cxloop.analytics.feedback.figures import (
    Bucket,
    CesFigure,
    Comparison,
    CsatFigure,
    Difference,
    Figure,
    Group,
    Measurement,
    NpsFigure,
    Scores,
    differences,
    summarize,
)
from cxloop.analytics.feedback.spec import (
    DEFAULT_MIN_N,
    EVENT,
    FIELDS,
    NONE,
    SCALE,
    TEXT_FIELDS,
    Filters,
    Interval,
    Metric,
    Period,
    Sides,
    Spec,
    SpecError,
)
from cxloop.analytics.feedback.sql import run_statement, statement_for

__all__ = [
    "DEFAULT_MIN_N",
    "EVENT",
    "FIELDS",
    "NONE",
    "TEXT_FIELDS",
    "Bucket",
    "CesFigure",
    "Comparison",
    "CsatFigure",
    "Difference",
    "Figure",
    "Filters",
    "Group",
    "Interval",
    "Measurement",
    "Metric",
    "NpsFigure",
    "Period",
    "Scores",
    "Sides",
    "Spec",
    "SpecError",
    "compare",
    "measure",
    "respondents",
    "responses",
    "summarize",
]

# -- queries --------------------------------------------------------------------------------


def measure(
    files: Sequence[str | Path],
    merge_map: Mapping[str, str],
    spec: Spec,
    traits: pa.Table | None = None,
    labels: pa.Table | None = None,
) -> Measurement:
    """The figure of ``spec`` overall, per group of ``spec.by`` and per ``spec.interval``.

    ``traits`` (``profile_id``, ``value``: strings) gives the trait of a ``trait.<name>``
    breakdown for each customer (survivor id); a customer missing from it is ``(none)``.
    ``labels`` (``response_id``, ``value``) gives the sentiment or themes of a ``sentiment``
    or ``theme`` breakdown for each response; a response missing from it is ``(none)``.
    """
    if spec.by == "theme":  # a response may be in several groups: count the whole apart
        whole = measure(files, merge_map, replace(spec, by=None))
        grouped = _histogram(files, merge_map, replace(spec, interval=None), traits, labels)
        return replace(whole, groups=grouped.groups)
    return _histogram(files, merge_map, spec, traits, labels)


def _histogram(
    files: Sequence[str | Path],
    merge_map: Mapping[str, str],
    spec: Spec,
    traits: pa.Table | None,
    labels: pa.Table | None,
) -> Measurement:
    low, high = SCALE[spec.metric]
    statement = statement_for(spec, None, "histogram")
    overall: list[int] = [0] * (high - low + 1)
    groups: dict[str, list[int]] = {}
    periods: dict[date, list[int]] = {}
    # the total is summed from the groups, else the periods (each response is in one)
    total_from = "g" if spec.by is not None else "p" if spec.interval is not None else None
    for row in run_statement(files, merge_map, traits, statement, labels):
        score, n = row["score"] - low, row["n"]
        if not row["no_g"]:
            groups.setdefault(row["g"], [0] * len(overall))[score] = n
        elif not row["no_p"]:
            periods.setdefault(row["p"], [0] * len(overall))[score] = n
        if total_from is None or not row[f"no_{total_from}"]:
            overall[score] += n
    figure = _figures(spec, low)
    ordered = sorted(groups.items(), key=lambda item: (-sum(item[1]), item[0]))
    return Measurement(
        overall=figure(overall),
        groups=[Group(key, figure(counts)) for key, counts in ordered],
        trend=[
            Bucket(day, figure(periods.get(day, [0] * len(overall))))
            for day in _buckets(sorted(periods), spec.interval)
        ],
    )


def compare(
    files: Sequence[str | Path],
    merge_map: Mapping[str, str],
    spec: Spec,
    sides: Sides,
    traits: pa.Table | None = None,
) -> Comparison:
    """Two independent samples of ``spec`` side by side, and whether they differ."""
    low, high = SCALE[spec.metric]
    statement = statement_for(spec, sides, "sides")
    counts = {"a": [0] * (high - low + 1), "b": [0] * (high - low + 1)}
    for row in run_statement(files, merge_map, traits, statement):
        counts[row["g"]][row["score"] - low] = row["n"]
    a, b = Scores(low, tuple(counts["a"])), Scores(low, tuple(counts["b"]))
    figure = _figures(spec, low)
    return Comparison(figure(counts["a"]), figure(counts["b"]), differences(spec, a, b))


def respondents(files: Sequence[str | Path], merge_map: Mapping[str, str], spec: Spec) -> list[str]:
    """The customers (survivor ids) with a response that counts for ``spec``."""
    statement = statement_for(spec, None, "customers")
    return [row["customer_id"] for row in run_statement(files, merge_map, None, statement)]


def responses(files: Sequence[str | Path], merge_map: Mapping[str, str], spec: Spec) -> list[str]:
    """The ids of the responses that count for ``spec``."""
    statement = statement_for(replace(spec, by=None, interval=None), None, "responses")
    return [row["response_id"] for row in run_statement(files, merge_map, None, statement)]


def _figures(spec: Spec, low: int) -> Callable[[Sequence[int]], Figure]:
    def figure(counts: Sequence[int]) -> Figure:
        return summarize(spec.metric, Scores(low, tuple(counts)), spec.min_n)

    return figure


def _buckets(present: list[date], interval: Interval | None) -> list[date]:
    """Every bucket from the first to the last present one, gaps included."""
    if not present or interval is None:
        return []
    out, day = [], present[0]
    while day <= present[-1]:
        out.append(day)
        if interval is Interval.DAY:
            day += timedelta(days=1)
        elif interval is Interval.WEEK:
            day += timedelta(days=7)
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out
