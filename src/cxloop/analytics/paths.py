"""Paths: where customers go next after an anchor (or where they came from before it).

Each event of the range ``[start, end]`` (whole UTC days) becomes a **node**: the first
touchpoint of the journey it meets, in journey order (events that meet none are left out),
or, without a journey, its event name (``page: Name`` / ``screen: Name`` for pages and
screens; identify, alias and group calls are not actions). A customer's **anchor** is their
first event in the range that matches the anchor (a touchpoint, or an event matcher). From
there their nodes are read forwards (``next``) or backwards (``previous``), a run of the same
node counts as one step (the anchor's own node included), and steps 1..``steps`` are kept.

For each step the nodes are counted in customers (each customer is in one node per step,
and a customer whose path ends earlier is in none); the ``top`` nodes of each step keep
their name and the rest are summed as ``(other)``. The Sankey links count the customers
going from a node of step k-1 to a node of step k, with both ends grouped the same way.
Shares are of the customers who had the anchor. A merged customer counts once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from cxloop.analytics.portable import (
    US_PER_DAY,
    Engine,
    Matcher,
    SpecError,
    activity_sql,
    check_days,
    day_start,
    literal,
    micros,
)

MAX_STEPS = 5
MAX_TOP = 20
MAX_DAYS = 3 * 366
OTHER = "(other)"


class Direction(StrEnum):
    NEXT = "next"
    PREVIOUS = "previous"


@dataclass(frozen=True)
class Node:
    """A touchpoint as a node: its key and the SQL condition of meeting it."""

    key: str
    condition: str


@dataclass(frozen=True)
class PathSpec:
    """``nodes`` are the journey's touchpoints in order, or None for event names.
    ``anchor`` is a touchpoint key (with nodes) or a matcher."""

    anchor: str | Matcher
    start: date
    end: date  # inclusive
    nodes: Sequence[Node] | None = None
    direction: Direction = Direction.NEXT
    steps: int = 3
    top: int = 5

    def check(self) -> None:
        if isinstance(self.anchor, Matcher):
            self.anchor.check("anchor")
        elif self.nodes is None:
            raise SpecError("anchor", "a touchpoint key needs a journey; give an event matcher")
        elif self.anchor not in {n.key for n in self.nodes}:
            raise SpecError("anchor", f"the journey has no touchpoint {self.anchor!r}")
        if not 1 <= self.steps <= MAX_STEPS:
            raise SpecError("steps", f"between 1 and {MAX_STEPS}")
        if not 1 <= self.top <= MAX_TOP:
            raise SpecError("top", f"between 1 and {MAX_TOP}")
        check_days(self.start, self.end)
        if (self.end - self.start).days >= MAX_DAYS:
            raise SpecError("to", f"a range of at most {MAX_DAYS} days")

    @property
    def label(self) -> str:
        """The anchor's name: its touchpoint key, or the matcher's event (or type)."""
        if isinstance(self.anchor, Matcher):
            return anchor_label(self.anchor)
        return self.anchor


def anchor_label(matcher: Matcher) -> str:
    if matcher.type == "track":
        return matcher.event or "track"
    return f"{matcher.type}: {matcher.event}" if matcher.event else matcher.type


@dataclass
class Item:
    key: str
    customers: int
    share: float | None


@dataclass
class Step:
    step: int
    customers: int  # customers with a step this far
    share: float | None
    items: list[Item]  # the top nodes, most customers first, then (other)
    other_keys: int = 0  # how many distinct nodes (other) stands for


@dataclass
class SankeyNode:
    id: str
    step: int
    key: str


@dataclass
class SankeyLink:
    source: int  # index into nodes
    target: int
    value: int


@dataclass
class PathResult:
    anchor: str
    direction: Direction
    customers: int  # customers who had the anchor
    steps: list[Step]
    nodes: list[SankeyNode] = field(default_factory=list)
    links: list[SankeyLink] = field(default_factory=list)


def node_sql(spec: PathSpec) -> str:
    """The node of an event, NULL when it is none."""
    if spec.nodes is None:
        return (
            f"CASE WHEN NOT {activity_sql()} THEN NULL WHEN type = 'track' THEN event "
            "WHEN name IS NULL THEN type ELSE concat(type, ': ', name) END"
        )
    if not spec.nodes:
        return "CAST(NULL AS VARCHAR)"
    whens = " ".join(f"WHEN {n.condition} THEN {literal(n.key)}" for n in spec.nodes)
    return f"CASE {whens} END"


def anchor_sql(spec: PathSpec) -> str:
    if isinstance(spec.anchor, Matcher):
        return spec.anchor.sql()
    return next(n.condition for n in spec.nodes or () if n.key == spec.anchor)


def path_sql(spec: PathSpec) -> str:
    """Customers per (step, node before, node): one statement, DuckDB and Spark alike."""
    spec.check()
    low = micros(day_start(spec.start))
    high = low + ((spec.end - spec.start).days + 1) * US_PER_DAY
    forward = spec.direction is Direction.NEXT
    order = "rn" if forward else "rn DESC"
    side = ">=" if forward else "<="
    # the anchor's own node starts the run: a touchpoint anchor is that touchpoint, and an
    # event anchor is what its event is (its name, or the touchpoint it meets)
    first_node = (
        literal(spec.anchor)
        if isinstance(spec.anchor, str)
        else f"coalesce(s.node, {literal(spec.label)})"
    )
    ctes = [
        f"base AS (SELECT customer_id, ts, message_id, {node_sql(spec)} AS node, "  # noqa: S608
        f"{anchor_sql(spec)} AS is_anchor FROM events WHERE ts >= {low} AND ts < {high})",
        "seq AS (SELECT customer_id, node, is_anchor, row_number() OVER "
        "(PARTITION BY customer_id ORDER BY ts, message_id) AS rn FROM base "
        "WHERE node IS NOT NULL OR is_anchor)",
        "anchored AS (SELECT customer_id, min(rn) AS arn FROM seq WHERE is_anchor "
        "GROUP BY customer_id)",
        f"side AS (SELECT s.customer_id, s.rn, CASE WHEN s.rn = f.arn THEN {first_node} "  # noqa: S608
        "ELSE s.node END AS node FROM seq AS s JOIN anchored AS f "
        f"ON f.customer_id = s.customer_id WHERE s.rn {side} f.arn "
        "AND (s.node IS NOT NULL OR s.rn = f.arn))",
        f"marked AS (SELECT customer_id, rn, node, lag(node) OVER (PARTITION BY customer_id "  # noqa: S608
        f"ORDER BY {order}) AS before FROM side)",
        "kept AS (SELECT customer_id, rn, node FROM marked WHERE before IS NULL OR node <> before)",
        f"numbered AS (SELECT customer_id, node, lag(node) OVER (PARTITION BY customer_id "  # noqa: S608
        f"ORDER BY {order}) AS prev, row_number() OVER (PARTITION BY customer_id "
        f"ORDER BY {order}) - 1 AS step FROM kept)",
    ]
    return (
        "WITH " + ", ".join(ctes) + " SELECT CAST(step AS BIGINT) AS step, prev, node, "  # noqa: S608
        f"count(*) AS customers FROM numbered WHERE step BETWEEN 1 AND {int(spec.steps)} "
        "GROUP BY step, prev, node UNION ALL SELECT CAST(0 AS BIGINT) AS step, "
        "CAST(NULL AS VARCHAR) AS prev, CAST(NULL AS VARCHAR) AS node, count(*) AS customers "
        "FROM anchored"
    )


def run(engine: Engine, spec: PathSpec) -> PathResult:
    return assemble(spec, engine.run(path_sql(spec)))


def assemble(spec: PathSpec, rows: Sequence[Mapping[str, Any]]) -> PathResult:
    """Steps with their top nodes and ``(other)``, and the Sankey of the same buckets."""
    anchored = next((int(r["customers"]) for r in rows if r["step"] == 0), 0)
    per_step: dict[int, dict[str, int]] = {}
    for row in rows:
        if row["step"]:
            counts = per_step.setdefault(int(row["step"]), {})
            counts[row["node"]] = counts.get(row["node"], 0) + int(row["customers"])
    kept: dict[int, set[str]] = {}
    steps = []
    for k in range(1, spec.steps + 1):
        counts = per_step.get(k, {})
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        top, rest = ranked[: spec.top], ranked[spec.top :]
        kept[k] = {key for key, _ in top}
        items = [Item(key, n, _share(n, anchored)) for key, n in top]
        if rest:
            n = sum(v for _, v in rest)
            items.append(Item(OTHER, n, _share(n, anchored)))
        total = sum(counts.values())
        steps.append(Step(k, total, _share(total, anchored), items, len(rest)))
    result = PathResult(spec.label, spec.direction, anchored, steps)
    if anchored:
        _sankey(spec, result, rows, kept)
    return result


def _sankey(
    spec: PathSpec, result: PathResult, rows: Sequence[Mapping[str, Any]], kept: dict[int, set[str]]
) -> None:
    index: dict[tuple[int, str], int] = {}

    def node(step: int, key: str) -> int:
        if step == 0:
            key = spec.label
        elif key not in kept[step]:
            key = OTHER
        if (step, key) not in index:
            index[(step, key)] = len(result.nodes)
            result.nodes.append(SankeyNode(f"{step}:{key}", step, key))
        return index[(step, key)]

    node(0, spec.label)
    for step in result.steps:  # nodes in step order, most customers first
        for item in step.items:
            if item.key != OTHER:
                node(step.step, item.key)
        if step.other_keys:
            node(step.step, OTHER)
    links: dict[tuple[int, int], int] = {}
    for row in rows:
        k = int(row["step"])
        if k == 0:
            continue
        pair = (node(k - 1, row["prev"]), node(k, row["node"]))
        links[pair] = links.get(pair, 0) + int(row["customers"])
    result.links = [
        SankeyLink(s, t, v) for (s, t), v in sorted(links.items(), key=lambda kv: kv[0])
    ]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
