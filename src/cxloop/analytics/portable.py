"""One SQL text for DuckDB and Spark: the engines, the ``events`` relation, and the SQL kit.

Funnels, retention, churn, paths and KPIs are written once, as SQL in DuckDB's dialect kept
to what Spark SQL also has (window frames, ``GROUPING SETS``, ``FILTER``, ``min_by``,
JSON paths), over one relation ``events``. The DuckDB engine runs that text as it is; the
Spark engine translates it with sqlglot and swaps the two constructs whose translation would
change the answer (exact percentiles become Spark's exact ``percentile``). Every engine gives
``events`` the same extra columns, so the queries do no engine-specific time arithmetic:

- ``customer_id``: ``profile_id`` mapped through the merge map (a merged customer counts once;
  ``profile_events`` is the same relation without it, for a query that groups by profile
  first and maps the groups);
- ``ts``: the event time in microseconds since the epoch (UTC), a BIGINT;
- ``day_n``: days since 1970-01-01 (UTC); ``month_n``: ``year * 12 + month - 1``.

Results hold only integers, floats, strings and NULLs, so both engines' answers compare equal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import sqlglot
from sqlglot import exp

from cxloop.analytics import events as store

US_PER_DAY = 86_400_000_000
# the days a query may name: far beyond any event, and far enough from the calendar's ends
# that a period before or a window after is still a date
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
US_PER_SECOND = 1_000_000
EPOCH = date(1970, 1, 1)
# What a customer does: identify, alias and group calls are bookkeeping, not activity.
ACTIVITY_TYPES = ("track", "page", "screen")
# Track events of Segment's email and mobile specs that happen *to* a customer: an email
# service reports a delivery for everyone on the list, so with them every subscriber would be
# active, never churn, and count in every conversion rate. Opens, clicks and taps are actions.
PASSIVE_EVENTS = (
    "Email Delivered",
    "Email Bounced",
    "Push Notification Received",
    "Push Notification Bounced",
)
MESSAGE_TYPES = ("track", "page", "screen", "identify", "group", "alias")
NONE = "(none)"  # the breakdown group of customers without a value
PROPERTY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}(\.[A-Za-z_][A-Za-z0-9_]{0,99}){0,4}")
OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "exists")
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "ne": "<>"}

_VIEW_COLUMNS = (
    "message_id, type, event, name, channel, timestamp, properties, traits, campaign_source, "
    "campaign_medium, campaign_name, device_type, os_name, page_path, page_url, profile_id"
)


def _event_views(source: str, micros: str, days: str) -> list[str]:
    """``events`` (by customer, through the merge map) and ``profile_events`` (by profile, the
    same rows without the merge map: a query that groups by profile first maps far fewer
    rows than every event)."""
    times = (
        f"{micros} AS ts, {days} AS day_n, year(e.timestamp) * 12 + month(e.timestamp) - 1 "
        "AS month_n"
    )
    columns = _prefixed(_VIEW_COLUMNS, "e")
    return [
        f"CREATE OR REPLACE TEMP VIEW profile_events AS SELECT {columns}, {times} "  # noqa: S608
        f"FROM {source} AS e",
        f"CREATE OR REPLACE TEMP VIEW events AS SELECT {columns}, "  # noqa: S608
        f"coalesce(m.into_id, e.profile_id) AS customer_id, {times} "
        f"FROM {source} AS e LEFT JOIN merge_map AS m ON m.from_id = e.profile_id",
    ]


def _event_times(index: str, delta: str | None, ts: str, collect: str) -> str:
    """``event_times``: the index's rows and those of the files newer than it, by customer.

    ``clean`` marks the rows of a customer who is one indexed profile: not merged, no other
    profile merged into it, no events in the newer files. Such a customer has one row per
    event, which a query takes as it is; it groups only the others."""
    rows = f"SELECT profile_id, type, event, times, TRUE AS held FROM {index}"  # noqa: S608
    newer = fresh = ""
    if delta is not None:
        name = store.INDEX_EVENT
        rows += (
            f" UNION ALL SELECT profile_id, type, {name} AS event, "  # noqa: S608
            f"{collect}({ts}) AS times, FALSE AS held FROM {delta} "
            f"GROUP BY profile_id, type, {name}"
        )
        newer = (
            f" LEFT JOIN (SELECT DISTINCT profile_id FROM {delta}) AS d "  # noqa: S608
            "ON d.profile_id = x.profile_id"
        )
        fresh = " AND d.profile_id IS NULL"
    return (
        "CREATE OR REPLACE TEMP VIEW event_times AS SELECT coalesce(m.into_id, x.profile_id) "  # noqa: S608
        "AS customer_id, x.type, x.event, x.times, "
        f"(x.held AND m.into_id IS NULL AND t.into_id IS NULL{fresh}) AS clean FROM ({rows}) AS x "
        "LEFT JOIN merge_map AS m ON m.from_id = x.profile_id "
        "LEFT JOIN (SELECT DISTINCT into_id FROM merge_map) AS t ON t.into_id = x.profile_id"
        f"{newer}"
    )


class SpecError(ValueError):
    """A query spec that cannot run; ``field`` is the dotted path of the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# -- engines --------------------------------------------------------------------------------


class Engine(Protocol):
    """Runs DuckDB-dialect SQL over ``events`` (and any extra tables) and returns dict rows."""

    name: str
    # when set, ``event_times`` exists: the customer-event index with the newer files' events
    # (see :func:`cxloop.analytics.events.write_index`)
    index: store.Indexed | None

    def run(
        self, sql: str, tables: Mapping[str, pa.Table] | None = None
    ) -> list[dict[str, Any]]: ...


class DuckDBEngine:
    """The event files of one workspace, read in this process by DuckDB."""

    name = "duckdb"

    def __init__(
        self,
        files: Sequence[str | Path],
        merge_map: Mapping[str, str],
        index: store.Indexed | None = None,
    ) -> None:
        self.files = [str(f) for f in files]
        self.index = index
        self.merge_map = pa.table(
            {
                "from_id": pa.array(list(merge_map.keys()), pa.string()),
                "into_id": pa.array(list(merge_map.values()), pa.string()),
            }
        )

    def run(self, sql: str, tables: Mapping[str, pa.Table] | None = None) -> list[dict[str, Any]]:
        con = store.connect().cursor()
        try:
            con.register("merge_map", self.merge_map)
            con.register("empty_events", store.SCHEMA.empty_table())
            for name, table in (tables or {}).items():
                con.register(name, table)
            source = (
                f"read_parquet({_list_literal(self.files)}, union_by_name = true)"
                if self.files
                else "empty_events"
            )
            # Views, not CTEs: DuckDB pushes each query's column choice and filters into the
            # Parquet scan, and a relation used twice is not materialised whole.
            micros = "epoch_us(e.timestamp)"
            for view in _event_views(source, micros, f"CAST({micros} // {US_PER_DAY} AS BIGINT)"):
                con.execute(view)
            if self.index is not None:
                delta = [str(f) for f in self.index.delta]
                fresh = f"read_parquet({_list_literal(delta)}, union_by_name = true)"
                con.execute(
                    _event_times(
                        f"read_parquet({literal(self.index.index)})",
                        fresh if delta else None,
                        "epoch_us(timestamp)",
                        "list",
                    )
                )
            result = con.sql(sql)
            table = result.to_arrow_table() if result is not None else None
        finally:
            con.close()
        return [] if table is None else table.to_pylist()


class SparkEngine:
    """The same files read by a Spark session (``local[N]`` or a cluster).

    The session is the caller's: cxloop does not depend on pyspark, the ``spark`` extra
    installs it. The session should run in UTC (``spark.sql.session.timeZone``).
    """

    name = "spark"

    def __init__(
        self,
        spark: Any,
        files: Sequence[str | Path],
        merge_map: Mapping[str, str],
        index: store.Indexed | None = None,
    ):
        self.spark = spark
        self.index = index
        raw = spark.read.parquet(*[str(f) for f in files])
        raw.createOrReplaceTempView("cxloop_raw_events")
        mapping = spark.createDataFrame(
            list(merge_map.items()) or [("", "")], "from_id string, into_id string"
        )
        mapping.createOrReplaceTempView("merge_map")
        micros = "unix_micros(e.timestamp)"
        days = f"CAST(floor({micros} / {US_PER_DAY}) AS BIGINT)"
        for view in _event_views("cxloop_raw_events", micros, days):
            spark.sql(view)
        if index is not None:
            spark.read.parquet(index.index).createOrReplaceTempView("cxloop_index")
            if index.delta:
                spark.read.parquet(*index.delta).createOrReplaceTempView("cxloop_delta")
            delta = "cxloop_delta" if index.delta else None
            spark.sql(_event_times("cxloop_index", delta, "unix_micros(timestamp)", "collect_list"))

    def run(self, sql: str, tables: Mapping[str, pa.Table] | None = None) -> list[dict[str, Any]]:
        for name, table in (tables or {}).items():
            schema = ", ".join(f"{f.name} {_spark_type(f.type)}" for f in table.schema)
            rows = [tuple(r.values()) for r in table.to_pylist()]
            self.spark.createDataFrame(rows, schema).createOrReplaceTempView(name)
        return [_plain(r.asDict()) for r in self.spark.sql(to_spark(sql)).collect()]


def to_spark(sql: str) -> str:
    """DuckDB SQL -> Spark SQL, keeping exact percentiles exact; ``AS MATERIALIZED`` (a
    DuckDB hint Spark's SQL does not have) is dropped, and ``list_reduce(l, f, start)``,
    which sqlglot leaves as it is, becomes Spark's ``aggregate(l, start, f)``."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
            node.set("materialized", None)
            return node
        if isinstance(node, exp.PercentileCont):
            return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
        if isinstance(node, exp.Anonymous) and node.name.lower() == "list_reduce":
            items, fold, start = (e.transform(swap) for e in node.expressions)
            return exp.Anonymous(this="aggregate", expressions=[items, start, fold])
        return node

    tree = sqlglot.parse_one(sql, read="duckdb").transform(swap)
    return tree.sql(dialect="spark")


def _spark_type(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_floating(kind):
        return "double"
    return "string"


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v) if type(v).__name__ == "Decimal" else v for k, v in row.items()}


def _prefixed(columns: str, alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


# -- the SQL kit ----------------------------------------------------------------------------


def literal(value: object) -> str:
    """A SQL literal in DuckDB's dialect (sqlglot re-escapes it for Spark)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return repr(value)
    text = str(value).replace("\x00", "")
    return "'" + text.replace("'", "''") + "'"


def _list_literal(values: Sequence[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def prop(name: str, column: str = "properties") -> str:
    """The text of a JSON property (``a.b`` reaches into objects); NULL when absent."""
    return f"json_extract_string({column}, {literal('$.' + name)})"


def number(name: str, column: str = "properties") -> str:
    return f"TRY_CAST({prop(name, column)} AS DOUBLE)"


def check_days(start: date | None, end: date) -> None:
    """``from`` (if given yet) and ``to`` of a query: known days, in order."""
    for name, day in (("from", start), ("to", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise SpecError(name, f"a day from {FIRST_DAY} to {LAST_DAY}")
    if start is not None and start > end:
        raise SpecError("from", "must not be after 'to'")


def day_range(start: date | None, end: date | None, days: int, today: date) -> tuple[date, date]:
    """``from`` and ``to`` of a query with their defaults: ``to`` today, ``from`` so that the
    range has ``days`` days. The days given are checked before any is moved, which could
    leave the calendar."""
    end = end or today
    check_days(start, end)
    return start or end - timedelta(days=days - 1), end


def micros(moment: datetime) -> int:
    """A UTC-aware time as microseconds since the epoch."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * US_PER_DAY) + delta.seconds * US_PER_SECOND + delta.microseconds


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_number(day: date) -> int:
    return (day - EPOCH).days


def from_day_number(n: int) -> date:
    return EPOCH + timedelta(days=n)


def week_number(day_n: str | int) -> str:
    """SQL of the Monday-based week index of a day number (1970-01-01 was a Thursday)."""
    return f"CAST(floor(({day_n} + 3) / 7) AS BIGINT)"


def week_start(week_n: int) -> date:
    return from_day_number(week_n * 7 - 3)


def month_start(month_n: int) -> date:
    return date(month_n // 12, month_n % 12 + 1, 1)


def month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class Matcher:
    """Which events: a message type, an event (track) or page/screen name, property filters
    (``where``) and a channel. ``where`` maps a property to a value (equality), a list (one
    of) or an object of operators: ``eq ne in gt gte lt lte exists``."""

    event: str | None = None
    type: str = "track"
    where: Mapping[str, Any] = field(default_factory=dict)
    channel: str | None = None

    def check(self, path: str) -> None:
        if self.type not in MESSAGE_TYPES:
            raise SpecError(f"{path}.type", f"must be one of {', '.join(MESSAGE_TYPES)}")
        if self.type == "track" and not self.event:
            raise SpecError(f"{path}.event", "a track step needs an event name")
        for name, condition in self.where.items():
            _condition_sql(name, condition, f"{path}.where.{name}")

    def sql(self) -> str:
        """A boolean SQL expression over a row of ``events``."""
        parts = [f"type = {literal(self.type)}"]
        if self.event:
            column = "event" if self.type == "track" else "name"
            parts.append(f"{column} = {literal(self.event)}")
        if self.channel:
            parts.append(f"channel = {literal(self.channel)}")
        conditions = [
            _condition_sql(name, condition, f"where.{name}")
            for name, condition in sorted(self.where.items())
        ]
        if not conditions:
            return "(" + " AND ".join(parts) + ")"
        # Parsing the JSON is what costs: a CASE reads it only on the rows of the right event,
        # where a plain AND would evaluate every part on every row.
        return f"(CASE WHEN {' AND '.join(parts)} THEN {' AND '.join(conditions)} ELSE FALSE END)"


def activity_sql() -> str:
    """An action of the customer: a track, page or screen call, but no passive event."""
    types = ", ".join(literal(t) for t in ACTIVITY_TYPES)
    return f"(type IN ({types}) AND (event IS NULL OR event NOT IN ({_passive_names()})))"


def customer_days_sql(where: str) -> str:
    """The distinct (customer_id, day_n) of the events where ``where`` holds: the days of each
    profile first, then mapped through the merge map (a few rows per profile, not every
    event, go through it)."""
    return (
        "SELECT DISTINCT coalesce(m.into_id, p.profile_id) AS customer_id, p.day_n "  # noqa: S608
        f"FROM (SELECT DISTINCT profile_id, day_n FROM profile_events WHERE {where}) AS p "
        "LEFT JOIN merge_map AS m ON m.from_id = p.profile_id"
    )


def index_holds(matcher: Matcher) -> bool:
    """Whether the customer-event index holds a matcher's events apart: it keeps a profile's
    times by type and event name only (no properties, no channel)."""
    return not matcher.where and matcher.channel is None


def index_match(matcher: Matcher) -> str:
    """A matcher's rows of ``event_times`` (whose ``event`` is the event of a track call, else
    the name of a page or screen call); only for a matcher the index holds (:func:`index_holds`)."""
    if not index_holds(matcher):
        raise ValueError("the index holds no properties or channels")
    event = f" AND event = {literal(matcher.event)}" if matcher.event else ""
    return f"(type = {literal(matcher.type)}{event})"


def index_activity_sql() -> str:
    """:func:`activity_sql` over the rows of ``event_times``."""
    types = ", ".join(literal(t) for t in ACTIVITY_TYPES)
    return f"(type IN ({types}) AND NOT (type = 'track' AND event IN ({_passive_names()})))"


def passive_sql() -> str:
    """An event that happens to the customer (an email delivered): it does not make them seen."""
    return f"(type = 'track' AND event IN ({_passive_names()}))"


def _passive_names() -> str:
    return ", ".join(literal(e) for e in PASSIVE_EVENTS)


def matcher_or_activity(matcher: Matcher | None) -> str:
    return matcher.sql() if matcher is not None else f"({activity_sql()})"


def check_property(name: str, path: str) -> None:
    if not PROPERTY.fullmatch(name):
        raise SpecError(path, "property names are letters, digits and _, dotted for objects")


def _condition_sql(name: str, condition: Any, path: str) -> str:
    check_property(name, path)
    if isinstance(condition, Mapping):
        if not condition:
            raise SpecError(path, "give at least one operator")
        parts = []
        for op, value in sorted(condition.items()):
            if op not in OPERATORS:
                raise SpecError(f"{path}.{op}", f"unknown operator; use {', '.join(OPERATORS)}")
            parts.append(_operator_sql(name, op, value, f"{path}.{op}"))
        return " AND ".join(parts)
    if isinstance(condition, list):
        return _operator_sql(name, "in", condition, path)
    return _operator_sql(name, "eq", condition, path)


def _operator_sql(name: str, op: str, value: Any, path: str) -> str:
    if op == "exists":
        if not isinstance(value, bool):
            raise SpecError(path, "exists takes true or false")
        return f"{prop(name)} IS {'NOT ' if value else ''}NULL"
    if op == "in":
        if not isinstance(value, list) or not value:
            raise SpecError(path, "give a non-empty list of values")
        for v in value:
            _finite(v, path)
        if all(_is_number(v) for v in value):
            return f"{number(name)} IN ({', '.join(literal(float(v)) for v in value)})"
        return f"{prop(name)} IN ({', '.join(literal(_text(v, path)) for v in value)})"
    if _is_number(_finite(value, path)):
        return f"{number(name)} {_COMPARE[op]} {literal(float(value))}"
    if op not in ("eq", "ne"):
        raise SpecError(path, f"{op} compares numbers")
    return f"{prop(name)} {_COMPARE[op]} {literal(_text(value, path))}"


def _finite(value: Any, path: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(path, "numbers are finite (1e309 and NaN are not)")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        raise SpecError(path, "numbers are below 2^53 in size, as in JSON")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise SpecError(path, "values are strings, numbers or booleans")
