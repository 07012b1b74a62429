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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from cxloop.analytics import events as store
from cxloop.analytics import stats

EVENT = "Survey Responded"
NONE = "(none)"  # the group of responses without a value for the field
TRAIT = "trait."
FIELDS = {  # `by` and filter fields -> property of the event
    "survey": "survey_id",
    "touchpoint": "touchpoint",
    "stage": "stage",
    "channel": "channel",
    "language": "language",
}
# `by` fields whose values the caller gives per response (``labels``: the stored analyses of
# the responses' free-text answers); a response is in each theme it mentions
TEXT_FIELDS = ("sentiment", "theme")
QUESTION_ID = re.compile(r"[A-Za-z0-9_\-]{1,100}")
DEFAULT_MIN_N = 30


class Metric(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


SCALE = {Metric.NPS: (0, 10), Metric.CSAT: (1, 5), Metric.CES: (1, 7)}


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, from Monday
    MONTH = "month"


class SpecError(ValueError):
    """A spec that cannot be measured; ``field`` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Filters:
    """Which responses count. Several values of one field mean any of them."""

    survey_ids: Sequence[str] = ()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    touchpoints: Sequence[str] = ()
    channels: Sequence[str] = ()
    languages: Sequence[str] = ()
    stages: Sequence[str] = ()
    complete_only: bool = False

    def __post_init__(self) -> None:
        for name, moment in (("from", self.since), ("to", self.until)):
            if moment is not None and moment.tzinfo is None:
                raise SpecError(name, "needs a time zone")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise SpecError("to", "must be later than from")


@dataclass(frozen=True)
class Spec:
    """One figure to measure: a metric, which responses, and how to break it down."""

    metric: Metric
    filters: Filters = field(default_factory=Filters)
    question_id: str | None = None  # score from answers.<id> instead of the metric's field
    by: str | None = None  # a key of FIELDS, TEXT_FIELDS, or "trait.<name>" (given by the caller)
    interval: Interval | None = None
    tz: str = "UTC"  # of the trend's buckets
    min_n: int = DEFAULT_MIN_N  # fewer answers than this: small_sample
    per_customer: bool = False  # only each customer's latest response to each survey

    def __post_init__(self) -> None:
        if self.by is not None and self.by not in FIELDS and self.by not in TEXT_FIELDS:
            name = self.by.removeprefix(TRAIT)
            if not self.by.startswith(TRAIT) or not 0 < len(name.strip()) <= 100:
                known = ", ".join([*FIELDS, *TEXT_FIELDS])
                raise SpecError("by", f"one of {known} or trait.<name>, not {self.by!r}")
        if self.question_id is not None and not QUESTION_ID.fullmatch(self.question_id):
            raise SpecError("question_id", "letters, digits, '_' and '-' only (up to 100)")
        if self.min_n < 1:
            raise SpecError("min_n", "must be at least 1")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise SpecError("tz", f"no time zone {self.tz!r} (an IANA name)") from None

    @property
    def trait(self) -> str | None:
        """The profile trait the breakdown is by, if any."""
        if self.by is not None and self.by.startswith(TRAIT):
            return self.by.removeprefix(TRAIT)
        return None

    @property
    def labelled(self) -> bool:
        """Whether the breakdown is by a value the caller gives per response."""
        return self.by in TEXT_FIELDS


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in time."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Sides:
    """The two samples of a comparison: two values of ``spec.by``, or two periods."""

    a: str | Period
    b: str | Period


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
    statement = _statement(spec, None, "histogram")
    overall: list[int] = [0] * (high - low + 1)
    groups: dict[str, list[int]] = {}
    periods: dict[date, list[int]] = {}
    # the total is summed from the groups, else the periods (each response is in one)
    total_from = "g" if spec.by is not None else "p" if spec.interval is not None else None
    for row in _run(files, merge_map, traits, statement, labels):
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
    statement = _statement(spec, sides, "sides")
    counts = {"a": [0] * (high - low + 1), "b": [0] * (high - low + 1)}
    for row in _run(files, merge_map, traits, statement):
        counts[row["g"]][row["score"] - low] = row["n"]
    a, b = Scores(low, tuple(counts["a"])), Scores(low, tuple(counts["b"]))
    figure = _figures(spec, low)
    return Comparison(figure(counts["a"]), figure(counts["b"]), _differences(spec, a, b))


def respondents(files: Sequence[str | Path], merge_map: Mapping[str, str], spec: Spec) -> list[str]:
    """The customers (survivor ids) with a response that counts for ``spec``."""
    statement = _statement(spec, None, "customers")
    return [row["customer_id"] for row in _run(files, merge_map, None, statement)]


def responses(files: Sequence[str | Path], merge_map: Mapping[str, str], spec: Spec) -> list[str]:
    """The ids of the responses that count for ``spec``."""
    statement = _statement(replace(spec, by=None, interval=None), None, "responses")
    return [row["response_id"] for row in _run(files, merge_map, None, statement)]


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


_Measure = tuple[str, str, Callable[[Scores], float], Callable[[Scores, Scores], stats.Test]]


def _differences(spec: Spec, a: Scores, b: Scores) -> list[Difference]:
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


# -- SQL ------------------------------------------------------------------------------------

_TRAITS_SCHEMA = pa.schema([("profile_id", pa.string()), ("value", pa.string())])
_LABELS_SCHEMA = pa.schema([("response_id", pa.string()), ("value", pa.string())])


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: dict[str, Any]
    merges: bool  # joins the merge map
    traits: bool  # joins the traits table
    labels: bool = False  # joins the labels table


def _statement(spec: Spec, sides: Sides | None, mode: str) -> _Statement:
    """The latest version of each response, filtered, then counted per score (``histogram``,
    ``sides``) or reduced to its customers (``customers``). Each event's JSON is parsed
    once, for the properties the spec uses only."""
    low, high = SCALE[spec.metric]
    periods = _periods(sides)
    paths, columns = _extraction(spec)
    params: dict[str, Any] = {"event": EVENT, "low": low, "high": high, "paths": paths}
    pre, inner, post = _conditions(spec, periods, params)
    group, period = _keys(spec, sides, periods, mode, params)
    merges = spec.per_customer or spec.trait is not None or mode == "customers"
    # a response without an id stands alone; versions with both times equal (sent in one
    # request) are taken in no set order: ordering by message id too costs a tenth more
    latest = (
        "row_number() OVER (PARTITION BY survey_id, customer_id ORDER BY ts DESC, ra DESC) = 1"
        if spec.per_customer
        else "response_id IS NULL OR row_number() OVER "
        "(PARTITION BY response_id ORDER BY ts DESC, ra DESC) = 1"
    )
    customer = ", coalesce(m.into_id, src.profile_id) AS customer_id" if merges else ""
    join_merges = " LEFT JOIN merge_map AS m ON m.from_id = src.profile_id" if merges else ""
    join_traits = " LEFT JOIN traits AS t ON t.profile_id = v.customer_id" if spec.trait else ""
    if spec.labelled:
        join_traits = " LEFT JOIN labels AS x ON x.response_id = v.response_id"
    # only fixed fragments are joined into the text; every value goes as a parameter
    sql = (
        "WITH src AS (SELECT json_extract_string(properties, $paths) AS j, timestamp AS ts, "  # noqa: S608
        "received_at AS ra, profile_id FROM read_parquet($files, "
        f"union_by_name = true) WHERE {' AND '.join(pre)}), "
        f"r AS (SELECT {', '.join(columns)}, ts, ra{customer} "
        f"FROM src{join_merges} WHERE {inner}), "
        f"l AS (SELECT * FROM r QUALIFY {latest}), "
        "v AS (SELECT *, TRY_CAST(score AS DOUBLE) AS s FROM l), "
        f"scored AS (SELECT s, {group} AS g, {period} AS p, v.response_id"
        f"{', v.customer_id' if merges else ''} "
        f"FROM v{join_traits} WHERE {' AND '.join(post)}) "
    )
    if mode == "customers":
        sql += "SELECT DISTINCT customer_id FROM scored"
    elif mode == "responses":
        sql += "SELECT DISTINCT response_id FROM scored WHERE response_id IS NOT NULL"
    elif mode == "sides":
        sql += (
            "SELECT g, CAST(s AS INTEGER) AS score, count(*) AS n FROM scored "
            "WHERE g IS NOT NULL GROUP BY g, s"
        )
    else:
        keys = [k for k, on in (("g", group != "NULL"), ("p", period != "NULL")) if on]
        # every response is in one group and one period: the total is the sum of either
        sets = ", ".join([f"({k}, s)" for k in keys] or ["(s)"])
        flags = ", ".join(
            f"grouping({k}) AS no_{k}, {k}" if k in keys else f"1 AS no_{k}, NULL AS {k}"
            for k in ("g", "p")
        )
        sql += (
            f"SELECT {flags}, CAST(s AS INTEGER) AS score, count(*) AS n FROM scored "  # noqa: S608
            f"GROUP BY GROUPING SETS ({sets})"
        )
    return _Statement(sql, params, merges, spec.trait is not None, spec.labelled)


def _periods(sides: Sides | None) -> tuple[Period, Period] | None:
    if sides is not None and isinstance(sides.a, Period) and isinstance(sides.b, Period):
        return sides.a, sides.b
    return None


def _extraction(spec: Spec) -> tuple[list[str], list[str]]:
    """JSON paths to extract and the columns they become: the response id, the score, and
    the fields the filters and the breakdown use."""
    flt = spec.filters
    by_field = FIELDS.get(spec.by or "")
    score = f'$.answers."{spec.question_id}"' if spec.question_id else f"$.{spec.metric.value}"
    paths, columns = ["$.response_id", score], ["j[1] AS response_id", "j[2] AS score"]
    wanted = {
        "survey_id": bool(flt.survey_ids) or by_field == "survey_id" or spec.per_customer,
        "touchpoint": bool(flt.touchpoints) or by_field == "touchpoint",
        "channel": bool(flt.channels) or by_field == "channel",
        "language": bool(flt.languages) or by_field == "language",
        "stage": bool(flt.stages) or by_field == "stage",
        "is_complete": flt.complete_only,
    }
    for name in (n for n, on in wanted.items() if on):
        paths.append(f"$.{name}")
        columns.append(f"j[{len(paths)}] AS {name}")
    return paths, columns


def _conditions(
    spec: Spec, periods: tuple[Period, Period] | None, params: dict[str, Any]
) -> tuple[list[str], str, list[str]]:
    """Conditions before the JSON is read, before dedupe, and after it (on the latest
    version): a response counts, is dated and is filtered as its latest version."""
    flt = spec.filters
    pre = ["type = 'track'", "event = $event"]
    since = min(periods[0].start, periods[1].start) if periods else flt.since
    if since is not None:  # an older version never outranks one inside the window
        pre.append("timestamp >= $since")
        params["since"] = since
    inner = "TRUE"
    if flt.survey_ids:  # a response belongs to one survey
        inner = "list_contains($surveys, survey_id)"
        params["surveys"] = list(flt.survey_ids)
    post = ["s BETWEEN $low AND $high AND s = floor(s)"]
    if flt.until is not None and not periods:
        post.append("ts < $until")
        params["until"] = flt.until
    for name, values in (
        ("touchpoint", flt.touchpoints),
        ("channel", flt.channels),
        ("language", flt.languages),
        ("stage", flt.stages),
    ):
        if values:
            post.append(f"list_contains(${name}s, {name})")
            params[f"{name}s"] = list(values)
    if flt.complete_only:
        post.append("is_complete = 'true'")
    return pre, inner, post


def _keys(
    spec: Spec,
    sides: Sides | None,
    periods: tuple[Period, Period] | None,
    mode: str,
    params: dict[str, Any],
) -> tuple[str, str]:
    """The group (``by``, or side ``a``/``b`` of a comparison) and period expressions."""
    group = "NULL"
    if spec.trait is not None:
        group = f"coalesce(t.value, '{NONE}')"
    elif spec.labelled:
        group = f"coalesce(x.value, '{NONE}')"
    elif spec.by is not None:
        group = f"coalesce(nullif({FIELDS[spec.by]}, ''), '{NONE}')"
    if periods is not None:
        group = (
            "CASE WHEN ts >= $a_start AND ts < $a_end THEN 'a' "
            "WHEN ts >= $b_start AND ts < $b_end THEN 'b' END"
        )
        params |= {
            "a_start": periods[0].start,
            "a_end": periods[0].end,
            "b_start": periods[1].start,
            "b_end": periods[1].end,
        }
    elif sides is not None:
        group = f"CASE {group} WHEN $a THEN 'a' WHEN $b THEN 'b' END"
        params |= {"a": sides.a, "b": sides.b}
    period = "NULL"
    if spec.interval is not None and mode == "histogram":
        period = "CAST(date_trunc($unit, timezone($tz, ts)) AS DATE)"
        params |= {"unit": spec.interval.value, "tz": spec.tz}
    return group, period


def _run(
    files: Sequence[str | Path],
    merge_map: Mapping[str, str],
    traits: pa.Table | None,
    statement: _Statement,
    labels: pa.Table | None = None,
) -> list[dict[str, Any]]:
    if not files:
        return []
    con = store.connect().cursor()
    try:
        if statement.merges:
            con.register(
                "merge_map",
                pa.table(
                    {
                        "from_id": pa.array(list(merge_map.keys()), pa.string()),
                        "into_id": pa.array(list(merge_map.values()), pa.string()),
                    }
                ),
            )
        if statement.traits:
            table = _TRAITS_SCHEMA.empty_table() if traits is None else traits
            con.register("traits", table.select(["profile_id", "value"]).cast(_TRAITS_SCHEMA))
        if statement.labels:
            table = _LABELS_SCHEMA.empty_table() if labels is None else labels
            con.register("labels", table.select(["response_id", "value"]).cast(_LABELS_SCHEMA))
        params = statement.params | {"files": [str(f) for f in files]}
        result: list[dict[str, Any]] = (
            con.sql(statement.sql, params=params).to_arrow_table().to_pylist()
        )
        return result
    finally:
        con.close()
