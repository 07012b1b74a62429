"""The event store's files: their schema, writing them, and reading them with DuckDB.

Events are Parquet files under ``<root>/workspace=<id>/month=<YYYY-MM>/``: an open layout
that DuckDB, Spark and pandas read directly. Which files are current is decided by the
caller (the manifest in the operational store), so this module only ever reads the list of
files it is given: a file being written or compacted away is never read by accident.

A customer may have been merged after their events were written; every query maps
``profile_id`` through the merge map given by the caller, so a merged customer counts once.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TS = pa.timestamp("us", tz="UTC")

# Context fields lifted into columns: what breakdowns and the timeline use most.
CONTEXT_COLUMNS = (
    "ip",
    "library_name",
    "library_version",
    "user_agent",
    "locale",
    "timezone",
    "campaign_source",
    "campaign_medium",
    "campaign_name",
    "campaign_term",
    "campaign_content",
    "device_type",
    "device_id",
    "os_name",
    "app_version",
    "page_url",
    "page_path",
    "page_referrer",
    "page_title",
)

SCHEMA = pa.schema(
    [
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("event", pa.string()),
        pa.field("name", pa.string()),
        pa.field("profile_id", pa.string(), nullable=False),
        pa.field("user_id", pa.string()),
        pa.field("anonymous_id", pa.string()),
        pa.field("previous_id", pa.string()),
        pa.field("group_id", pa.string()),
        pa.field("timestamp", TS, nullable=False),
        pa.field("received_at", TS, nullable=False),
        pa.field("original_timestamp", TS),
        pa.field("sent_at", TS),
        pa.field("channel", pa.string(), nullable=False),
        *[pa.field(name, pa.string()) for name in CONTEXT_COLUMNS],
        pa.field("properties", pa.string()),  # JSON text
        pa.field("traits", pa.string()),  # JSON text
        pa.field("context", pa.string()),  # JSON text
    ]
)
COLUMNS = tuple(SCHEMA.names)
# Rows per row group of an event file. Files are sorted by customer, so the row groups of a
# large file each hold a range of customers and a timeline query reads only the one it needs.
ROW_GROUP_ROWS = 256 * 1024
# How DuckDB writes every event file (see write_file). Parquet's version 2 encodings store a
# customer's rising times as deltas: the timestamp column reads a third faster, and a funnel
# over 10 million events takes 8% less time.
PARQUET_OPTIONS = (
    f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, PARQUET_VERSION v2"
)


@dataclass(frozen=True)
class FileStats:
    path: Path
    rows: int
    bytes: int
    min_timestamp: datetime
    max_timestamp: datetime


def write_file(table: pa.Table, path: Path) -> FileStats:
    """Write one immutable file atomically (temp name, fsync, rename), sorted by customer.

    DuckDB writes it, as it writes the files of a load: one writer for the whole store. Its
    writer keeps a column dictionary-encoded whenever that pays (the repeated properties of
    the same product viewed again and again), where pyarrow's gives up after a 1 MiB
    dictionary page; a query then reads such a column, and extracts its JSON, once per
    distinct value (``bench/analytics.py``: the KPI pack 15% faster).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    con = connect().cursor()
    try:
        con.register("file_rows", table)
        target = str(tmp).replace("'", "''")
        con.execute(
            "COPY (SELECT * FROM file_rows ORDER BY profile_id, timestamp) "  # noqa: S608
            f"TO '{target}' ({PARQUET_OPTIONS})"
        )
    finally:
        con.close()
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)
    stamps = table.column("timestamp")
    bounds = pc.min_max(stamps)
    low, high = bounds["min"], bounds["max"]
    return FileStats(
        path=path,
        rows=table.num_rows,
        bytes=path.stat().st_size,
        min_timestamp=low.as_py(),
        max_timestamp=high.as_py(),
    )


def file_stats(path: Path) -> FileStats:
    """Rows and time range of a written file, from its footer (no data is read)."""
    meta = pq.read_metadata(path)
    column = meta.schema.names.index("timestamp")
    low = high = None
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(column).statistics
        if stats is None or not stats.has_min_max:
            continue
        low = stats.min if low is None or stats.min < low else low
        high = stats.max if high is None or stats.max > high else high
    if low is None or high is None:
        raise ValueError(f"{path} has no timestamp statistics")
    return FileStats(
        path=path,
        rows=meta.num_rows,
        bytes=path.stat().st_size,
        min_timestamp=_aware(low),
        max_timestamp=_aware(high),
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def partition_dir(root: Path, workspace_id: str, month: str) -> Path:
    """``month`` is ``YYYY-MM``: one folder per month keeps files large enough to read fast
    while a late event still lands next to its neighbours."""
    return root / f"workspace={workspace_id}" / f"month={month}"


# -- the customer-event index ------------------------------------------------------------

# Rows per row group of an index file. Its rows are sorted by event, so a query of three
# events reads the few row groups that hold them and skips the rest by their statistics.
INDEX_ROW_GROUP_ROWS = 32 * 1024
INDEX_OPTIONS = (
    f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {INDEX_ROW_GROUP_ROWS}, PARQUET_VERSION v2"
)
# the name a matcher gives an event: ``event`` of a track call, ``name`` of a page or screen
INDEX_EVENT = "CASE WHEN type = 'track' THEN event ELSE name END"
# The layout of an index file, in its name (``index-v2-<id>.parquet``): a file of another
# layout is not read, and the indexer rebuilds it. v2 dropped the channel from the rows' key.
INDEX_FORMAT = "v2"


@dataclass(frozen=True)
class Indexed:
    """An index file and the current event files it does not hold (newer than it)."""

    index: str
    delta: Sequence[str]
    # the earliest and latest event time (microseconds) of the index and the delta: a query
    # whose range covers them needs no filter by time
    span: tuple[int, int] | None = None


def write_index(files: Sequence[str | Path], path: Path) -> int:
    """Write the customer-event index of ``files`` atomically; returns how many events it holds.

    One row per profile, call type and event name, with the times (microseconds) of that
    profile's events of that name, sorted: the shape a funnel needs, grouped once instead of
    at every query, and for a customer who is one profile already the list a query takes as
    it is. Rows are sorted by type and event, so a query reads only its events' row groups.
    Like the ``events`` relation, it keeps every stored event (no deduplication).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    con = connect().cursor()
    try:
        source = "read_parquet(?, union_by_name = true)" if files else "empty_events"
        con.register("empty_events", SCHEMA.empty_table())
        target = str(tmp).replace("'", "''")
        con.execute(
            f"COPY (SELECT profile_id, type, {INDEX_EVENT} AS event, "  # noqa: S608
            f"list(epoch_us(timestamp) ORDER BY timestamp) AS times FROM {source} "
            f"GROUP BY ALL ORDER BY type, event, profile_id) TO '{target}' ({INDEX_OPTIONS})",
            [[str(f) for f in files]] if files else [],
        )
        row = con.execute(
            "SELECT coalesce(sum(len(times)), 0) FROM read_parquet(?)", [str(tmp)]
        ).fetchone()
    finally:
        con.close()
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)
    return int(row[0]) if row else 0


# -- reading ---------------------------------------------------------------------------------

_local = threading.local()
MIB = 2**20


def memory_limit(physical: int | None = None) -> str:
    """DuckDB's memory for one process's queries: an eighth of the machine's memory, at
    least 384 MiB and at most 2 GiB. More than 2 GiB buys nothing measurable on 10 million
    events (``bench/analytics.py``); less than a few hundred MiB makes a funnel over them
    spill to disk and take half as long again."""
    if physical is None:
        try:
            physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not a POSIX system
            physical = 0
    return f"{min(max(physical // 8, 384 * MIB), 2048 * MIB) // MIB}MiB"


MEMORY_LIMIT = memory_limit()


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection of this thread that never tries to download an extension.

    Its memory is capped (:func:`memory_limit`): DuckDB would otherwise keep up to 80% of
    the machine for its buffers, beside the API or an import in the same process. Larger
    work spills to disk.
    """
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        # what spills goes to the system's temp dir, never into the directory cxloop runs in
        spill = Path(tempfile.gettempdir()) / f"cxloop-duckdb-{os.getpid()}"
        con = duckdb.connect(
            config={
                "autoinstall_known_extensions": False,
                "memory_limit": MEMORY_LIMIT,
                "temp_directory": str(spill),
            }
        )
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET TimeZone = 'UTC'")
        _local.con = con
    return con


def _source(files: Sequence[str | Path]) -> tuple[str, list[Any]]:
    if not files:
        return "empty_events", []
    return "read_parquet(?, union_by_name = true)", [[str(f) for f in files]]


def query(
    files: Sequence[str | Path],
    merge_map: Mapping[str, str],
    sql: str,
    params: Sequence[Any] = (),
) -> list[dict[str, Any]]:
    """Run ``sql`` against a relation called ``events`` over ``files``; rows come back as dicts.

    ``events`` has every stored column plus ``customer_id``: the profile id mapped through
    ``merge_map`` (merged id -> survivor), so a customer merged after the fact counts once.
    Zone-aware times come back as UTC datetimes (through Arrow, without pytz).
    """
    return list(iter_query(files, merge_map, sql, params))


def iter_query(
    files: Sequence[str | Path],
    merge_map: Mapping[str, str],
    sql: str,
    params: Sequence[Any] = (),
    batch_rows: int = 20_000,
) -> Iterator[dict[str, Any]]:
    """:func:`query`, a batch of rows at a time: for results too large to hold at once."""
    for batch in iter_batches(files, merge_map, sql, params, batch_rows):
        yield from batch.to_pylist()


def iter_batches(
    files: Sequence[str | Path],
    merge_map: Mapping[str, str],
    sql: str,
    params: Sequence[Any] = (),
    batch_rows: int = 20_000,
    tables: Mapping[str, pa.Table] | None = None,
) -> Iterator[pa.RecordBatch]:
    """:func:`iter_query` as Arrow batches; ``tables`` are named for ``sql`` to read."""
    source, source_params = _source(files)
    mapping = pa.table(
        {
            "from_id": pa.array(list(merge_map.keys()), pa.string()),
            "into_id": pa.array(list(merge_map.values()), pa.string()),
        }
    )
    full = (
        "WITH events AS (SELECT e.*, coalesce(m.into_id, e.profile_id) AS customer_id "  # noqa: S608
        f"FROM {source} AS e LEFT JOIN merge_map AS m ON m.from_id = e.profile_id) {sql}"
    )
    con = connect().cursor()
    try:
        con.register("merge_map", mapping)
        con.register("empty_events", SCHEMA.empty_table())
        for name, table in (tables or {}).items():
            con.register(name, table)
        yield from con.sql(full, params=[*source_params, *params]).to_arrow_reader(batch_rows)
    finally:
        con.close()


def count_customers(files: Sequence[str | Path], merge_map: Mapping[str, str]) -> int:
    rows = query(files, merge_map, "SELECT count(DISTINCT customer_id) AS n FROM events")
    return int(rows[0]["n"])


@dataclass(frozen=True)
class TimelineFilter:
    profile_ids: Sequence[str]
    channels: Sequence[str] = ()
    types: Sequence[str] = ()
    events: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    # cursor: (timestamp, message_id) of the last row of the previous page
    before: tuple[datetime, str] | None = None
    limit: int = 50


_TIMELINE_COLUMNS = (
    "message_id, type, event, name, channel, timestamp, received_at, profile_id, user_id, "
    "anonymous_id, properties, traits, context, page_url, page_title, campaign_source, "
    "device_type, os_name, ip, user_agent, locale, library_name"
)


def timeline(files: Sequence[str | Path], flt: TimelineFilter) -> list[dict[str, Any]]:
    """One customer's events across channels, newest first, ``limit`` at a time."""
    where = ["profile_id IN (SELECT unnest(?))"]
    params: list[Any] = [list(flt.profile_ids)]
    for column, values in (("channel", flt.channels), ("type", flt.types), ("event", flt.events)):
        if values:
            where.append(f"{column} IN (SELECT unnest(?))")
            params.append(list(values))
    if flt.since is not None:
        where.append("timestamp >= ?")
        params.append(flt.since)
    if flt.until is not None:
        where.append("timestamp < ?")
        params.append(flt.until)
    if flt.before is not None:
        where.append("(timestamp, message_id) < (?, ?)")
        params.extend(flt.before)
    sql = (
        f"SELECT {_TIMELINE_COLUMNS} FROM events WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY timestamp DESC, message_id DESC LIMIT {int(flt.limit)}"
    )
    return query(files, {}, sql, params)


def compact(files: Sequence[str | Path], out: Path) -> FileStats:
    """Merge ``files`` into one sorted file (duplicates by message id kept once)."""
    con = connect().cursor()
    try:
        table = con.sql(
            f"SELECT {', '.join(COLUMNS)} FROM read_parquet(?, union_by_name = true) "  # noqa: S608
            "QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY received_at) = 1",
            params=[[str(f) for f in files]],
        ).to_arrow_table()
    finally:
        con.close()
    assert table is not None  # noqa: S101 (a SELECT always yields a table)
    return write_file(table.cast(SCHEMA), out)
