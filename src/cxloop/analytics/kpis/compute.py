"""Compute a KPI pack: every measure its formulas need, for the period, the period before
it (same length) and each day, week or month of the period, in a few queries.

1. *Simple* measures (events, customers, sums, both roles, active): one scan. Grouped per
   customer, the slots (the period before, each bucket of the period) in which a customer
   did each thing become bits, so a customer counts once per group however many events they
   have, and one grouping by customer serves every group; grouped per slot, the same rows
   give the events and amounts of each bucket, summed into the period's.
2. *Firsts* (new, known, time to first): each customer's first action and first event of
   each role over the whole history up to the period's end, counted per group.
3. *Activity* (DAU, WAU, MAU): distinct active customers per day and in the 7 / 30 days
   before each group's end.
4. *Churn*: :func:`cxloop.analytics.retention.churn` for the period (with its series) and
   for the period before.

Spend comes from the caller (it lives in the operational store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from cxloop.analytics.kpis.definitions import PACKS, Kpi
from cxloop.analytics.kpis.formulas import evaluate, kind, measures_of
from cxloop.analytics.kpis.roles import Role, amount_sql, resolve, role_sql
from cxloop.analytics.portable import (
    US_PER_DAY,
    Engine,
    Matcher,
    SpecError,
    activity_sql,
    check_days,
    day_number,
    literal,
    month_number,
    month_start,
    week_number,
    week_start,
)
from cxloop.analytics.retention import ChurnSpec, Period, churn

MAX_BUCKETS = 400


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class KpiSpec:
    pack: str
    start: date
    end: date  # inclusive
    interval: Interval = Interval.WEEK
    mapping: Mapping[str, Sequence[Matcher]] = field(default_factory=dict)
    spend: Mapping[date, float] = field(default_factory=dict)  # per day
    churn_days: int = 30
    only: Sequence[str] = ()  # KPI ids; empty: the whole pack

    def check(self) -> None:
        if self.pack not in PACKS:
            raise SpecError("pack", f"unknown pack; use {', '.join(PACKS)}")
        check_days(self.start, self.end)
        if len(buckets(self)) > MAX_BUCKETS:
            raise SpecError("interval", f"more than {MAX_BUCKETS} points; use a longer one")
        if not 1 <= self.churn_days <= 3650:
            raise SpecError("churn_days", "between 1 and 3650")
        known = {k.id for k in PACKS[self.pack]}
        for kpi_id in self.only:
            if kpi_id not in known:
                raise SpecError("kpi", f"{kpi_id!r} is not in the {self.pack} pack")

    @property
    def kpis(self) -> list[Kpi]:
        return [k for k in PACKS[self.pack] if not self.only or k.id in self.only]

    @property
    def length(self) -> timedelta:
        return self.end - self.start + timedelta(days=1)


@dataclass(frozen=True)
class Group:
    key: str
    start: date
    stop: date  # exclusive


@dataclass
class Point:
    start: date
    value: float | None


@dataclass
class KpiResult:
    kpi: Kpi
    value: float | None
    previous: float | None
    change: float | None  # relative: (value - previous) / |previous|
    series: list[Point]


def bucket_index(interval: Interval, day: date) -> int:
    if interval is Interval.DAY:
        return day_number(day)
    if interval is Interval.WEEK:
        return (day_number(day) + 3) // 7
    return month_number(day)


def bucket_begin(interval: Interval, index: int) -> date:
    if interval is Interval.DAY:
        return date(1970, 1, 1) + timedelta(days=index)
    if interval is Interval.WEEK:
        return week_start(index)
    return month_start(index)


def buckets(spec: KpiSpec) -> list[Group]:
    """The series' groups: each bucket of the interval, clipped to the period."""
    stop = spec.end + timedelta(days=1)
    first, last = bucket_index(spec.interval, spec.start), bucket_index(spec.interval, spec.end)
    if last - first >= MAX_BUCKETS:
        return [Group("x", spec.start, stop)] * (MAX_BUCKETS + 1)
    return [
        Group(
            f"b{i}",
            max(bucket_begin(spec.interval, i), spec.start),
            min(bucket_begin(spec.interval, i + 1), stop),
        )
        for i in range(first, last + 1)
    ]


def periods(spec: KpiSpec) -> list[Group]:
    stop = spec.end + timedelta(days=1)
    return [Group("cur", spec.start, stop), Group("prev", spec.start - spec.length, spec.start)]


def compute(engine: Engine, spec: KpiSpec) -> list[KpiResult]:
    """Every KPI of the pack (or ``only`` those) with its previous value and series."""
    spec.check()
    roles = resolve(spec.mapping)
    kpis = spec.kpis
    needed: set[str] = set()
    for kpi in kpis:
        needed |= measures_of(kpi.formula)
    groups = [*periods(spec), *buckets(spec)]
    figures: dict[str, dict[str, float | None]] = {g.key: {} for g in groups}
    kinds = {kind(m) for m in needed}
    if kinds & {"events", "customers", "sum", "avg", "both", "active"}:
        _merge(figures, _simple(engine, spec, roles, needed, groups))
    if kinds & {"new", "known", "ttf"}:
        _merge(figures, _firsts(engine, spec, roles, needed, groups))
    if kinds & {"dau", "wau", "mau"}:
        _merge(figures, _activity(engine, spec, groups))
    if kinds & {"churn", "retention"}:
        _merge(figures, _churn(engine, spec))
    if "spend" in kinds:
        for g in groups:
            figures[g.key]["spend"] = _spend(spec.spend, g)
    return [_result(kpi, figures, groups) for kpi in kpis]


def _merge(into: dict[str, dict[str, float | None]], more: Mapping[str, Mapping[str, Any]]) -> None:
    for key, values in more.items():
        if key in into:
            into[key].update(values)


def _result(
    kpi: Kpi, figures: Mapping[str, Mapping[str, float | None]], groups: list[Group]
) -> KpiResult:
    raw = evaluate(kpi.formula, figures["cur"])
    before = evaluate(kpi.formula, figures["prev"])
    change = None
    if raw is not None and before:
        change = _clean((raw - before) / abs(before))
    value, previous = _clean(raw), _clean(before)
    series = [
        Point(g.start, _clean(evaluate(kpi.formula, figures[g.key])))
        for g in groups
        if g.key.startswith("b")
    ]
    return KpiResult(kpi, value, previous, change, series)


def _clean(value: float | None) -> float | None:
    return None if value is None else round(float(value), 9)


# -- 1. simple measures ---------------------------------------------------------------------


def _simple_parts(needed: set[str]) -> tuple[list[str], list[tuple[str, str]]]:
    role_names: set[str] = set()
    amounts: set[tuple[str, str]] = set()
    for measure in needed:
        parts = measure.split(":")
        if parts[0] in ("events", "customers"):
            role_names.add(parts[1])
        elif parts[0] == "both":
            role_names.update(parts[1:3])
        elif parts[0] in ("sum", "avg"):
            amounts.add((parts[1], parts[2]))
            role_names.add(parts[1])
    return sorted(role_names), sorted(amounts)


# A customer's slots (0: the period before; 1, 2, ...: the buckets of the period) are kept as
# bits, 63 to a BIGINT word, so one grouping by customer answers every group at once.
WORD_BITS = 63


def slot_count(spec: KpiSpec) -> int:
    """Slot 0 is the period before; slots 1..n the buckets of the period."""
    first = bucket_index(spec.interval, spec.start)
    return bucket_index(spec.interval, spec.end) - first + 2


def slot_masks(spec: KpiSpec) -> list[tuple[str, list[int]]]:
    """Each group's key and its bits in every word: the period, the one before, each bucket."""
    slots, first = slot_count(spec), bucket_index(spec.interval, spec.start)
    words = -(-slots // WORD_BITS)

    def mask(chosen: range) -> list[int]:
        bits = [0] * words
        for slot in chosen:
            bits[slot // WORD_BITS] |= 1 << (slot % WORD_BITS)
        return bits

    return [
        ("prev", mask(range(1))),
        ("cur", mask(range(1, slots))),
        *((f"b{first + slot - 1}", mask(range(slot, slot + 1))) for slot in range(1, slots)),
    ]


def simple_sql(spec: KpiSpec, roles: Mapping[str, Role], needed: set[str]) -> str:
    """One scan: each customer's slots of each role as bits (customers per group), and each
    slot's events and amounts (events per group)."""
    names, amounts = _simple_parts(needed)
    low = day_number(spec.start - spec.length) * US_PER_DAY
    cur = day_number(spec.start) * US_PER_DAY
    high = (day_number(spec.end) + 1) * US_PER_DAY
    bucket = {
        Interval.DAY: "day_n",
        Interval.WEEK: week_number("day_n"),
        Interval.MONTH: "month_n",
    }[spec.interval]
    before = bucket_index(spec.interval, spec.start) - 1
    masks = slot_masks(spec)
    words = len(masks[0][1])
    flags = "".join(f", {role_sql(roles[n])} AS r{i}" for i, n in enumerate(names))
    values = "".join(
        f", CASE WHEN {role_sql(roles[r])} THEN {amount_sql(p)} END AS v{i}"
        for i, (r, p) in enumerate(amounts)
    )
    keep = " OR ".join([activity_sql(), *(role_sql(roles[n]) for n in names)])
    flagged = [("act", "a"), *((f"r{i}", f"m{i}_") for i in range(len(names)))]
    bits = ", ".join(
        f"bit_or(CASE WHEN {flag}{'' if words == 1 else f' AND word = {w}'} THEN bit END) "
        f"AS {out}{w}"
        for flag, out in flagged
        for w in range(words)
    )

    def seen(out: str) -> str:
        return "(" + " OR ".join(f"{out}{w} & g.w{w} <> 0" for w in range(words)) + ")"

    both = _both_pairs(needed, names)
    # (expression, name, type) of each figure: per group from the bits, per slot from rows
    counted = [
        (f"sum(CASE WHEN {seen('a')} THEN 1 ELSE 0 END)", "active", "BIGINT"),
        *(
            (f"sum(CASE WHEN {seen(f'm{i}_')} THEN 1 ELSE 0 END)", f"customers{i}", "BIGINT")
            for i in range(len(names))
        ),
        *(
            (
                f"sum(CASE WHEN {seen(f'm{a}_')} AND {seen(f'm{b}_')} THEN 1 ELSE 0 END)",
                f"both{j}",
                "BIGINT",
            )
            for j, (a, b) in enumerate(both)
        ),
    ]
    summed = [
        *(
            (f"sum(CASE WHEN r{i} THEN 1 ELSE 0 END)", f"events{i}", "BIGINT")
            for i in range(len(names))
        ),
        *(
            figure
            for i in range(len(amounts))
            for figure in (
                (f"sum(v{i})", f"sum{i}", "DOUBLE"),
                (f"count(v{i})", f"count{i}", "BIGINT"),
            )
        ),
    ]

    def select(real: list[tuple[str, str, str]]) -> str:
        """Every figure, in the same order on both sides of the union: NULL where not real."""
        return ", ".join(
            f"CAST({sql if real is figures else 'NULL'} AS {kind}) AS {name}"
            for figures in (counted, summed)
            for sql, name, kind in figures
        )

    keys = ", ".join(
        f"({literal(key)}{''.join(f', CAST({m} AS BIGINT)' for m in mask)})" for key, mask in masks
    )
    columns = ", ".join(["k", *(f"w{w}" for w in range(words))])
    return (
        "WITH tagged AS MATERIALIZED (SELECT customer_id, "  # noqa: S608
        f"CASE WHEN ts >= {cur} THEN {bucket} - {before} ELSE 0 END AS slot, "
        f"{activity_sql()} AS act{flags}{values} "
        f"FROM events WHERE ts >= {low} AND ts < {high} AND ({keep})), "
        f"marked AS (SELECT *, CAST(1 AS BIGINT) << (slot % {WORD_BITS}) AS bit, "
        f"slot // {WORD_BITS} AS word FROM tagged), "
        f"per AS (SELECT customer_id, {bits} FROM marked GROUP BY customer_id), "
        f"grp AS (SELECT * FROM (VALUES {keys}) AS g({columns})) "
        f"SELECT 'group' AS kind, g.k, {select(counted)} "
        "FROM per CROSS JOIN grp AS g GROUP BY g.k "
        "UNION ALL SELECT 'slot' AS kind, CAST(slot AS VARCHAR) AS k, "
        f"{select(summed)} FROM tagged GROUP BY slot"
    )


def _both_pairs(needed: set[str], names: list[str]) -> list[tuple[int, int]]:
    pairs = []
    for measure in sorted(needed):
        parts = measure.split(":")
        if parts[0] == "both":
            pairs.append((names.index(parts[1]), names.index(parts[2])))
    return pairs


def _simple(
    engine: Engine,
    spec: KpiSpec,
    roles: Mapping[str, Role],
    needed: set[str],
    groups: Sequence[Group],
) -> dict[str, dict[str, float | None]]:
    names, amounts = _simple_parts(needed)
    both = [m for m in sorted(needed) if m.startswith("both:")]
    out = {g.key: _zeros(names, amounts, both) for g in groups}
    first = bucket_index(spec.interval, spec.start)
    # group -> each amount's sum and count, added up over the group's slots
    sums: dict[str, list[float]] = {key: [0.0] * len(amounts) for key in out}
    counts: dict[str, list[int]] = {key: [0] * len(amounts) for key in out}
    for row in engine.run(simple_sql(spec, roles, needed)):
        if row["kind"] == "group":
            figures = out[str(row["k"])]
            figures["active"] = row["active"]
            for i, name in enumerate(names):
                figures[f"customers:{name}"] = row[f"customers{i}"]
            for j, measure in enumerate(both):
                figures[measure] = row[f"both{j}"]
            continue
        slot = int(row["k"])
        for key in ("prev",) if slot == 0 else (f"b{first + slot - 1}", "cur"):
            figures = out[key]
            for i, name in enumerate(names):
                events = f"events:{name}"
                figures[events] = (figures[events] or 0) + row[f"events{i}"]
            for i in range(len(amounts)):
                sums[key][i] += row[f"sum{i}"] or 0.0
                counts[key][i] += row[f"count{i}"]
    for key, figures in out.items():
        for i, (role, prop) in enumerate(amounts):
            total, count = sums[key][i], counts[key][i]
            figures[f"sum:{role}:{prop}"] = total
            figures[f"avg:{role}:{prop}"] = total / count if count else None
    return out


def _zeros(
    names: list[str], amounts: list[tuple[str, str]], both: list[str]
) -> dict[str, float | None]:
    """The figures of a group without any event."""
    figures: dict[str, float | None] = {"active": 0}
    for name in names:
        figures[f"events:{name}"] = figures[f"customers:{name}"] = 0
    for role, prop in amounts:
        figures[f"sum:{role}:{prop}"] = 0.0
        figures[f"avg:{role}:{prop}"] = None
    for measure in both:
        figures[measure] = 0
    return figures


# -- 2. firsts ------------------------------------------------------------------------------


def _first_roles(needed: set[str]) -> list[str]:
    return sorted({m.split(":")[1] for m in needed if kind(m) in ("new", "ttf")})


def _groups_sql(groups: Sequence[Group]) -> str:
    rows = ", ".join(
        f"({literal(g.key)}, {day_number(g.start) * US_PER_DAY}, {day_number(g.stop) * US_PER_DAY})"
        for g in groups
    )
    return f"SELECT * FROM (VALUES {rows}) AS g(k, lo, hi)"  # noqa: S608


def firsts_sql(
    spec: KpiSpec, roles: Mapping[str, Role], needed: set[str], groups: Sequence[Group]
) -> str:
    names = _first_roles(needed)
    high = (day_number(spec.end) + 1) * US_PER_DAY
    # a customer's first action is needed for "known" and the time to first: without them
    # only the roles' events are read, not every action of the whole history
    first_action = bool({kind(m) for m in needed} & {"known", "ttf"})
    firsts = "".join(
        f", min(CASE WHEN {role_sql(roles[n])} THEN ts END) AS f{i}" for i, n in enumerate(names)
    )
    keep = " OR ".join(
        [*([activity_sql()] if first_action else []), *(role_sql(roles[n]) for n in names)]
    )
    counts = "".join(
        f", CAST(sum(CASE WHEN f.f{i} >= g.lo AND f.f{i} < g.hi THEN 1 ELSE 0 END) AS BIGINT) "
        f"AS new{i}"
        + (
            f", CAST(quantile_cont(CASE WHEN f.f{i} >= g.lo AND f.f{i} < g.hi "
            f"THEN f.f{i} - f.f_any END, 0.5) AS DOUBLE) AS ttf{i}"
            if first_action
            else f", CAST(NULL AS DOUBLE) AS ttf{i}"
        )
        for i in range(len(names))
    )
    known = (
        "CAST(sum(CASE WHEN f.f_any < g.hi THEN 1 ELSE 0 END) AS BIGINT)"
        if first_action
        else "CAST(NULL AS BIGINT)"
    )
    f_any = f"min(CASE WHEN {activity_sql()} THEN ts END)" if first_action else "NULL"
    return (
        f"WITH firsts AS (SELECT customer_id, {f_any} AS f_any{firsts} FROM events "  # noqa: S608
        f"WHERE ts < {high} AND ({keep or 'FALSE'}) GROUP BY customer_id), "
        f"grp AS ({_groups_sql(groups)}) "
        f"SELECT g.k, {known} AS known{counts} FROM firsts AS f CROSS JOIN grp AS g GROUP BY g.k"
    )


def _firsts(
    engine: Engine,
    spec: KpiSpec,
    roles: Mapping[str, Role],
    needed: set[str],
    groups: Sequence[Group],
) -> dict[str, dict[str, float | None]]:
    names = _first_roles(needed)
    zeros: dict[str, float | None] = {"known": 0}
    zeros.update({f"new:{n}": 0 for n in names})
    zeros.update({f"ttf:{n}": None for n in names})
    out: dict[str, dict[str, float | None]] = {g.key: dict(zeros) for g in groups}
    for row in engine.run(firsts_sql(spec, roles, needed, groups)):
        figures: dict[str, float | None] = {"known": row["known"]}
        for i, name in enumerate(names):
            figures[f"new:{name}"] = row[f"new{i}"]
            ttf = row[f"ttf{i}"]
            figures[f"ttf:{name}"] = None if ttf is None else ttf / 1_000_000
        out[str(row["k"])] = figures
    return out


# -- 3. activity ----------------------------------------------------------------------------


def activity_sql_for(spec: KpiSpec, groups: Sequence[Group]) -> str:
    low = (day_number(min(g.start for g in groups)) - 30) * US_PER_DAY
    high = (day_number(spec.end) + 1) * US_PER_DAY
    points = ", ".join(f"({literal(g.key)}, {day_number(g.stop)})" for g in groups)
    return (
        "WITH days AS (SELECT DISTINCT customer_id, day_n FROM events "  # noqa: S608
        f"WHERE ts >= {low} AND ts < {high} AND {activity_sql()}), "
        f"pts AS (SELECT * FROM (VALUES {points}) AS v(k, p)) "
        "SELECT 'daily' AS kind, CAST(day_n AS VARCHAR) AS k, CAST(count(*) AS BIGINT) AS n "
        "FROM days GROUP BY day_n UNION ALL "
        "SELECT 'wau' AS kind, v.k, CAST(count(DISTINCT d.customer_id) AS BIGINT) AS n "
        "FROM days AS d JOIN pts AS v ON d.day_n >= v.p - 7 AND d.day_n < v.p GROUP BY v.k "
        "UNION ALL SELECT 'mau' AS kind, v.k, CAST(count(DISTINCT d.customer_id) AS BIGINT) "
        "AS n FROM days AS d JOIN pts AS v ON d.day_n >= v.p - 30 AND d.day_n < v.p GROUP BY v.k"
    )


def _activity(
    engine: Engine, spec: KpiSpec, groups: Sequence[Group]
) -> dict[str, dict[str, float | None]]:
    daily: dict[int, int] = {}
    out: dict[str, dict[str, float | None]] = {g.key: {"wau": 0, "mau": 0} for g in groups}
    for row in engine.run(activity_sql_for(spec, groups)):
        if row["kind"] == "daily":
            daily[int(row["k"])] = int(row["n"])
        else:
            out[str(row["k"])][str(row["kind"])] = int(row["n"])
    for g in groups:
        first, stop = day_number(g.start), day_number(g.stop)
        days = stop - first
        out[g.key]["dau"] = (
            sum(daily.get(d, 0) for d in range(first, stop)) / days if days else None
        )
    return out


# -- 4. churn -------------------------------------------------------------------------------


def _churn(engine: Engine, spec: KpiSpec) -> dict[str, dict[str, float | None]]:
    interval = {Interval.WEEK: Period.WEEK, Interval.MONTH: Period.MONTH}.get(spec.interval)
    current = churn(
        engine,
        ChurnSpec(spec.start, spec.end, spec.churn_days, interval=interval, sample=0),
    )
    before = churn(
        engine,
        ChurnSpec(
            spec.start - spec.length, spec.start - timedelta(days=1), spec.churn_days, sample=0
        ),
    )
    out: dict[str, dict[str, float | None]] = {
        "cur": _churn_figures(current.overall.rate),
        "prev": _churn_figures(before.overall.rate),
    }
    for figure in current.series:
        out[f"b{bucket_index(spec.interval, figure.start)}"] = _churn_figures(figure.rate)
    return out


def _churn_figures(rate: float | None) -> dict[str, float | None]:
    return {"churn": rate, "retention": None if rate is None else 1.0 - rate}


def _spend(spend: Mapping[date, float], group: Group) -> float:
    return float(sum(v for d, v in spend.items() if group.start <= d < group.stop))
