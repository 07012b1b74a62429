"""Funnels: how many customers go through ordered steps within a conversion window.

A customer *enters* with a step-1 event between ``start`` and ``end`` and *reaches* step k
when there are events of steps 1..k in that order, each strictly later than the one before,
the last at most ``window`` after the first. Loose order allows other events in between;
strict order asks each step to be the customer's very next action (track, page or screen).

Loose order keeps, for each step-k event, the *latest* start of a valid chain of steps
1..k-1 before it: a later start leaves the most room in the window, so if that chain is too
old, every chain is (see :func:`_loose_ctes`). Strict order needs every action, and uses
one window function per step: the chain must come from the event right before. Both are SQL
that DuckDB and Spark both run (see :mod:`cxloop.analytics.portable`).

Time to convert to step k is measured on the customer's first arrival at step k, from the
step-1 event of that chain. Customers merged after the fact count once (``customer_id``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from cxloop.analytics.events import Indexed
from cxloop.analytics.portable import (
    NONE,
    US_PER_DAY,
    US_PER_SECOND,
    Engine,
    Matcher,
    SpecError,
    activity_sql,
    check_days,
    check_property,
    day_start,
    index_holds,
    index_match,
    literal,
    micros,
    prop,
)

MAX_STEPS = 20
# A customer whose step lists would be compared pairwise more than this many times (a bot,
# a shared test account, a profile many others were merged into) is folded over their
# events sorted instead: the pairs grow with the square of the events, the sort does not.
# On DuckDB a pair costs 5-30 ns and one step of the fold about 10 us, so a customer of
# 250,000 pairs takes a few milliseconds either way; the limit also bounds the memory of one
# customer's pairs (8 bytes each).
PAIRS_LIMIT = 250_000
MAX_WINDOW_DAYS = 366
MAX_GROUPS = 50


class Order(StrEnum):
    LOOSE = "loose"
    STRICT = "strict"


class BreakdownKind(StrEnum):
    PROPERTY = "property"  # a property of the customer's first step-1 event
    CHANNEL = "channel"  # the channel of that event
    TRAIT = "trait"  # the customer's latest value of a trait in their identify calls


@dataclass(frozen=True)
class Breakdown:
    kind: BreakdownKind
    name: str = ""


@dataclass(frozen=True)
class FunnelSpec:
    steps: Sequence[Matcher]
    start: date
    end: date  # inclusive
    window: timedelta = timedelta(days=7)
    order: Order = Order.LOOSE
    breakdown: Breakdown | None = None
    dropped_sample: int = 20

    def check(self) -> None:
        if not self.steps:
            raise SpecError("steps", "give at least one step")
        if len(self.steps) > MAX_STEPS:
            raise SpecError("steps", f"at most {MAX_STEPS} steps")
        for i, step in enumerate(self.steps):
            step.check(f"steps.{i}")
        if self.window <= timedelta(0):
            raise SpecError("window_days", "must be more than 0")
        if self.window > timedelta(days=MAX_WINDOW_DAYS):
            raise SpecError("window_days", f"at most {MAX_WINDOW_DAYS} days")
        check_days(self.start, self.end)
        if self.breakdown is not None and self.breakdown.kind is not BreakdownKind.CHANNEL:
            if not self.breakdown.name:
                raise SpecError("breakdown.name", f"name the {self.breakdown.kind.value}")
            check_property(self.breakdown.name, "breakdown.name")
        if not 0 <= self.dropped_sample <= 1000:
            raise SpecError("dropped_sample", "between 0 and 1000")

    @property
    def window_us(self) -> int:
        return int(self.window.total_seconds() * US_PER_SECOND)

    @property
    def entry_bounds(self) -> tuple[int, int]:
        """[low, high) of step-1 times, in microseconds."""
        low = micros(day_start(self.start))
        return low, low + ((self.end - self.start).days + 1) * US_PER_DAY


@dataclass
class StepResult:
    index: int
    name: str
    customers: int
    conversion: float | None  # of those who entered
    conversion_from_previous: float | None
    dropped: int  # reached the step before, not this one
    median_seconds_to_convert: float | None
    p90_seconds_to_convert: float | None
    dropped_sample: list[str] = field(default_factory=list)


@dataclass
class FunnelGroup:
    value: str
    steps: list[StepResult]


@dataclass
class FunnelResult:
    steps: list[StepResult]
    breakdown: list[FunnelGroup] | None = None
    breakdown_truncated: bool = False


def step_name(step: Matcher) -> str:
    return step.event or f"{step.type}"


def indexable(spec: FunnelSpec) -> bool:
    """Whether the customer-event index can answer: loose order, steps named by type and
    event only (no property filter, no channel), and no breakdown by a property or channel
    of the entry (which event came first among equal times is not in the index)."""
    return (
        spec.order is Order.LOOSE
        and all(index_holds(s) for s in spec.steps)
        and (spec.breakdown is None or spec.breakdown.kind is BreakdownKind.TRAIT)
    )


def funnel_sql(spec: FunnelSpec, index: Indexed | None = None) -> str:
    """The SQL of a funnel (DuckDB dialect, Spark-compatible); with ``index``, each
    customer's step times come from ``event_times`` (:func:`indexable` specs only)."""
    spec.check()
    if index is not None and not indexable(spec):
        raise ValueError("this funnel cannot read the customer-event index")
    n = len(spec.steps)
    low, high = spec.entry_bounds
    window = spec.window_us
    loose = spec.order is Order.LOOSE
    ctes = _loose_ctes(spec, low, high, index) if loose else _strict_ctes(spec)
    # ``grouped`` is read twice, by the figures and by the sample of who dropped: MATERIALIZED
    # keeps DuckDB from working out every customer's level twice
    if spec.breakdown is not None and spec.breakdown.kind is BreakdownKind.TRAIT:
        trait = prop(spec.breakdown.name, "traits")
        ctes.append(
            f"trait AS (SELECT customer_id, max_by({trait}, ts) AS value FROM events "  # noqa: S608
            f"WHERE type = 'identify' AND ts < {high + window} AND {trait} IS NOT NULL "
            "GROUP BY customer_id)"
        )
        ctes.append(
            "grouped AS MATERIALIZED (SELECT p.customer_id, p.lvl, "  # noqa: S608
            f"coalesce(t.value, {literal(NONE)}) AS bd"
            + "".join(f", p.t{k}" for k in range(2, n + 1))
            + " FROM per AS p LEFT JOIN trait AS t ON t.customer_id = p.customer_id "
            "WHERE p.lvl >= 1)"
        )
    else:
        ctes.append("grouped AS MATERIALIZED (SELECT * FROM per WHERE lvl >= 1)")
    counts = ", ".join(
        f"CAST(sum(CASE WHEN lvl >= {k} THEN 1 ELSE 0 END) AS BIGINT) AS c{k}"
        for k in range(1, n + 1)
    )
    quantiles = "".join(
        f", CAST(quantile_cont(t{k}, 0.5) AS DOUBLE) AS med{k}, "
        f"CAST(quantile_cont(t{k}, 0.9) AS DOUBLE) AS p90_{k}"
        for k in range(2, n + 1)
    )
    if spec.breakdown is None:
        aggregate = (
            f"SELECT 'total' AS kind, CAST(NULL AS VARCHAR) AS bd, {counts}{quantiles}, "  # noqa: S608
            "CAST(NULL AS BIGINT) AS lvl, CAST(NULL AS VARCHAR) AS customer_id FROM grouped"
        )
    else:
        aggregate = (
            "SELECT CASE WHEN grouping(bd) = 1 THEN 'total' ELSE 'group' END AS kind, "  # noqa: S608
            f"CASE WHEN grouping(bd) = 1 THEN NULL ELSE bd END AS bd, {counts}{quantiles}, "
            "CAST(NULL AS BIGINT) AS lvl, CAST(NULL AS VARCHAR) AS customer_id "
            "FROM grouped GROUP BY GROUPING SETS ((), (bd))"
        )
    nulls = ", ".join(f"CAST(NULL AS BIGINT) AS c{k}" for k in range(1, n + 1)) + "".join(
        f", CAST(NULL AS DOUBLE) AS med{k}, CAST(NULL AS DOUBLE) AS p90_{k}"
        for k in range(2, n + 1)
    )
    sample = (
        f"SELECT 'dropped' AS kind, CAST(NULL AS VARCHAR) AS bd, {nulls}, lvl, customer_id "  # noqa: S608
        "FROM (SELECT lvl, customer_id, row_number() OVER (PARTITION BY lvl "
        f"ORDER BY customer_id) AS rn FROM grouped WHERE lvl < {n}) AS d "
        f"WHERE rn <= {int(spec.dropped_sample)}"
    )
    body = aggregate if spec.dropped_sample == 0 or n == 1 else f"{aggregate} UNION ALL {sample}"
    return "WITH " + ", ".join(ctes) + " " + body


def _loose_ctes(spec: FunnelSpec, low: int, high: int, index: Indexed | None) -> list[str]:
    """``per``: one row per entered customer with the level reached and the times to convert.

    Each customer's events of each step become a list of times (``l1`` .. ``ln``, no order
    needed). A step-k event ends a chain when a chain of steps 1..k-1 ended strictly before
    it, and the latest start of those (a later start leaves the most room) is at most
    ``window`` before it: ``v{k}`` holds those events with that start, as (e, st) pairs. The
    latest start before an event is a maximum over the short lists of one customer, never a
    sort: grouping the rows by customer is all the work across customers, where a window
    function per step sorts every row by customer and time (on the 10 million events of
    ``bench/analytics.py``, 0.8 s against 1.6 s). A customer's time to convert to step k is
    that of the earliest event of ``v{k}``."""
    n, window = len(spec.steps), spec.window_us
    matches = ", ".join(f"{s.sql()} AS m{i}" for i, s in enumerate(spec.steps, 1))
    keep = " OR ".join(s.sql() for s in spec.steps)
    # the breakdown value is read off the entries only (a property means parsing JSON)
    value = (
        f", CASE WHEN m1 AND ts < {high} THEN {_breakdown_value(spec)} END AS bd"
        if spec.breakdown
        else ""
    )
    source = (
        f"SELECT customer_id, ts, {matches}{value} FROM events "  # noqa: S608
        f"WHERE ts >= {low} AND ts < {high + window} AND ({keep})"
    )
    if _disjoint(spec.steps):
        which = " ".join(f"WHEN m{k} THEN {k}" for k in range(1, n + 1))
        rows = f"SELECT *, CASE {which} END AS k FROM ({source}) AS src"  # noqa: S608
    else:  # an event may be of several steps: one element per step it is of
        steps = ", ".join(f"({k})" for k in range(1, n + 1))
        which = " ".join(f"WHEN {k} THEN m{k}" for k in range(1, n + 1))
        rows = (
            f"SELECT src.*, s.k FROM ({source}) AS src "  # noqa: S608
            f"CROSS JOIN (VALUES {steps}) AS s(k) WHERE CASE s.k {which} END"
        )
    entry = f"k = 1 AND ts < {high}"
    bd = f"min_by(bd, ts) FILTER (WHERE {entry})" if spec.breakdown else "CAST(NULL AS VARCHAR)"
    lists = ", ".join(
        f"list(ts) FILTER (WHERE {entry if k == 1 else f'k = {k}'}) AS l{k}"
        for k in range(1, n + 1)
    )
    pairs = " + ".join(f"array_length(l{k - 1}) * array_length(l{k})" for k in range(2, n + 1))
    light = f", coalesce({pairs}, 0) <= {PAIRS_LIMIT} AS light" if n > 1 else ""
    ctes = [f"elements AS ({rows})"]
    grouping = f"{bd} AS bd, {lists}{light} FROM elements"
    if index is not None:  # the lists come grouped already: only the steps' rows are read
        ctes = _indexed_steps(spec)
        joins = "".join(
            f" LEFT JOIN s{k} ON s{k}.customer_id = s1.customer_id" for k in range(2, n + 1)
        )
        ctes.append(
            "lists AS (SELECT * FROM (SELECT s1.customer_id, CAST(NULL AS VARCHAR) AS bd, "  # noqa: S608
            f"{_indexed_lists(spec, low, high, index.span)}{light} FROM s1{joins}) AS g "
            "WHERE array_length(l1) > 0)"
        )
    else:
        # entered: a step-1 list with an element (Spark's is empty where DuckDB's is NULL)
        ctes.append(
            f"lists AS (SELECT * FROM (SELECT customer_id, {grouping} "  # noqa: S608
            "GROUP BY customer_id) AS g WHERE array_length(l1) > 0)"
        )
    if n == 1:
        ctes.append("per AS (SELECT customer_id, bd, 1 AS lvl FROM lists)")
        return ctes
    every = "".join(f", l{k}" for k in range(1, n + 1))
    source = "lists"
    for k in range(2, n + 1):
        # the latest start of a chain of steps 1..k-1 that ended strictly before time u
        if k == 2:
            start = "list_max(list_filter(l1, lambda t: t < u))"
        else:
            start = (
                f"list_max(list_transform(list_filter(v{k - 1}, lambda c: c.e < u), "
                "lambda c: c.st))"
            )
        earlier = "".join(f", v{j}" for j in range(2, k))
        ctes.append(
            f"reach{k} AS (SELECT customer_id, bd, light{every}{earlier}, "  # noqa: S608
            f"CASE WHEN light THEN list_filter(list_transform(l{k}, lambda u: "
            f"struct_pack(e := u, st := {start})), lambda c: c.e - c.st <= {window}) "
            f"END AS v{k} FROM {source})"
        )
        source = f"reach{k}"
    # the two kinds of customer apart: the light ones never evaluate the fold, even as NULL
    levels = "".join(f"WHEN array_length(v{k}) > 0 THEN {k} " for k in range(n, 1, -1))
    firsts = "".join(f", list_min(v{k}) AS f{k}" for k in range(2, n + 1))
    times = "".join(f", f{k}.e - f{k}.st AS t{k}" for k in range(2, n + 1))
    folds = "".join(f"WHEN z.t{k} IS NOT NULL THEN {k} " for k in range(n, 1, -1))
    folded = "".join(f", z.t{k}" for k in range(2, n + 1))
    ctes.append(
        f"per AS (SELECT customer_id, bd, CASE {levels}ELSE 1 END AS lvl{times} "  # noqa: S608
        f"FROM (SELECT *{firsts} FROM {source} WHERE light) AS l "
        f"UNION ALL SELECT customer_id, bd, CASE {folds}ELSE 1 END AS lvl{folded} "
        f"FROM (SELECT *, {_fold(n, low, window)} AS z FROM {source} WHERE NOT light) AS h)"
    )
    return ctes


def _indexed_steps(spec: FunnelSpec) -> list[str]:
    """``s1`` .. ``sn``: each step's times of a customer (of every profile merged into them)
    from ``event_times``, one row per customer. The row of a ``clean`` customer is their list
    already: only the others are grouped, which is what costs (the lists are copied; on the
    10 million events of ``bench/analytics.py``, 0.06 s against 0.12 s for all)."""
    ctes = []
    for k, step in enumerate(spec.steps, 1):
        # one scan of the step's rows for both kinds of customer (0.26 s against 0.31 s)
        ctes.append(
            f"r{k} AS MATERIALIZED (SELECT customer_id, clean, times FROM event_times "  # noqa: S608
            f"WHERE {index_match(step)})"
        )
        ctes.append(
            f"s{k} AS (SELECT customer_id, times AS l FROM r{k} WHERE clean "  # noqa: S608
            "UNION ALL SELECT customer_id, flatten(list(times)) AS l "
            f"FROM r{k} WHERE NOT clean GROUP BY customer_id)"
        )
    return ctes


def _indexed_lists(spec: FunnelSpec, low: int, high: int, span: tuple[int, int] | None) -> str:
    """``l1`` .. ``ln`` from the steps' lists: those of step 1 in ``[low, high)``, the others
    until the window ends after ``high``. A list is not filtered when every time held is in
    its range (``span``)."""
    lists = []
    for k in range(1, len(spec.steps) + 1):
        until = high if k == 1 else high + spec.window_us
        times = f"s{k}.l"
        if span is None or span[0] < low or span[1] >= until:
            times = f"list_filter({times}, lambda t: t >= {low} AND t < {until})"
        lists.append(f"{times} AS l{k}")
    return ", ".join(lists)


def _fold(n: int, low: int, window: int) -> str:
    """The levels of one customer with long lists, in one pass over their events sorted by
    time: each is ``(ts - low) * M + n - k`` for an event of step k, so at equal times the
    later step comes first (a step needs a strictly earlier one before it). The fold keeps
    the latest chain start per level (``s``) and the time of the first arrival (``t``)."""
    m = n + 1
    code, ts = f"x % {m}", f"x // {m}"
    events = ", ".join(
        f"list_transform(l{k}, lambda t: (t - {low}) * {m} + {n - k})" for k in range(1, n + 1)
    )
    fields = [f"s{k}" for k in range(1, n)] + [f"t{k}" for k in range(2, n + 1)]
    initial = ", ".join(f"{f} := CAST(NULL AS BIGINT)" for f in fields)
    starts = [f"s1 := CASE WHEN {code} = {n - 1} THEN {ts} ELSE a.s1 END"]
    times = []
    for k in range(2, n + 1):
        valid = f"{code} = {n - k} AND {ts} - a.s{k - 1} <= {window}"
        if k < n:
            starts.append(
                f"s{k} := CASE WHEN {valid} THEN greatest(a.s{k}, a.s{k - 1}) ELSE a.s{k} END"
            )
        times.append(
            f"t{k} := CASE WHEN {valid} THEN coalesce(a.t{k}, {ts} - a.s{k - 1}) ELSE a.t{k} END"
        )
    return (
        f"list_reduce(list_sort(list_concat({events})), "
        f"lambda a, x: struct_pack({', '.join(starts + times)}), struct_pack({initial}))"
    )


def _disjoint(steps: Sequence[Matcher]) -> bool:
    """Whether no event can be of two steps: their types, names or channels differ."""

    def apart(a: Matcher, b: Matcher) -> bool:
        return (
            a.type != b.type
            or (a.event is not None and b.event is not None and a.event != b.event)
            or (a.channel is not None and b.channel is not None and a.channel != b.channel)
        )

    return all(apart(a, b) for i, a in enumerate(steps) for b in steps[i + 1 :])


def _strict_ctes(spec: FunnelSpec) -> list[str]:
    """Each step's event must be the customer's very next action: every action is read (and
    every event of a step, should a step be a passive event such as an email delivered)."""
    n, window = len(spec.steps), spec.window_us
    low, high = spec.entry_bounds
    matches = ", ".join(f"{s.sql()} AS m{i}" for i, s in enumerate(spec.steps, 1))
    read = " OR ".join([activity_sql(), *(s.sql() for s in spec.steps)])
    ctes = [
        f"base AS (SELECT customer_id, ts, message_id, {_breakdown_value(spec)} AS bd, "  # noqa: S608
        f"{matches} FROM events WHERE ts >= {low} AND ts < {high + window} AND ({read}))",
        f"f1 AS (SELECT *, CASE WHEN m1 AND ts < {high} THEN ts END AS s1 FROM base)",  # noqa: S608
    ]
    for k in range(2, n + 1):
        before = f"lag(s{k - 1}) OVER (PARTITION BY customer_id ORDER BY ts, message_id)"
        ctes.append(
            f"f{k} AS (SELECT *, CASE WHEN ts - r{k} <= {window} THEN r{k} END AS s{k} "  # noqa: S608
            f"FROM (SELECT *, CASE WHEN m{k} THEN {before} END AS r{k} FROM f{k - 1}) AS x{k})"
        )
    level = " ".join(f"WHEN s{k} IS NOT NULL THEN {k}" for k in range(n, 0, -1))
    times = "".join(
        f", min_by(ts - s{k}, CASE WHEN s{k} IS NOT NULL THEN ts END) AS t{k}"
        for k in range(2, n + 1)
    )
    ctes.append(
        "per AS (SELECT customer_id, "  # noqa: S608
        "min_by(bd, CASE WHEN s1 IS NOT NULL THEN ts END) AS bd, "
        f"max(CASE {level} ELSE 0 END) AS lvl{times} FROM f{n} GROUP BY customer_id)"
    )
    return ctes


def _breakdown_value(spec: FunnelSpec) -> str:
    breakdown = spec.breakdown
    if breakdown is None or breakdown.kind is BreakdownKind.TRAIT:
        return "CAST(NULL AS VARCHAR)"
    if breakdown.kind is BreakdownKind.CHANNEL:
        return f"coalesce(channel, {literal(NONE)})"
    return f"coalesce({prop(breakdown.name)}, {literal(NONE)})"


def run(engine: Engine, spec: FunnelSpec) -> FunnelResult:
    """Compute the funnel in one query, from the customer-event index where it can."""
    index = engine.index if indexable(spec) else None
    return assemble(spec, engine.run(funnel_sql(spec, index)))


def assemble(spec: FunnelSpec, rows: Sequence[Mapping[str, Any]]) -> FunnelResult:
    """Turn the query's rows into the result (also used to compare engines)."""
    dropped: dict[int, list[str]] = {}
    for row in rows:
        if row["kind"] == "dropped":
            dropped.setdefault(int(row["lvl"]), []).append(str(row["customer_id"]))
    total = next((r for r in rows if r["kind"] == "total"), None)
    steps = _steps(spec, total, dropped)
    result = FunnelResult(steps=steps)
    if spec.breakdown is not None:
        groups = [r for r in rows if r["kind"] == "group"]
        groups.sort(key=lambda r: (-int(r["c1"] or 0), str(r["bd"])))
        result.breakdown = [
            FunnelGroup(value=str(r["bd"]), steps=_steps(spec, r, {})) for r in groups[:MAX_GROUPS]
        ]
        result.breakdown_truncated = len(groups) > MAX_GROUPS
    return result


def _steps(
    spec: FunnelSpec, row: Mapping[str, Any] | None, dropped: Mapping[int, list[str]]
) -> list[StepResult]:
    counts = [int((row or {}).get(f"c{k}") or 0) for k in range(1, len(spec.steps) + 1)]
    steps = []
    for k, step in enumerate(spec.steps, 1):
        here = counts[k - 1]
        before = counts[k - 2] if k > 1 else here
        steps.append(
            StepResult(
                index=k,
                name=step_name(step),
                customers=here,
                conversion=_share(here, counts[0]),
                conversion_from_previous=_share(here, before),
                dropped=before - here,
                median_seconds_to_convert=_seconds((row or {}).get(f"med{k}")),
                p90_seconds_to_convert=_seconds((row or {}).get(f"p90_{k}")),
                dropped_sample=sorted(dropped.get(k - 1, [])) if k > 1 else [],
            )
        )
    return steps


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value) / US_PER_SECOND, 6)
