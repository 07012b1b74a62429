"""Retention cohorts and churn over the event files.

**Cohorts.** A customer belongs to the week (Monday-based, UTC) or month of their first
qualifying event: their first action ever (``cohort=None``) or their first event matching a
:class:`Matcher` ("first purchase"). The whole history before the cohort range is read, so
"first" means first ever, not first in the range. A customer is *retained in period k* when
they have a returning event (any action, or one matching ``returning``) at or after their
cohort event, k periods after their cohort period. Cells of periods that start after
``until`` are not observed yet and come back as None.

**Churn.** A customer is *active at* a moment p when they had a qualifying event in the
``inactive_days`` days before p (whole UTC days), and *churned at* p when they were active
before but not in those days. The churn rate of an interval [a, b) is the share of the
customers active at a who are not active at b.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from cxloop.analytics.portable import (
    US_PER_DAY,
    Engine,
    Matcher,
    SpecError,
    check_days,
    customer_days_sql,
    day_number,
    matcher_or_activity,
    month_number,
    month_start,
    week_number,
    week_start,
)

MAX_PERIODS = 104
# periods a cohort query may span to be answered in one pass (bits of a BIGINT, sign aside)
BITS = 63
MAX_POINTS = 400


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"


def bucket_of(period: Period, day: date) -> int:
    """The index of the week or month holding ``day``."""
    if period is Period.WEEK:
        return (day_number(day) + 3) // 7
    return month_number(day)


def bucket_start(period: Period, index: int) -> date:
    return week_start(index) if period is Period.WEEK else month_start(index)


def bucket_sql(period: Period) -> str:
    return week_number("day_n") if period is Period.WEEK else "month_n"


@dataclass(frozen=True)
class RetentionSpec:
    start: date  # cohorts whose first event falls from ``start`` ...
    end: date  # ... to ``end`` (inclusive)
    period: Period = Period.WEEK
    periods: int = 12  # report periods 0..periods after the cohort's
    cohort: Matcher | None = None
    returning: Matcher | None = None
    until: date | None = None  # the last day observed (inclusive); default: no limit

    def check(self) -> None:
        check_days(self.start, self.end)
        if not 0 <= self.periods <= MAX_PERIODS:
            raise SpecError("periods", f"between 0 and {MAX_PERIODS}")
        if self.cohort is not None:
            self.cohort.check("cohort")
        if self.returning is not None:
            self.returning.check("returning")

    @property
    def observed_until(self) -> date:
        """The first day not read."""
        last = bucket_of(self.period, self.end) + self.periods + 1
        stop = bucket_start(self.period, last)
        if self.until is not None:
            stop = min(stop, self.until + timedelta(days=1))
        return stop


@dataclass
class Cell:
    period: int
    customers: int | None
    rate: float | None


@dataclass
class Cohort:
    start: date
    customers: int
    cells: list[Cell]


@dataclass
class RetentionResult:
    period: Period
    cohorts: list[Cohort]
    # each period's retention over all cohorts observed that far (weighted by cohort size)
    average: list[Cell] = field(default_factory=list)


def retention_sql(spec: RetentionSpec) -> str:
    spec.check()
    low = day_number(spec.start) * US_PER_DAY
    high = (day_number(spec.end) + 1) * US_PER_DAY
    stop = day_number(spec.observed_until) * US_PER_DAY
    first = matcher_or_activity(spec.cohort)
    back = matcher_or_activity(spec.returning)
    base = bucket_of(spec.period, spec.start)
    if first == back and bucket_of(spec.period, spec.end) + spec.periods - base < BITS:
        return _one_pass_sql(spec, first, base, (low, high, stop))
    # the same events start a cohort and bring a customer back: each row read is both, and
    # the condition is evaluated once, in the scan's filter
    read, first, back = (
        (first, "TRUE", "TRUE") if first == back else (f"{first} OR {back}", first, back)
    )
    return (
        f"WITH acts AS (SELECT customer_id, ts, {bucket_sql(spec.period)} AS b, "  # noqa: S608
        f"{first} AS c, {back} AS r FROM events WHERE ts < {stop} AND ({read})), "
        "firsts AS (SELECT customer_id, min(CASE WHEN c THEN ts END) AS first_ts, "
        "min_by(b, CASE WHEN c THEN ts END) AS cb FROM acts GROUP BY customer_id), "
        "cohort AS (SELECT customer_id, first_ts, cb FROM firsts "
        f"WHERE first_ts >= {low} AND first_ts < {high}), "
        "back AS (SELECT DISTINCT a.customer_id, c.cb, a.b - c.cb AS k FROM acts AS a "
        "JOIN cohort AS c ON a.customer_id = c.customer_id "
        f"WHERE a.r AND a.ts >= c.first_ts AND a.b - c.cb <= {spec.periods}) "
        "SELECT cb, CAST(-1 AS BIGINT) AS k, CAST(count(*) AS BIGINT) AS n FROM cohort "
        "GROUP BY cb UNION ALL "
        "SELECT cb, CAST(k AS BIGINT) AS k, CAST(count(*) AS BIGINT) AS n FROM back GROUP BY cb, k"
    )


def _one_pass_sql(spec: RetentionSpec, read: str, base: int, bounds: tuple[int, int, int]) -> str:
    """Cohorts when the same events start a cohort and bring a customer back (by default any
    action), in one grouping by customer: their first time, its period, and the periods they
    came back in as bits of one BIGINT (period ``base`` + i is bit i). Every event of a
    customer of a cohort is at or after their first, so no event needs comparing with it:
    the general query's join and distinct pairs (twice the time on ``bench/analytics.py``)
    are not needed. ``bounds``: the first cohort moment, the one after the last, and the
    first moment not read."""
    low, high, stop = bounds
    b = bucket_sql(spec.period)
    ks = ", ".join(f"({k})" for k in range(spec.periods + 1))
    # grouped by profile, then the profiles' rows by customer through the merge map: far
    # fewer rows to map than every event
    return (
        f"WITH by_profile AS (SELECT profile_id, min(ts) AS first_ts, min_by({b}, ts) AS cb, "  # noqa: S608
        f"bit_or(CASE WHEN ts >= {low} THEN CAST(1 AS BIGINT) << ({b} - {base}) END) AS bits "
        f"FROM profile_events WHERE ts < {stop} AND ({read}) GROUP BY profile_id), "
        "per AS (SELECT coalesce(m.into_id, p.profile_id) AS customer_id, "
        "min(p.first_ts) AS first_ts, min_by(p.cb, p.first_ts) AS cb, bit_or(p.bits) AS bits "
        "FROM by_profile AS p LEFT JOIN merge_map AS m ON m.from_id = p.profile_id "
        "GROUP BY coalesce(m.into_id, p.profile_id)), "
        f"cohort AS (SELECT cb, bits FROM per WHERE first_ts >= {low} AND first_ts < {high}), "
        f"ks AS (SELECT * FROM (VALUES {ks}) AS t(k)) "
        "SELECT cb, CAST(-1 AS BIGINT) AS k, CAST(count(*) AS BIGINT) AS n FROM cohort "
        "GROUP BY cb UNION ALL SELECT cb, CAST(k AS BIGINT) AS k, CAST(count(*) AS BIGINT) AS n "
        f"FROM cohort CROSS JOIN ks WHERE (bits >> (cb - {base} + k)) & 1 = 1 GROUP BY cb, k"
    )


def retention(engine: Engine, spec: RetentionSpec) -> RetentionResult:
    """Retention by cohort; one query."""
    return assemble_retention(spec, engine.run(retention_sql(spec)))


def assemble_retention(spec: RetentionSpec, rows: Sequence[Mapping[str, Any]]) -> RetentionResult:
    sizes: dict[int, int] = {}
    counts: dict[tuple[int, int], int] = {}
    for row in rows:
        if row["k"] == -1:
            sizes[int(row["cb"])] = int(row["n"])
        else:
            counts[(int(row["cb"]), int(row["k"]))] = int(row["n"])
    observed = spec.observed_until
    cohorts = []
    totals: dict[int, list[int]] = {}
    for cb in sorted(sizes):
        cells = []
        for k in range(spec.periods + 1):
            if bucket_start(spec.period, cb + k) >= observed:
                cells.append(Cell(k, None, None))
                continue
            n = counts.get((cb, k), 0)
            cells.append(Cell(k, n, n / sizes[cb]))
            total = totals.setdefault(k, [0, 0])
            total[0] += n
            total[1] += sizes[cb]
        cohorts.append(Cohort(bucket_start(spec.period, cb), sizes[cb], cells))
    average = [
        Cell(k, totals[k][0], totals[k][0] / totals[k][1] if totals[k][1] else None)
        for k in sorted(totals)
    ]
    return RetentionResult(spec.period, cohorts, average)


# -- churn ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnSpec:
    start: date
    end: date  # inclusive: churn between the start of ``start`` and the end of ``end``
    inactive_days: int = 30
    activity: Matcher | None = None
    interval: Period | None = None  # also a series of churn per week or month
    sample: int = 20

    def check(self) -> None:
        check_days(self.start, self.end)
        if not 1 <= self.inactive_days <= 3650:
            raise SpecError("inactive_days", "between 1 and 3650")
        if self.activity is not None:
            self.activity.check("activity")
        if not 0 <= self.sample <= 1000:
            raise SpecError("sample", "between 0 and 1000")
        if len(self.points) > MAX_POINTS:
            raise SpecError("interval", f"more than {MAX_POINTS} intervals; use a longer one")

    @property
    def points(self) -> list[date]:
        stop = self.end + timedelta(days=1)
        points = {self.start, stop}
        if self.interval is not None:
            index = bucket_of(self.interval, self.start) + 1
            while (day := bucket_start(self.interval, index)) < stop:
                points.add(day)
                index += 1
                if len(points) > MAX_POINTS + 1:
                    break
        return sorted(points)


@dataclass
class ChurnFigure:
    start: date
    end: date  # exclusive
    active_at_start: int
    churned: int
    rate: float | None


@dataclass
class ChurnResult:
    inactive_days: int
    overall: ChurnFigure
    series: list[ChurnFigure]
    churned_sample: list[str]


def churn_sql(spec: ChurnSpec) -> str:
    spec.check()
    points = spec.points
    numbers = [day_number(p) for p in points]
    n = spec.inactive_days
    last = len(points) - 1
    values = ", ".join(f"({i}, {p})" for i, p in enumerate(numbers))
    pairs = [f"({i}, {i + 1})" for i in range(last)]
    if last > 1:
        pairs.append(f"(0, {last})")
    cond = matcher_or_activity(spec.activity)
    where = f"ts >= {(numbers[0] - n) * US_PER_DAY} AND ts < {numbers[-1] * US_PER_DAY} AND {cond}"
    return (
        f"WITH days AS ({customer_days_sql(where)}), "  # noqa: S608
        f"pts AS (SELECT * FROM (VALUES {values}) AS v(i, p)), "
        f"pairs AS (SELECT * FROM (VALUES {', '.join(pairs)}) AS w(a, b)), "
        "act AS (SELECT DISTINCT d.customer_id, v.i FROM days AS d JOIN pts AS v "
        f"ON d.day_n >= v.p - {n} AND d.day_n < v.p), "
        "moves AS (SELECT w.a, w.b, x.customer_id, "
        "CASE WHEN y.customer_id IS NULL THEN 1 ELSE 0 END AS gone FROM pairs AS w "
        "JOIN act AS x ON x.i = w.a LEFT JOIN act AS y ON y.i = w.b "
        "AND y.customer_id = x.customer_id) "
        "SELECT 'count' AS kind, a, b, CAST(count(*) AS BIGINT) AS base, "
        "CAST(sum(gone) AS BIGINT) AS gone, CAST(NULL AS VARCHAR) AS customer_id "
        "FROM moves GROUP BY a, b UNION ALL "
        "SELECT 'sample' AS kind, a, b, CAST(NULL AS BIGINT) AS base, "
        "CAST(NULL AS BIGINT) AS gone, customer_id FROM (SELECT a, b, customer_id, "
        "row_number() OVER (PARTITION BY a, b "
        f"ORDER BY customer_id) AS rn FROM moves WHERE gone = 1 AND a = 0 AND b = {last}) AS s "
        f"WHERE rn <= {spec.sample}"
    )


def churn(engine: Engine, spec: ChurnSpec) -> ChurnResult:
    """Churn over the whole range, and per interval when asked; one query."""
    return assemble_churn(spec, engine.run(churn_sql(spec)))


def assemble_churn(spec: ChurnSpec, rows: Sequence[Mapping[str, Any]]) -> ChurnResult:
    points = spec.points
    last = len(points) - 1
    found = {(int(r["a"]), int(r["b"])): r for r in rows if r["kind"] == "count"}

    def figure(a: int, b: int) -> ChurnFigure:
        row = found.get((a, b))
        base = int(row["base"]) if row else 0
        gone = int(row["gone"]) if row else 0
        return ChurnFigure(points[a], points[b], base, gone, gone / base if base else None)

    series = [figure(i, i + 1) for i in range(last)] if spec.interval is not None else []
    sample = sorted(str(r["customer_id"]) for r in rows if r["kind"] == "sample")
    return ChurnResult(spec.inactive_days, figure(0, last), series, sample)
