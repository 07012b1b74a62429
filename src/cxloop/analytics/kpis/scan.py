"""The simple measures of a KPI pack (events, customers, sums, both roles, active) in one
scan of the period and the period before it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cxloop.analytics.kpis.roles import Role, amount_sql, role_sql
from cxloop.analytics.kpis.spec import Group, Interval, KpiSpec, bucket_index
from cxloop.analytics.portable import (
    US_PER_DAY,
    Engine,
    activity_sql,
    day_number,
    literal,
    week_number,
)


@dataclass(frozen=True)
class _Scan:
    """What the one scan computes: the roles it flags (``r0``, ``r1``, ...), those whose
    customers are counted per group and those whose events are counted per slot (indexes
    into ``roles``), the amounts summed, the ``both:`` measures with their pair of roles and
    whether the active customers are counted."""

    roles: list[str]
    counted: list[int]
    tallied: list[int]
    amounts: list[tuple[str, str]]
    both: list[tuple[str, int, int]]
    active: bool

    @property
    def per_customer(self) -> bool:
        return self.active or bool(self.counted)

    @property
    def per_slot(self) -> bool:
        return bool(self.tallied or self.amounts)


def _scan(needed: set[str]) -> _Scan:
    counted: set[str] = set()
    tallied: set[str] = set()
    amounts: set[tuple[str, str]] = set()
    pairs: list[tuple[str, str, str]] = []
    for measure in sorted(needed):
        parts = measure.split(":")
        if parts[0] == "customers":
            counted.add(parts[1])
        elif parts[0] == "events":
            tallied.add(parts[1])
        elif parts[0] == "both":
            counted.update(parts[1:3])
            pairs.append((measure, parts[1], parts[2]))
        elif parts[0] in ("sum", "avg"):
            amounts.add((parts[1], parts[2]))
    roles = sorted(counted | tallied)
    return _Scan(
        roles=roles,
        counted=[roles.index(r) for r in sorted(counted)],
        tallied=[roles.index(r) for r in sorted(tallied)],
        amounts=sorted(amounts),
        both=[(measure, roles.index(a), roles.index(b)) for measure, a, b in pairs],
        active="active" in needed,
    )


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
    slot's events and amounts (events per group). The bits are grouped by profile, then by
    customer through the merge map.

    Every event of the range is read and flagged, none filtered out: the flags cost less in
    the projection than the same conditions as a filter, which DuckDB pushes into the scan
    (``bench/analytics.py``: 15% of the query), and an action is most of the events anyway.
    Only the flags, bits and sums that ``needed`` names are computed."""
    scan = _scan(needed)
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
    act = f", {activity_sql()} AS act" if scan.active else ""
    flags = "".join(f", {role_sql(roles[n])} AS r{i}" for i, n in enumerate(scan.roles))
    values = "".join(
        f", CASE WHEN {role_sql(roles[r])} THEN {amount_sql(p)} END AS v{i}"
        for i, (r, p) in enumerate(scan.amounts)
    )
    flagged = [
        *([("act", "a")] if scan.active else []),
        *((f"r{i}", f"m{i}_") for i in scan.counted),
    ]
    bits = ", ".join(
        f"bit_or(CASE WHEN {flag}{'' if words == 1 else f' AND word = {w}'} THEN bit END) "
        f"AS {out}{w}"
        for flag, out in flagged
        for w in range(words)
    )

    # the bits of a customer's profiles, together (the merge map is applied to the profiles'
    # rows, not to every event: 0.40 s against 0.46 s on the bench's 16,000 merged profiles)
    merged = ", ".join(f"bit_or({out}{w}) AS {out}{w}" for _, out in flagged for w in range(words))

    def seen(out: str) -> str:
        return "(" + " OR ".join(f"{out}{w} & g.w{w} <> 0" for w in range(words)) + ")"

    # (expression, name, type) of each figure: per group from the bits, per slot from rows
    counted = [
        *(
            [(f"sum(CASE WHEN {seen('a')} THEN 1 ELSE 0 END)", "active", "BIGINT")]
            if scan.active
            else []
        ),
        *(
            (f"sum(CASE WHEN {seen(f'm{i}_')} THEN 1 ELSE 0 END)", f"customers{i}", "BIGINT")
            for i in scan.counted
        ),
        *(
            (
                f"sum(CASE WHEN {seen(f'm{a}_')} AND {seen(f'm{b}_')} THEN 1 ELSE 0 END)",
                f"both{j}",
                "BIGINT",
            )
            for j, (_, a, b) in enumerate(scan.both)
        ),
    ]
    summed = [
        *((f"sum(CASE WHEN r{i} THEN 1 ELSE 0 END)", f"events{i}", "BIGINT") for i in scan.tallied),
        *(
            figure
            for i in range(len(scan.amounts))
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
    twice = scan.per_customer and scan.per_slot
    ctes = [
        f"tagged AS {'MATERIALIZED ' if twice else ''}(SELECT profile_id, "  # noqa: S608
        f"CASE WHEN ts >= {cur} THEN {bucket} - {before} ELSE 0 END AS slot"
        f"{act}{flags}{values} FROM profile_events WHERE ts >= {low} AND ts < {high})"
    ]
    parts = []
    if scan.per_customer:
        ctes += [
            f"marked AS (SELECT *, CAST(1 AS BIGINT) << (slot % {WORD_BITS}) AS bit, "  # noqa: S608
            f"slot // {WORD_BITS} AS word FROM tagged)",
            f"by_profile AS (SELECT profile_id, {bits} FROM marked GROUP BY profile_id)",  # noqa: S608
            f"per AS (SELECT coalesce(m.into_id, p.profile_id) AS customer_id, {merged} "  # noqa: S608
            "FROM by_profile AS p LEFT JOIN merge_map AS m ON m.from_id = p.profile_id "
            "GROUP BY coalesce(m.into_id, p.profile_id))",
            f"grp AS (SELECT * FROM (VALUES {keys}) AS g({columns}))",  # noqa: S608
        ]
        parts.append(
            f"SELECT 'group' AS kind, g.k, {select(counted)} "  # noqa: S608
            "FROM per CROSS JOIN grp AS g GROUP BY g.k"
        )
    if scan.per_slot:
        parts.append(
            "SELECT 'slot' AS kind, CAST(slot AS VARCHAR) AS k, "  # noqa: S608
            f"{select(summed)} FROM tagged GROUP BY slot"
        )
    return f"WITH {', '.join(ctes)} {' UNION ALL '.join(parts)}"


def simple(
    engine: Engine,
    spec: KpiSpec,
    roles: Mapping[str, Role],
    needed: set[str],
    groups: Sequence[Group],
) -> dict[str, dict[str, float | None]]:
    scan = _scan(needed)
    out = {g.key: _zeros(scan) for g in groups}
    first = bucket_index(spec.interval, spec.start)
    # group -> each amount's sum and count, added up over the group's slots
    sums: dict[str, list[float]] = {key: [0.0] * len(scan.amounts) for key in out}
    counts: dict[str, list[int]] = {key: [0] * len(scan.amounts) for key in out}
    if not (scan.per_customer or scan.per_slot):
        return out
    for row in engine.run(simple_sql(spec, roles, needed)):
        if row["kind"] == "group":
            figures = out[str(row["k"])]
            if scan.active:
                figures["active"] = row["active"]
            for i in scan.counted:
                figures[f"customers:{scan.roles[i]}"] = row[f"customers{i}"]
            for j, (measure, _, _) in enumerate(scan.both):
                figures[measure] = row[f"both{j}"]
            continue
        slot = int(row["k"])
        for key in ("prev",) if slot == 0 else (f"b{first + slot - 1}", "cur"):
            figures = out[key]
            for i in scan.tallied:
                events = f"events:{scan.roles[i]}"
                figures[events] = (figures[events] or 0) + row[f"events{i}"]
            for i in range(len(scan.amounts)):
                sums[key][i] += row[f"sum{i}"] or 0.0
                counts[key][i] += row[f"count{i}"]
    for key, figures in out.items():
        for i, (role, prop) in enumerate(scan.amounts):
            total, count = sums[key][i], counts[key][i]
            figures[f"sum:{role}:{prop}"] = total
            figures[f"avg:{role}:{prop}"] = total / count if count else None
    return out


def _zeros(scan: _Scan) -> dict[str, float | None]:
    """The figures of a group without any event."""
    figures: dict[str, float | None] = {"active": 0} if scan.active else {}
    for i in scan.counted:
        figures[f"customers:{scan.roles[i]}"] = 0
    for i in scan.tallied:
        figures[f"events:{scan.roles[i]}"] = 0
    for role, prop in scan.amounts:
        figures[f"sum:{role}:{prop}"] = 0.0
        figures[f"avg:{role}:{prop}"] = None
    for measure, _, _ in scan.both:
        figures[measure] = 0
    return figures
