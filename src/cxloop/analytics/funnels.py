"""Funnels: how many customers go through ordered steps within a conversion window.

A customer *enters* with a step-1 event between ``start`` and ``end`` and *reaches* step k
when there are events of steps 1..k in that order, each strictly later than the one before,
the last at most ``window`` after the first. Loose order allows other events in between;
strict order asks each step to be the customer's very next action (track, page or screen).

Both orders are computed with one window function per step, in SQL that DuckDB and Spark both
run (see :mod:`cxloop.analytics.portable`). For loose order each step-k event carries the
*latest* start of a valid chain of steps 1..k-1 before it (a running maximum): a later start
leaves the most room in the window, so if that chain is too old, every chain is. For strict
order the chain must come from the event right before.

Time to convert to step k is measured on the customer's first arrival at step k, from the
step-1 event of that chain. Customers merged after the fact count once (``customer_id``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from cxloop.analytics.portable import (
    NONE,
    US_PER_DAY,
    US_PER_SECOND,
    Engine,
    Matcher,
    SpecError,
    activity_sql,
    day_start,
    literal,
    micros,
    prop,
)

MAX_STEPS = 20
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
        if self.start > self.end:
            raise SpecError("from", "must not be after 'to'")
        if self.breakdown is not None and self.breakdown.kind is BreakdownKind.PROPERTY:
            Matcher(event="x", where={self.breakdown.name: {"exists": True}}).check("breakdown")
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


def funnel_sql(spec: FunnelSpec) -> str:
    """The SQL of a funnel (DuckDB dialect, Spark-compatible)."""
    spec.check()
    n = len(spec.steps)
    low, high = spec.entry_bounds
    window = spec.window_us
    ctes = _loose_ctes(spec, low, high) if spec.order is Order.LOOSE else _strict_ctes(spec)
    if spec.breakdown is not None and spec.breakdown.kind is BreakdownKind.TRAIT:
        trait = prop(spec.breakdown.name, "traits")
        ctes.append(
            f"trait AS (SELECT customer_id, max_by({trait}, ts) AS value FROM events "  # noqa: S608
            f"WHERE type = 'identify' AND ts < {high + window} AND {trait} IS NOT NULL "
            "GROUP BY customer_id)"
        )
        ctes.append(
            "grouped AS (SELECT p.customer_id, p.lvl, "  # noqa: S608
            f"coalesce(t.value, {literal(NONE)}) AS bd"
            + "".join(f", p.t{k}" for k in range(2, n + 1))
            + " FROM per AS p LEFT JOIN trait AS t ON t.customer_id = p.customer_id "
            "WHERE p.lvl >= 1)"
        )
    else:
        ctes.append("grouped AS (SELECT * FROM per WHERE lvl >= 1)")
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


def _loose_ctes(spec: FunnelSpec, low: int, high: int) -> list[str]:
    """Each level k holds the step-k events that end a valid chain, with the chain's start.

    A level is the window over the level before it and the step's events only, so each
    window sorts just the rows it needs; ``per`` joins one row per customer and level."""
    n, window = len(spec.steps), spec.window_us
    matches = ", ".join(f"{s.sql()} AS m{i}" for i, s in enumerate(spec.steps, 1))
    keep = " OR ".join(s.sql() for s in spec.steps)
    # the breakdown value is read off the entries only (a property means parsing JSON)
    entry = f"m1 AND ts < {high}"
    ctes = [
        f"base AS (SELECT customer_id, ts, {matches}, CASE WHEN {entry} "  # noqa: S608
        f"THEN {_breakdown_value(spec)} END AS bd FROM events "
        f"WHERE ts >= {low} AND ts < {high + window} AND ({keep}))",
        f"lvl1 AS (SELECT customer_id, ts, ts AS st, bd FROM base WHERE {entry})",  # noqa: S608
    ]
    for k in range(2, n + 1):
        ctes.append(
            f"lvl{k} AS (SELECT customer_id, ts, r AS st FROM (SELECT customer_id, ts, src, "  # noqa: S608
            "max(st) OVER (PARTITION BY customer_id ORDER BY ts "
            "RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS r FROM ("
            f"SELECT customer_id, ts, st, 0 AS src FROM lvl{k - 1} UNION ALL "
            f"SELECT customer_id, ts, CAST(NULL AS BIGINT) AS st, 1 AS src FROM base WHERE m{k}"
            f") AS u{k}) AS w{k} WHERE src = 1 AND ts - r <= {window})"
        )
    # one row per customer and level: the entries are many, the later levels few
    bd = "min_by(bd, ts)" if spec.breakdown else "CAST(NULL AS VARCHAR)"
    ctes.append(f"e1 AS (SELECT customer_id, {bd} AS bd FROM lvl1 GROUP BY customer_id)")  # noqa: S608
    ctes.extend(
        f"e{k} AS (SELECT customer_id, min_by(ts - st, ts) AS t FROM lvl{k} "  # noqa: S608
        "GROUP BY customer_id)"
        for k in range(2, n + 1)
    )
    level = "".join(f"WHEN e{k}.customer_id IS NOT NULL THEN {k} " for k in range(n, 1, -1))
    lvl = f"CASE {level}ELSE 1 END" if n > 1 else "1"
    joins = "".join(
        f" LEFT JOIN e{k} ON e{k}.customer_id = e1.customer_id" for k in range(2, n + 1)
    )
    ctes.append(
        f"per AS (SELECT e1.customer_id, e1.bd, {lvl} AS lvl"  # noqa: S608
        + "".join(f", e{k}.t AS t{k}" for k in range(2, n + 1))
        + f" FROM e1{joins})"
    )
    return ctes


def _strict_ctes(spec: FunnelSpec) -> list[str]:
    """Each step's event must be the customer's very next action: every action is read."""
    n, window = len(spec.steps), spec.window_us
    low, high = spec.entry_bounds
    matches = ", ".join(f"{s.sql()} AS m{i}" for i, s in enumerate(spec.steps, 1))
    ctes = [
        f"base AS (SELECT customer_id, ts, message_id, {_breakdown_value(spec)} AS bd, "  # noqa: S608
        f"{matches} FROM events WHERE ts >= {low} AND ts < {high + window} AND "
        f"({activity_sql()}))",
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
    """Compute the funnel in one query."""
    return assemble(spec, engine.run(funnel_sql(spec)))


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
