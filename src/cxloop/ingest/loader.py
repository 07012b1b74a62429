"""The loader: moves acknowledged events from the inbox into the event store.

One micro-batch is: read inbox rows, then in DuckDB normalise them, drop messages already
loaded (``messageId``), resolve every message to a profile and write one Parquet file per
day touched (see :mod:`cxloop.ingest.pipeline`); then commit in one transaction the new
files, the message ids, the profile changes and the removal of the inbox rows. A crash
anywhere before that commit changes nothing but an unregistered file (removed later), so
every acknowledged event is loaded exactly once.

Only one loader runs at a time (a lease), because identity resolution must see the
identities that the previous batch created.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from cxloop.core.db import read_transaction, transaction
from cxloop.ingest import pipeline, spec, sqlnorm
from cxloop.ingest.pipeline import LoadResult
from cxloop.jobs import lease
from cxloop.models import InboxBatch

log = logging.getLogger(__name__)

LEASE_NAME = "ingest.loader"
# Held from reading a batch to committing it, and by an import from start to end (renewed
# with every chunk); a loader that dies without releasing it blocks others until it expires.
LEASE_TTL = timedelta(seconds=30)


def lines_table(lines: Sequence[bytes], first_seq: int = 1) -> pa.Table:
    """``lines(seq, line)`` for DuckDB; text that is not UTF-8 is repaired, not dropped."""
    array = pa.array(lines, pa.binary())
    try:
        text = array.cast(pa.string())
    except pa.ArrowInvalid:
        text = pa.array([line.decode("utf-8", "replace") for line in lines], pa.string())
    return pa.table(
        {"seq": pa.array(range(first_seq, first_seq + len(lines)), pa.int64()), "line": text}
    )


def prepare_payloads(
    session: Session,
    con: duckdb.DuckDBPyConnection,
    workspace_id: uuid.UUID,
    payloads: Sequence[bytes],
    root: Path,
) -> pipeline.Plan:
    """Plan the load of inbox payloads of one workspace (normalised here, see
    :func:`spec.event_lines`)."""
    lines = [line for payload in payloads for line in spec.event_lines(payload)]
    con.register("lines", lines_table(lines))
    sqlnorm.from_events(con, "lines", "norm")
    # a table: every step of the load reads the batch, and a view would parse it each time
    con.execute(f"CREATE TEMP TABLE staged AS {pipeline.staged_sql('norm', workspace_id)}")
    return pipeline.prepare(session, con, workspace_id, root, "staged")


# -- the inbox -------------------------------------------------------------------------------


def pending(session: Session) -> bool:
    return session.scalar(select(InboxBatch.id).limit(1)) is not None


def load_inbox_once(
    factory: sessionmaker[Session], root: Path, holder: str, *, max_events: int = 20_000
) -> LoadResult | None:
    """Load up to ``max_events`` from the inbox.

    None when another loader holds the lease; an empty result when nothing waits. The write
    transaction at the end is short: the batch is read and planned, and its files written,
    before it, so the API's inbox writer is never kept waiting for long (on SQLite every
    transaction holds the database's one write lock).
    """
    with transaction(factory) as session:
        if not pending(session):
            return LoadResult()
        if not lease.acquire(session, LEASE_NAME, holder, LEASE_TTL):
            return None
        rows = [(r.id, r.workspace_id, r.payload) for r in _take(session, max_events)]
    connections: list[duckdb.DuckDBPyConnection] = []
    try:
        plans = []
        with read_transaction(factory) as session:
            grouped: dict[uuid.UUID, list[bytes]] = defaultdict(list)
            for _, workspace_id, payload in rows:
                grouped[workspace_id].append(payload)
            for workspace_id, payloads in grouped.items():
                con = pipeline.connect()
                connections.append(con)
                plans.append(prepare_payloads(session, con, workspace_id, payloads, root))
        for con, plan in zip(connections, plans, strict=True):
            pipeline.write(con, plan)
        result = LoadResult()
        with transaction(factory) as session:
            for plan in plans:
                pipeline.commit(session, plan)
                result.add(plan.result)
            ids = [row_id for row_id, _, _ in rows]
            gone = session.execute(
                delete(InboxBatch)
                .where(InboxBatch.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
            if gone.rowcount != len(ids):  # type: ignore[attr-defined]
                raise pipeline.LoadConflict("inbox rows were loaded by someone else meanwhile")
            lease.release(session, LEASE_NAME, holder)
        return result
    except BaseException:
        with transaction(factory) as session:
            lease.release(session, LEASE_NAME, holder)
        raise
    finally:
        for con in connections:
            con.close()


def _take(session: Session, max_events: int) -> list[InboxBatch]:
    rows: list[InboxBatch] = []
    total = 0
    for row in session.scalars(select(InboxBatch).order_by(InboxBatch.id).limit(1000)):
        rows.append(row)
        total += row.event_count
        if total >= max_events:
            break
    return rows


def drain(factory: sessionmaker[Session], root: Path, holder: str) -> LoadResult:
    """Load until the inbox is empty (tests, the demo, a worker catching up)."""
    total = LoadResult()
    while True:
        result = load_inbox_once(factory, root, holder)
        if result is None:
            raise RuntimeError("another loader holds the lease")
        if result.loaded == 0 and result.duplicates == 0:
            with transaction(factory) as session:
                if not pending(session):
                    return total
        total.add(result)
