"""Compute a KPI pack: every measure its formulas need, for the period, the period before
it (same length) and each day, week or month of the period, in a few queries.

1. *Simple* measures (events, customers, sums, both roles, active): one scan
   (:mod:`cxloop.analytics.kpis.scan`). Grouped per
   customer, the slots (the period before, each bucket of the period) in which a customer
   did each thing become bits, so a customer counts once per group however many events they
   have, and one grouping by customer serves every group; grouped per slot, the same rows
   give the events and amounts of each bucket, summed into the period's.
2. *Firsts* (new, known, time to first): each customer's first action and first event of
   each role over the whole history up to the period's end, counted per group; from the
   customer-event index where there is one (the rows of the roles' events only).
3. *Activity* (DAU, WAU, MAU): distinct active customers per day and in the 7 / 30 days
   before each group's end.
4. *Churn*: :func:`cxloop.analytics.retention.churn` for the period (with its series) and
   for the period before.

Spend comes from the caller (it lives in the operational store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cxloop.analytics.events import Indexed
from cxloop.analytics.kpis.definitions import Kpi
from cxloop.analytics.kpis.formulas import evaluate, kind, measures_of
from cxloop.analytics.kpis.roles import Role, resolve, role_sql
from cxloop.analytics.kpis.scan import simple
from cxloop.analytics.kpis.spec import (
    Group,
    Interval,
    KpiSpec,
    bucket_index,
    buckets,
    periods,
)
from cxloop.analytics.portable import (
    US_PER_DAY,
    Engine,
    activity_sql,
    customer_days_sql,
    day_number,
    index_activity_sql,
    index_holds,
    index_match,
    literal,
)
from cxloop.analytics.retention import ChurnSpec, Period, churn


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
        _merge(figures, simple(engine, spec, roles, needed, groups))
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
    spec: KpiSpec,
    roles: Mapping[str, Role],
    needed: set[str],
    groups: Sequence[Group],
    index: Indexed | None = None,
) -> str:
    """Each customer's first action and first event of each role, counted per group; with
    ``index``, the firsts come from ``event_times`` (see :func:`indexable`): the rows of
    the roles' events only, one per customer and event, instead of every event."""
    names = _first_roles(needed)
    high = (day_number(spec.end) + 1) * US_PER_DAY
    # a customer's first action is needed for "known" and the time to first: without them
    # only the roles' events are read, not every action of the whole history
    first_action = bool({kind(m) for m in needed} & {"known", "ttf"})
    if index is None:
        activity, source = activity_sql(), f"events WHERE ts < {high} AND "

        def matches(name: str) -> str:
            return role_sql(roles[name])

        def first(condition: str) -> str:
            return f"min(CASE WHEN {condition} THEN ts END)"
    else:
        activity, source = index_activity_sql(), "event_times WHERE "
        whole = index.span is not None and index.span[1] < high
        times = "times" if whole else f"list_filter(times, lambda t: t < {high})"

        def matches(name: str) -> str:
            return "(" + " OR ".join(index_match(m) for m in roles[name]) + ")"

        def first(condition: str) -> str:
            return f"min(CASE WHEN {condition} THEN list_min({times}) END)"

    firsts = "".join(f", {first(matches(n))} AS f{i}" for i, n in enumerate(names))
    keep = " OR ".join([*([activity] if first_action else []), *(matches(n) for n in names)])
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
    f_any = first(activity) if first_action else "NULL"
    return (
        f"WITH firsts AS (SELECT customer_id, {f_any} AS f_any{firsts} "  # noqa: S608
        f"FROM {source}({keep or 'FALSE'}) GROUP BY customer_id), "
        f"grp AS ({_groups_sql(groups)}) "
        f"SELECT g.k, {known} AS known{counts} FROM firsts AS f CROSS JOIN grp AS g GROUP BY g.k"
    )


def indexable(roles: Mapping[str, Role], needed: set[str]) -> bool:
    """Whether the customer-event index can give the firsts: roles named by type and event
    only (a property filter or a channel needs the events)."""
    return all(index_holds(m) for n in _first_roles(needed) for m in roles[n])


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
    index = engine.index if indexable(roles, needed) else None
    for row in engine.run(firsts_sql(spec, roles, needed, groups, index)):
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
    days = customer_days_sql(f"ts >= {low} AND ts < {high} AND {activity_sql()}")
    return (
        f"WITH days AS ({days}), "  # noqa: S608
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
