"""Journey stages and milestones of customers, read from their events.

**Entering a stage.** A stage has entry rules, each an event :class:`Matcher` and a count n
(default 1). A customer *enters* the stage when one of its rules is first met: at the n-th
event matching the rule, events ordered by time and then by message id. Entry is read over the
customer's whole history, so "first" means first ever, and it is never undone.

**The current stage** of a customer at a moment is the furthest stage, in journey order, that
they had entered before that moment. Journey order decides, not the order in time: a customer
who wrote a review (Advocacy) before their first order (Purchase) is in Advocacy, and stays
there after the order. Stages may be skipped (an order taken by phone enters Purchase without
a website visit), and a customer never moves back to an earlier stage. A customer who has
entered no stage has no current stage and is not counted. Keeping the rule monotone makes
"customers per stage at the end of each week" a picture of progress that later events can
only move forward.

**Milestones** are reached at the n-th event matching their matcher.

Nothing is stored: every figure is read from the event files at query time, so an event that
arrives late (with a time earlier than events already loaded) moves an entry back to its own
time at the next query. Customers merged after the fact count once (``customer_id`` of the
``events`` relation is the profile they became), with the events of all their former ids.

All SQL here is DuckDB's dialect kept to what Spark SQL also runs
(:mod:`cxloop.analytics.portable`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from cxloop.analytics.portable import (
    Engine,
    Matcher,
    SpecError,
    check_days,
    day_start,
    literal,
    micros,
)

MAX_BUCKETS = 400
MAX_RULES = 400
_FAR = 2**62  # later than any event, in microseconds


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday-based
    MONTH = "month"


@dataclass(frozen=True)
class Rule:
    """Met at the ``count``-th event matching ``matcher``."""

    matcher: Matcher
    count: int = 1


@dataclass(frozen=True)
class Target:
    """A stage (met when any of its rules is) or a milestone (one rule)."""

    key: str
    rules: Sequence[Rule]


def check_targets(targets: Sequence[Target], path: str, *, required: bool = False) -> None:
    if required and not targets:
        raise SpecError(path, "give at least one")
    if sum(len(t.rules) for t in targets) > MAX_RULES:
        raise SpecError(path, f"at most {MAX_RULES} rules in all")
    for i, target in enumerate(targets):
        for j, rule in enumerate(target.rules):
            rule.matcher.check(f"{path}.{i}.rules.{j}")
            if rule.count < 1:
                raise SpecError(f"{path}.{i}.rules.{j}.count", "at least 1")


def next_boundary(day: date, interval: Interval) -> date:
    """The first day of the day, week or month after the one holding ``day``."""
    if interval is Interval.DAY:
        return day + timedelta(days=1)
    if interval is Interval.WEEK:
        return day + timedelta(days=7 - day.weekday())
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Range:
    """Days ``start`` to ``end`` (inclusive), cut into days, weeks or months; the first and
    last bucket are clipped to the range."""

    start: date
    end: date
    interval: Interval = Interval.WEEK

    def check(self) -> None:
        check_days(self.start, self.end)
        if len(self.edges) - 1 > MAX_BUCKETS:
            raise SpecError("interval", f"more than {MAX_BUCKETS} buckets; use a longer one")

    @property
    def edges(self) -> list[date]:
        """Bucket boundaries from ``start`` to the day after ``end``."""
        stop = self.end + timedelta(days=1)
        edges = [self.start]
        while edges[-1] < stop and len(edges) <= MAX_BUCKETS + 1:
            edges.append(min(next_boundary(edges[-1], self.interval), stop))
        return edges

    @property
    def buckets(self) -> list[tuple[date, date]]:
        """(first day, day after the last) of each bucket."""
        return list(pairwise(self.edges))

    def buckets_sql(self) -> str:
        rows = ", ".join(
            f"({i}, {micros(day_start(lo))}, {micros(day_start(hi))})"
            for i, (lo, hi) in enumerate(self.buckets)
        )
        return f"(SELECT * FROM (VALUES {rows}) AS b(i, lo, hi))"  # noqa: S608


# -- the first time each target is met ------------------------------------------------------


def _first_met_ctes(
    targets: Sequence[Target], until_us: int, customer: str | None = None, seq: bool = False
) -> list[str]:
    """CTEs ending in ``firsts(customer_id, target, t[, q])``: when each customer first met
    each target (``t``, microseconds), and with ``seq`` the position ``q`` of that event in
    the customer's ordered matching events. Matchers shared by several rules are evaluated
    once; running counts are kept only for matchers some rule needs more than once."""
    if not targets:
        raise ValueError("no stage or milestone to look for")
    matchers: dict[str, int] = {}
    counted: set[int] = set()
    for target in targets:
        for rule in target.rules:
            index = matchers.setdefault(rule.matcher.sql(), len(matchers))
            if rule.count > 1:
                counted.add(index)
    flags = "".join(f", {sql} AS m{i}" for sql, i in matchers.items())
    where = f"ts < {until_us} AND customer_id IS NOT NULL"
    if customer is not None:
        where += f" AND customer_id = {literal(customer)}"
    any_match = " OR ".join(matchers) or "FALSE"
    if not seq:
        return _first_met_grouped(targets, matchers, flags, where, any_match)
    order = "PARTITION BY customer_id ORDER BY ts, message_id"
    running = "".join(
        f", sum(CASE WHEN m{i} THEN 1 ELSE 0 END) OVER ({order} "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c{i}"
        for i in sorted(counted)
    )
    position = f", row_number() OVER ({order}) AS seq" if seq else ""
    met = []
    for k, target in enumerate(targets):
        conditions = [
            f"(m{matchers[r.matcher.sql()]}"
            + (f" AND c{matchers[r.matcher.sql()]} = {int(r.count)})" if r.count > 1 else ")")
            for r in target.rules
        ] or ["FALSE"]
        hit = " OR ".join(conditions)
        met.append(f"min(CASE WHEN {hit} THEN ts END) AS t{k}")
        if seq:
            met.append(f"min(CASE WHEN {hit} THEN seq END) AS q{k}")
    indexes = ", ".join(f"({k})" for k in range(len(targets)))
    pick_t = " ".join(f"WHEN {k} THEN w.t{k}" for k in range(len(targets)))
    pick_q = " ".join(f"WHEN {k} THEN w.q{k}" for k in range(len(targets)))
    cols = f"CASE v.k {pick_t} END AS t" + (f", CASE v.k {pick_q} END AS q" if seq else "")
    return [
        "base AS (SELECT customer_id, ts, message_id, type, "  # noqa: S608
        f"coalesce(event, name) AS label, channel{flags} FROM events "
        f"WHERE {where} AND ({any_match}))",
        f"ordered AS (SELECT *{running}{position} FROM base)",  # noqa: S608
        f"wide AS (SELECT customer_id, {', '.join(met)} FROM ordered GROUP BY customer_id)",  # noqa: S608
        f"firsts AS (SELECT * FROM (SELECT w.customer_id, v.k AS target, {cols} "  # noqa: S608
        f"FROM wide AS w CROSS JOIN (SELECT * FROM (VALUES {indexes}) AS x(k)) AS v) AS f "
        "WHERE t IS NOT NULL)",
    ]


def _first_met_grouped(
    targets: Sequence[Target], matchers: dict[str, int], flags: str, where: str, any_match: str
) -> list[str]:
    """:func:`_first_met_ctes` for every customer at once, without ordering their events:
    the first match of a rule is a minimum per customer, and only the events of a matcher
    some rule needs the n-th of (n > 1) are numbered, in their own, much smaller, sort."""
    counts: dict[int, set[int]] = {}
    plain: set[int] = set()
    for target in targets:
        for rule in target.rules:
            index = matchers[rule.matcher.sql()]
            if rule.count > 1:
                counts.setdefault(index, set()).add(int(rule.count))
            else:
                plain.add(index)
    order = "PARTITION BY customer_id ORDER BY ts, message_id"
    firsts = "".join(f", min(CASE WHEN m{i} THEN ts END) AS a{i}" for i in sorted(plain))
    ctes = [
        f"base AS (SELECT customer_id, ts, message_id{flags} FROM events "  # noqa: S608
        f"WHERE {where} AND ({any_match}))",
        f"plain AS (SELECT customer_id{firsts} FROM base GROUP BY customer_id)",  # noqa: S608
    ]
    joins = ""
    for i, wanted in sorted(counts.items()):
        nths = ", ".join(f"min(CASE WHEN c = {n} THEN ts END) AS n{i}_{n}" for n in sorted(wanted))
        ctes.append(
            f"nth{i} AS (SELECT customer_id, {nths} FROM (SELECT customer_id, ts, "  # noqa: S608
            f"row_number() OVER ({order}) AS c FROM base WHERE m{i}) AS r GROUP BY customer_id)"
        )
        joins += f" LEFT JOIN nth{i} AS x{i} ON x{i}.customer_id = p.customer_id"
    met = []
    for k, target in enumerate(targets):
        times = list(
            dict.fromkeys(
                f"x{matchers[r.matcher.sql()]}.n{matchers[r.matcher.sql()]}_{int(r.count)}"
                if r.count > 1
                else f"p.a{matchers[r.matcher.sql()]}"
                for r in target.rules
            )
        )
        if not times:
            met.append(f"CAST(NULL AS BIGINT) AS t{k}")
        else:
            met.append((f"least({', '.join(times)})" if len(times) > 1 else times[0]) + f" AS t{k}")
    indexes = ", ".join(f"({k})" for k in range(len(targets)))
    pick_t = " ".join(f"WHEN {k} THEN w.t{k}" for k in range(len(targets)))
    ctes += [
        f"wide AS (SELECT p.customer_id, {', '.join(met)} FROM plain AS p{joins})",  # noqa: S608
        f"firsts AS (SELECT * FROM (SELECT w.customer_id, v.k AS target, CASE v.k {pick_t} END "  # noqa: S608
        f"AS t FROM wide AS w CROSS JOIN (SELECT * FROM (VALUES {indexes}) AS x(k)) AS v) AS f "
        "WHERE t IS NOT NULL)",
    ]
    return ctes


# -- placement of every customer ------------------------------------------------------------


@dataclass
class Placement:
    customer_id: str
    stage: int  # the current stage (index in journey order)
    entered: dict[int, int]  # stage index -> entry time in microseconds


def placements_sql(stages: Sequence[Target], until: datetime) -> str:
    check_targets(stages, "stages", required=True)
    ctes = _first_met_ctes(stages, micros(until))
    return (
        "WITH " + ", ".join(ctes) + " SELECT customer_id, CAST(target AS BIGINT) AS stage, "  # noqa: S608
        "CAST(t AS BIGINT) AS t FROM firsts"
    )


def placements(engine: Engine, stages: Sequence[Target], until: datetime) -> list[Placement]:
    """Every customer who entered a stage before ``until``: current stage and entry times,
    by customer id."""
    found: dict[str, Placement] = {}
    for row in engine.run(placements_sql(stages, until)):
        who, stage = str(row["customer_id"]), int(row["stage"])
        item = found.setdefault(who, Placement(who, stage, {}))
        item.entered[stage] = int(row["t"])
        item.stage = max(item.stage, stage)
    return [found[k] for k in sorted(found)]


# -- stage distribution over time -----------------------------------------------------------


@dataclass(frozen=True)
class DistributionSpec:
    stages: Sequence[Target]
    range: Range
    now: datetime  # the moment of the current totals

    def check(self) -> None:
        check_targets(self.stages, "stages", required=True)
        self.range.check()

    @property
    def until(self) -> datetime:
        return max(self.now, day_start(self.range.end + timedelta(days=1)))


@dataclass
class StageCount:
    stage: int
    customers: int  # whose current stage this is
    entered: int = 0  # who entered it during the bucket


@dataclass
class Snapshot:
    start: date | None  # the bucket (None for the current totals)
    end: date | None  # exclusive: the counts are at the start of this day
    customers: int  # with a current stage
    stages: list[StageCount]


@dataclass
class Distribution:
    series: list[Snapshot]
    current: Snapshot


def distribution_sql(spec: DistributionSpec) -> str:
    spec.check()
    edges = spec.range.edges
    ends = [micros(day_start(d)) for d in edges[1:]] + [micros(spec.now)]
    points = ", ".join(f"({i}, {p})" for i, p in enumerate(ends))
    ctes = _first_met_ctes(spec.stages, micros(spec.until))
    # each entry that changes nothing still has a row; the state at p is the row with the
    # latest t before p, i.e. t < p <= next t
    ctes.append(
        "moves AS (SELECT customer_id, target, t, max(target) OVER (PARTITION BY customer_id "  # noqa: S608
        "ORDER BY t, target ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cur, "
        f"coalesce(lead(t) OVER (PARTITION BY customer_id ORDER BY t, target), {_FAR}) AS nxt "
        "FROM firsts)"
    )
    ctes.append(f"pts AS (SELECT * FROM (VALUES {points}) AS p(i, p))")  # noqa: S608
    return (
        "WITH " + ", ".join(ctes) + " SELECT 'at' AS kind, CAST(p.i AS BIGINT) AS i, "  # noqa: S608
        "CAST(m.cur AS BIGINT) AS stage, CAST(count(*) AS BIGINT) AS n FROM moves AS m "
        "JOIN pts AS p ON m.t < p.p AND m.nxt >= p.p GROUP BY p.i, m.cur UNION ALL "
        "SELECT 'entered' AS kind, CAST(b.i AS BIGINT) AS i, CAST(f.target AS BIGINT) AS stage, "
        f"CAST(count(*) AS BIGINT) AS n FROM firsts AS f JOIN {spec.range.buckets_sql()} AS b "
        "ON f.t >= b.lo AND f.t < b.hi GROUP BY b.i, f.target"
    )


def distribution(engine: Engine, spec: DistributionSpec) -> Distribution:
    """Customers per current stage at the end of each bucket, and now; one query."""
    return assemble_distribution(spec, engine.run(distribution_sql(spec)))


def assemble_distribution(
    spec: DistributionSpec, rows: Sequence[Mapping[str, Any]]
) -> Distribution:
    at: dict[tuple[int, int], int] = {}
    entered: dict[tuple[int, int], int] = {}
    for row in rows:
        bucket = at if row["kind"] == "at" else entered
        bucket[(int(row["i"]), int(row["stage"]))] = int(row["n"])
    n = len(spec.stages)

    def snapshot(i: int, start: date | None, end: date | None) -> Snapshot:
        counts = [StageCount(s, at.get((i, s), 0), entered.get((i, s), 0)) for s in range(n)]
        return Snapshot(start, end, sum(c.customers for c in counts), counts)

    series = [snapshot(i, lo, hi) for i, (lo, hi) in enumerate(spec.range.buckets)]
    return Distribution(series, snapshot(len(series), None, None))


# -- milestones -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneSpec:
    milestones: Sequence[Target]
    range: Range

    def check(self) -> None:
        check_targets(self.milestones, "milestones")
        self.range.check()


@dataclass
class MilestoneCount:
    start: date
    end: date  # exclusive
    reached: int


@dataclass
class MilestoneFigures:
    milestone: int
    reached_before: int  # customers who had reached it before the range
    reached: int  # in the range
    series: list[MilestoneCount] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Customers who had reached it by the end of the range."""
        return self.reached_before + self.reached


def milestones_sql(spec: MilestoneSpec) -> str:
    spec.check()
    low = micros(day_start(spec.range.start))
    ctes = _first_met_ctes(spec.milestones, micros(day_start(spec.range.edges[-1])))
    return (
        "WITH " + ", ".join(ctes) + " SELECT CAST(b.i AS BIGINT) AS i, "  # noqa: S608
        "CAST(f.target AS BIGINT) AS target, CAST(count(*) AS BIGINT) AS n FROM firsts AS f "
        f"JOIN {spec.range.buckets_sql()} AS b ON f.t >= b.lo AND f.t < b.hi "
        "GROUP BY b.i, f.target UNION ALL SELECT CAST(-1 AS BIGINT) AS i, "
        "CAST(target AS BIGINT) AS target, CAST(count(*) AS BIGINT) AS n FROM firsts "
        f"WHERE t < {low} GROUP BY target"
    )


def milestones(engine: Engine, spec: MilestoneSpec) -> list[MilestoneFigures]:
    """Customers reaching each milestone per bucket, and before the range; one query."""
    if not spec.milestones:
        spec.check()
        return []
    counts = {
        (int(r["i"]), int(r["target"])): int(r["n"]) for r in engine.run(milestones_sql(spec))
    }
    figures = []
    for k in range(len(spec.milestones)):
        series = [
            MilestoneCount(lo, hi, counts.get((i, k), 0))
            for i, (lo, hi) in enumerate(spec.range.buckets)
        ]
        reached = sum(c.reached for c in series)
        figures.append(MilestoneFigures(k, counts.get((-1, k), 0), reached, series))
    return figures


# -- one customer ---------------------------------------------------------------------------


@dataclass
class Hit:
    """The event that placed a customer in a stage or made them reach a milestone."""

    target: int
    ts: int  # microseconds since the epoch
    message_id: str
    type: str
    name: str | None
    channel: str | None


@dataclass
class CustomerJourney:
    stage: int | None  # the current stage
    entries: list[Hit]  # by time of entry
    milestones: list[Hit]  # by time reached


def customer_sql(
    stages: Sequence[Target], milestones: Sequence[Target], customer: str, until: datetime
) -> str:
    check_targets(stages, "stages", required=True)
    check_targets(milestones, "milestones")
    ctes = _first_met_ctes([*stages, *milestones], micros(until), customer=customer, seq=True)
    return (
        "WITH " + ", ".join(ctes) + " SELECT CAST(f.target AS BIGINT) AS target, "  # noqa: S608
        "CAST(o.ts AS BIGINT) AS ts, o.message_id, o.type, o.label, o.channel FROM firsts AS f "
        "JOIN ordered AS o ON o.customer_id = f.customer_id AND o.seq = f.q"
    )


def customer_journey(
    engine: Engine,
    stages: Sequence[Target],
    milestones: Sequence[Target],
    customer: str,
    until: datetime,
) -> CustomerJourney:
    """When one customer entered each stage and reached each milestone, with the events."""
    hits = [
        Hit(
            int(r["target"]),
            int(r["ts"]),
            str(r["message_id"]),
            str(r["type"]),
            r["label"],
            r["channel"],
        )
        for r in engine.run(customer_sql(stages, milestones, customer, until))
    ]
    hits.sort(key=lambda h: (h.ts, h.target))
    n = len(stages)
    entries = [h for h in hits if h.target < n]
    reached = [Hit(h.target - n, h.ts, h.message_id, h.type, h.name, h.channel) for h in hits]
    return CustomerJourney(
        stage=max((h.target for h in entries), default=None),
        entries=entries,
        milestones=[h for h in reached if h.target >= 0],
    )
