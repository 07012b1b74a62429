"""Loading normalised events into the store, set-based: the shared tail of the loader and of
imports.

Given a DuckDB table of staged events (:func:`staged_sql` over :data:`sqlnorm.NORM_COLUMNS`) it

1. drops messages already loaded: one statement claims the batch's message keys in the
   operational store and returns the new ones;
2. resolves identities once per distinct (identifiers, type, channel) group rather than once
   per event, plus once per message that carries traits or extra identifiers (identify,
   alias, ``context.traits``, ``context.externalIds``), in the order they arrived;
3. writes one Parquet file per month touched with DuckDB and registers them in the manifest.

Everything it writes to the operational store is in the caller's transaction, so the files
become visible, the messages count as loaded and the profiles change in one commit.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from cxloop.analytics import events as store
from cxloop.analytics.portable import passive_sql
from cxloop.core.time import utcnow
from cxloop.eventstore import service as eventstore
from cxloop.ingest import feedback, sqlnorm
from cxloop.ingest.spec import from_micros
from cxloop.profiles import service as profiles
from cxloop.profiles.resolver import Ident, Observation
from cxloop.profiles.rules import TRAIT_IDENTIFIERS, IdentityRules, Normaliser, kind_of_external

_PAGE_PROPERTIES = {
    "page_url": "url",
    "page_path": "path",
    "page_referrer": "referrer",
    "page_title": "title",
}


@dataclass
class LoadResult:
    loaded: int = 0
    duplicates: int = 0
    files: int = 0
    profiles_touched: int = 0
    per_workspace: dict[uuid.UUID, int] = field(default_factory=dict)

    def add(self, other: LoadResult) -> None:
        self.loaded += other.loaded
        self.duplicates += other.duplicates
        self.files += other.files
        self.profiles_touched += other.profiles_touched
        for ws, n in other.per_workspace.items():
            self.per_workspace[ws] = self.per_workspace.get(ws, 0) + n


def connect(
    temp_dir: Path | None = None, memory_limit: str = "384MB", threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A private DuckDB connection for one load (temp tables must not collide).

    Its memory is capped (DuckDB would otherwise take most of the machine's) and what does
    not fit spills to ``temp_dir``. ``threads``: DuckDB's own, one per core by default.
    """
    config: dict[str, Any] = {"autoinstall_known_extensions": False, "memory_limit": memory_limit}
    if threads is not None:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET TimeZone = 'UTC'")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{str(temp_dir).replace(chr(39), '')}'")
    return con


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    # fetchall, not fetchone: DuckDB refuses further work while a result is half-read
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()  # noqa: S608
    return int(rows[0][0])


@dataclass
class Plan:
    """One batch of one workspace, decided but not yet written to the operational store."""

    workspace_id: uuid.UUID
    root: Path
    result: LoadResult
    keys: list[str] = field(default_factory=list)
    resolution: profiles.Resolution | None = None
    files: list[store.FileStats] = field(default_factory=list)
    texts: list[feedback.FeedbackText] = field(default_factory=list)


def staged_sql(source: str, workspace_id: uuid.UUID) -> str:
    """The rows of a batch as :func:`prepare` takes them, from normalised events
    (:data:`sqlnorm.NORM_COLUMNS`): the context fields lifted into the event store's columns,
    the month of the file, and the keys of de-duplication and identity resolution.

    Each is a function of its own row only, so an import computes them while the chunk
    before is loading (see :mod:`cxloop.ingest.importer`).
    """
    ws = str(workspace_id)
    lifted = []
    for i, column in enumerate(sqlnorm.CONTEXT_PATHS, start=1):
        c = f"context_fields[{i}]"
        if column in _PAGE_PROPERTIES:
            prop = f"json_extract_string(properties, '$.{_PAGE_PROPERTIES[column]}')"
            lifted.append(
                f"CASE WHEN type = 'page' THEN coalesce({prop}, {c}) ELSE {c} END AS {column}"
            )
        else:
            lifted.append(f"{c} AS {column}")
    return f"""
        SELECT * EXCLUDE (context_fields), {", ".join(lifted)},
               strftime(timestamp, '%Y-%m') AS month,
               CASE WHEN generated_id THEN NULL ELSE md5('{ws}:' || message_id) END AS mkey,
               coalesce(user_id, '') || chr(31) || coalesce(anonymous_id, '') AS pair_key,
               -- a text search, not a JSON parse: a false hit only costs the slower path
               (type IN ('identify', 'alias') OR traits IS NOT NULL
                OR coalesce(contains(context, '"traits"'), false)
                OR coalesce(contains(context, '"externalIds"'), false)) AS extra
        FROM {source}
        """  # noqa: S608 (the workspace id is a UUID we made; names are constants)


def prepare(
    session: Session,
    con: duckdb.DuckDBPyConnection,
    workspace_id: uuid.UUID,
    root: Path,
    staged: str = "staged",
    *,
    cache: profiles.ResolveCache | None = None,
    register_since: datetime | None = None,
) -> Plan:
    """Decide everything about the batch ``staged`` (a table of :func:`staged_sql` rows),
    reading the operational store but writing nothing, so a loader holds no write lock
    meanwhile (only one loader runs: the lease). The table becomes the batch (``batch``,
    until :func:`release`): rows found already loaded are deleted from it, not copied.

    With ``cache`` (bulk imports) identities are remembered across calls and profile
    statistics are left to :func:`cxloop.profiles.stats.recompute_stats`.

    With ``register_since`` (bulk imports) only messages from that time on go through the
    message-id register (the API's de-duplication window); older ones are checked against
    the event files of their time range instead, which costs a scan of a column rather
    than one index insert per message.
    """
    plan = Plan(workspace_id=workspace_id, root=root, result=LoadResult())
    release(con)
    con.execute(f"ALTER TABLE {staged} RENAME TO batch").fetchall()
    twice = con.execute("SELECT count(mkey) - count(DISTINCT mkey) FROM batch").fetchall()[0][0]
    total = _count(con, "batch")
    if total == 0:
        return plan
    if twice:  # the same messageId twice in one batch: keep the first
        con.execute(
            "DELETE FROM batch WHERE mkey IS NOT NULL AND seq NOT IN "
            "(SELECT min(seq) FROM batch WHERE mkey IS NOT NULL GROUP BY mkey)"
        ).fetchall()
    if register_since is not None:
        _drop_stored(session, con, workspace_id, root, register_since)
    plan.keys = _drop_loaded(session, con, register_since)
    loaded = _count(con, "batch")
    plan.result.duplicates = total - loaded
    if loaded == 0:
        return plan
    rules = profiles.get_rules(session, workspace_id)
    plan.resolution = _resolve(session, con, workspace_id, rules, cache)
    plan.texts = feedback.find(con)
    plan.result.profiles_touched = plan.resolution.touched
    plan.result.loaded = loaded
    plan.result.per_workspace[workspace_id] = loaded
    return plan


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Let go of the last batch's rows (its load is over)."""
    con.execute("DROP TABLE IF EXISTS batch").fetchall()


def write(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Write the batch's event files (invisible until :func:`commit` registers them)."""
    if plan.resolution is not None:
        plan.files = _write_files(con, plan.workspace_id, plan.root, plan.result.loaded)
        plan.result.files = len(plan.files)


def commit(session: Session, plan: Plan, *, cache: profiles.ResolveCache | None = None) -> None:
    """Write what :func:`prepare` decided; visible when the caller's transaction commits."""
    commit_profiles(session, plan, cache=cache)
    commit_files(session, plan)


def commit_profiles(
    session: Session, plan: Plan, *, cache: profiles.ResolveCache | None = None
) -> None:
    """The first half of :func:`commit`: the message ids and the profiles. It does not need
    the files, so an import runs it while :func:`write` is writing them."""
    if plan.keys:
        stored = claim_keys(session, plan.keys)
        if len(stored) != len(plan.keys):
            raise LoadConflict("message ids were loaded by someone else meanwhile")
    if plan.resolution is not None:
        profiles.apply_resolution(session, plan.workspace_id, plan.resolution, cache=cache)


def commit_files(session: Session, plan: Plan) -> None:
    """The second half of :func:`commit`, once :func:`write` is done: the files."""
    for stats in plan.files:
        eventstore.register(session, plan.workspace_id, plan.root, stats)
    feedback.enqueue_analyses(session, plan.workspace_id, plan.texts)


class LoadConflict(Exception):
    """What a batch was prepared against changed before its commit; it is loaded again."""


# -- 1. messages already loaded ---------------------------------------------------------------


def _drop_stored(
    session: Session,
    con: duckdb.DuckDBPyConnection,
    workspace_id: uuid.UUID,
    root: Path,
    since: datetime,
) -> None:
    """Drop messages older than ``since`` whose id is already in the files of their time."""
    low_us, high_us = con.execute(
        "SELECT epoch_us(min(timestamp)), epoch_us(max(timestamp)) FROM batch WHERE timestamp < ?",
        [since],
    ).fetchall()[0]
    if low_us is None:
        return
    low, high = from_micros(low_us), from_micros(high_us)
    files = eventstore.current_files(
        session, workspace_id, root, since=low, until=high + timedelta(microseconds=1)
    )
    if not files:
        return
    con.execute(
        "DELETE FROM batch WHERE timestamp < ? AND message_id IN (SELECT message_id "
        "FROM read_parquet(?) WHERE timestamp BETWEEN ? AND ?)",
        [since, files, low, high],
    ).fetchall()


def _drop_loaded(
    session: Session, con: duckdb.DuckDBPyConnection, since: datetime | None
) -> list[str]:
    """Drop messages whose key the register holds; returns the keys to record."""
    recent = "" if since is None else " AND timestamp >= ?"
    table = con.sql(
        f"SELECT mkey FROM batch WHERE mkey IS NOT NULL{recent}",  # noqa: S608
        params=[since] if since is not None else None,
    ).to_arrow_table()
    keys: list[str] = table.column("mkey").to_pylist() if table is not None else []
    if not keys:
        return []
    known = known_keys(session, keys)
    if not known:
        return keys
    con.register("known_keys", pa.table({"mkey": pa.array(sorted(known), pa.string())}))
    con.execute(
        f"DELETE FROM batch WHERE mkey IS NOT NULL{recent} "  # noqa: S608
        "AND mkey IN (SELECT mkey FROM known_keys)",
        [since] if since is not None else [],
    ).fetchall()
    con.unregister("known_keys")
    return [k for k in keys if k not in known]


def known_keys(session: Session, keys: list[str]) -> set[str]:
    """The keys among ``keys`` that the register holds (one statement)."""
    if session.get_bind().dialect.name == "postgresql":
        statement = text(
            "SELECT encode(key, 'hex') FROM ingest_message WHERE key IN "
            "(SELECT decode(k, 'hex') FROM unnest(CAST(:keys AS text[])) AS k)"
        )
        params: dict[str, Any] = {"keys": keys}
    else:
        statement = text(
            "SELECT key FROM ingest_message WHERE key IN (SELECT value FROM json_each(:keys))"
        )
        params = {"keys": orjson.dumps(keys).decode()}
    return set(session.execute(statement, params).scalars())


def claim_keys(session: Session, keys: list[str]) -> list[str]:
    """Record message keys as loaded; returns those that were not recorded before.

    One statement per call with the keys as one parameter (a JSON array on SQLite, an array
    on PostgreSQL), so a batch of 100,000 events costs one round trip, not 100,000.
    """
    today = utcnow().date()
    if session.get_bind().dialect.name == "postgresql":
        # the column is bytea (16 bytes): the hex text of an md5 goes in decoded
        statement = text(
            "INSERT INTO ingest_message (key, seen_on) SELECT decode(k, 'hex'), :day "
            "FROM unnest(CAST(:keys AS text[])) AS k ON CONFLICT DO NOTHING "
            "RETURNING encode(key, 'hex')"
        )
        params: dict[str, Any] = {"keys": keys, "day": today}
    else:
        statement = text(
            "INSERT INTO ingest_message (key, seen_on) SELECT value, :day FROM json_each(:keys) "
            "WHERE true ON CONFLICT DO NOTHING RETURNING key"
        )
        params = {"keys": orjson.dumps(keys).decode(), "day": today.isoformat()}
    return list(session.execute(statement, params).scalars())


# -- 2. identities ----------------------------------------------------------------------------


def _resolve(
    session: Session,
    con: duckdb.DuckDBPyConnection,
    workspace_id: uuid.UUID,
    rules: IdentityRules,
    cache: profiles.ResolveCache | None,
) -> profiles.Resolution:
    normalise = Normaliser(rules)
    # Messages without traits or extra identifiers resolve once per (user id, anonymous id)
    # pair; an import also skips pairs an earlier chunk already resolved (``known_pairs``).
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS known_pairs (pair_key VARCHAR, profile_id VARCHAR)"
    ).fetchall()
    if cache is None:
        con.execute("DELETE FROM known_pairs").fetchall()
    stats = (
        ""
        if cache is not None
        else (
            ", count(*) AS n, "
            f"epoch_us(max(timestamp) FILTER (WHERE NOT {passive_sql()})) AS last_us, "
            "histogram(type) AS types, histogram(channel) AS channels"
        )
    )
    groups = _rows(
        con,
        f"""
        SELECT pair_key, any_value(user_id) AS user_id, any_value(anonymous_id) AS anonymous_id,
               min(seq) AS first_seq, epoch_us(min(timestamp)) AS first_us {stats}
        FROM batch
        WHERE NOT extra AND pair_key NOT IN (SELECT pair_key FROM known_pairs)
        GROUP BY pair_key
        """,  # noqa: S608 (constant fragments)
    )
    extras = _rows(
        con,
        f"""
        SELECT seq, message_id, type, channel, epoch_us(timestamp) AS ts, user_id,
               anonymous_id, previous_id, traits,
               json_extract_string(context, '$.traits') AS context_traits,
               json_extract_string(context, '$.externalIds') AS external_ids,
               {passive_sql()} AS passive
        FROM batch WHERE extra
        """,  # noqa: S608 (a constant fragment)
    )
    # (first seq, observation, its pair key or None for a single message)
    work: list[tuple[int, Observation, str | None]] = []
    for g in groups:
        idents = _base_identifiers(g["user_id"], g["anonymous_id"], normalise)
        obs = Observation(
            identifiers=_ranked(idents, rules),
            timestamp=g["first_us"],
            type="track",
            channel="server",
            message_id="",
        )
        if cache is None:
            obs.type_counts, obs.channel_counts = dict(g["types"]), dict(g["channels"])
            obs.type, obs.channel = min(obs.type_counts), min(obs.channel_counts)
            # the last action: NULL when the customer only received (an email delivered)
            obs.count, obs.last_timestamp = g["n"], g["last_us"]
            obs.passive = g["last_us"] is None
        work.append((g["first_seq"], obs, g["pair_key"]))
    for x in extras:
        work.append((x["seq"], observe_row(x, normalise, rules), None))
    work.sort(key=lambda item: item[0])
    resolution = profiles.plan_resolution(
        session, workspace_id, [w[1] for w in work], rules, cache=cache
    )
    profile_ids = resolution.profile_ids
    gmap: dict[str, list[Any]] = {name: [] for name in _GMAP.names}
    xmap: dict[str, list[Any]] = {name: [] for name in _XMAP.names}
    for (seq, _, pair_key), profile_id in zip(work, profile_ids, strict=True):
        if pair_key is not None:
            gmap["pair_key"].append(pair_key)
            gmap["profile_id"].append(str(profile_id))
        else:
            xmap["seq"].append(seq)
            xmap["profile_id"].append(str(profile_id))
    con.register("gmap", pa.table(gmap, schema=_GMAP))
    con.execute("INSERT INTO known_pairs SELECT pair_key, profile_id FROM gmap").fetchall()
    con.unregister("gmap")
    con.register("xmap", pa.table(xmap, schema=_XMAP))
    con.execute("CREATE OR REPLACE TEMP TABLE xmap_t AS SELECT * FROM xmap").fetchall()
    con.unregister("xmap")
    # a view: the join runs once, inside the COPY that writes the files
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW resolved AS
        SELECT b.*, coalesce(x.profile_id, k.profile_id) AS profile_id
        FROM batch AS b
        LEFT JOIN xmap_t AS x ON b.extra AND x.seq = b.seq
        LEFT JOIN known_pairs AS k ON NOT b.extra AND k.pair_key = b.pair_key
        """
    ).fetchall()
    return resolution


_GMAP = pa.schema([("pair_key", pa.string()), ("profile_id", pa.string())])
_XMAP = pa.schema([("seq", pa.int64()), ("profile_id", pa.string())])


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    table = con.sql(sql).to_arrow_table()
    rows: list[dict[str, Any]] = table.to_pylist() if table is not None else []
    return rows


def _base_identifiers(user_id: Any, anonymous_id: Any, normalise: Normaliser) -> list[Ident]:
    idents: list[Ident] = []
    if user_id is not None and (value := normalise("user_id", user_id)):
        idents.append(("user_id", value))
    if anonymous_id is not None and (value := normalise("anonymous_id", anonymous_id)):
        idents.append(("anonymous_id", value))
    return idents


def _ranked(idents: list[Ident], rules: IdentityRules) -> list[Ident]:
    if len(idents) < 2:
        return idents
    return sorted(dict.fromkeys(idents), key=lambda i: rules.rank(i[0]))


def _object(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def observe_row(row: dict[str, Any], normalise: Normaliser, rules: IdentityRules) -> Observation:
    """What one message with traits or extra identifiers says about the customer."""
    idents = _base_identifiers(row["user_id"], row["anonymous_id"], normalise)
    traits = _object(row["traits"])
    for source in (traits, _object(row["context_traits"])):
        if isinstance(source, dict):
            for name, kind in TRAIT_IDENTIFIERS.items():
                raw = source.get(name)
                if raw is not None and (value := normalise(kind, raw)):
                    idents.append((kind, value))
    external = _object(row["external_ids"])
    if isinstance(external, list):
        for item in external[:20]:
            if isinstance(item, dict):
                external_kind = kind_of_external(item.get("type"))
                if external_kind and (value := normalise(external_kind, item.get("id"))):
                    idents.append((external_kind, value))
    previous = None
    if row["type"] == "alias" and row["previous_id"] is not None:
        previous = normalise("anonymous_id", row["previous_id"])
    return Observation(
        identifiers=_ranked(idents, rules),
        timestamp=row["ts"],
        type=row["type"],
        channel=row["channel"],
        message_id=row["message_id"],
        traits=traits if row["type"] == "identify" and isinstance(traits, dict) else None,
        previous_id=previous,
        passive=bool(row["passive"]),
    )


# -- 3. files ---------------------------------------------------------------------------------


def _write_files(
    con: duckdb.DuckDBPyConnection, workspace_id: uuid.UUID, root: Path, rows: int
) -> list[store.FileStats]:
    root.mkdir(parents=True, exist_ok=True)
    months = [m for (m,) in con.execute("SELECT DISTINCT month FROM batch ORDER BY 1").fetchall()]
    columns = ", ".join(store.COLUMNS)
    # One COPY per month, each joining its own rows, not one COPY with PARTITION_BY and not
    # the joined rows kept in a table first: both cost more for the one or two months a
    # batch usually holds.
    # Sorted by customer only when the file gets several row groups: a file of one row group
    # is read whole by any query, sorted or not, and the sort was a third of the write.
    # (Compaction writes the merged files of a month sorted.)
    order = " ORDER BY profile_id, timestamp" if rows > store.ROW_GROUP_ROWS else ""
    staged: list[tuple[Path, Path]] = []
    try:
        for month in months:
            period = date.fromisoformat(f"{month}-01")  # also proves the text is a month
            staging = root / f".load-{uuid.uuid4().hex}.parquet"
            staged.append((staging, eventstore.new_file_path(root, workspace_id, period)))
            quoted = str(staging).replace("'", "''")  # a data dir may hold a quote
            con.execute(
                f"COPY (SELECT {columns} FROM resolved "  # noqa: S608
                f"WHERE month = '{period:%Y-%m}'{order}) TO '{quoted}' ({store.PARQUET_OPTIONS})"
            )
        written: list[store.FileStats] = []
        for part, target in staged:
            target.parent.mkdir(parents=True, exist_ok=True)
            _fsync(part)
            part.replace(target)
            written.append(store.file_stats(target))
        folders = [target.parent for _, target in staged]
        _fsync_dirs([*dict.fromkeys(folders), root / f"workspace={workspace_id}"])
        return written
    finally:
        for part, _ in staged:
            part.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dirs(directories: list[Path]) -> None:
    # the renames must be durable before the commit that makes the files visible
    for directory in directories:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
