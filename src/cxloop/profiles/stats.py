"""Customers' statistics recounted from the event store: events, first and last seen, and
the counts by type and by channel.

The event files are the truth; this repairs profiles after a bulk import (which skips
per-batch statistics) or anything else. DuckDB counts and writes each customer's values as
the operational store keeps them, in one JSON array for thousands of customers, and one
statement per array updates them: no Python object per customer on the way.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from cxloop.analytics import events as store
from cxloop.analytics.portable import passive_sql
from cxloop.core.db import UTCDateTime
from cxloop.core.time import utcnow
from cxloop.eventstore.service import current_files
from cxloop.profiles.service import merge_map

# how each database keeps a profile's id and a time (see cxloop.core.db)
_FORMATS = {
    "sqlite": ("replace(customer_id, '-', '')", "%Y-%m-%d %H:%M:%S.%f"),
    "postgresql": ("customer_id", "%Y-%m-%dT%H:%M:%S.%f+00:00"),
}
_UPDATES = {
    "sqlite": (
        "UPDATE profile SET event_count = j.value ->> '$[1]', "
        "first_seen_at = j.value ->> '$[2]', last_seen_at = j.value ->> '$[3]', "
        "counters = j.value -> '$[4]', channels = j.value -> '$[5]', updated_at = :now "
        "FROM json_each(:rows) AS j WHERE profile.id = j.value ->> '$[0]'"
    ),
    "postgresql": (
        "UPDATE profile AS p SET event_count = CAST(j ->> 1 AS integer), "
        "first_seen_at = CAST(j ->> 2 AS timestamptz), "
        "last_seen_at = CAST(j ->> 3 AS timestamptz), "
        "counters = j -> 4, channels = j -> 5, updated_at = :now "
        "FROM json_array_elements(CAST(:rows AS json)) AS j WHERE p.id = CAST(j ->> 0 AS uuid)"
    ),
}


def recompute_stats(
    session: Session, workspace_id: uuid.UUID, root: Path, only: set[uuid.UUID] | None = None
) -> int:
    """Set every customer's counts, channels and first/last seen from the event store.

    ``only`` limits it to these profiles (a merged id stands for the customer it became).
    Returns how many profiles were written.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in _FORMATS:
        raise ValueError(f"no statistics statement for the {dialect} database")
    identifier, moment = _FORMATS[dialect]
    files = current_files(session, workspace_id, root)
    mapping = merge_map(session, workspace_id, fresh=True)  # merges of this transaction
    tables: dict[str, pa.Table] = {}
    where = ""
    if only is not None:
        wanted = {mapping.get(str(p), str(p)) for p in only}
        tables["wanted"] = pa.table({"id": pa.array(sorted(wanted), pa.string())})
        where = "WHERE customer_id IN (SELECT id FROM wanted) "
    # ids come from this workspace's own files and merge map; the formats are constants
    sql = (
        f"SELECT CAST(json_array({identifier}, count(*), "  # noqa: S608
        f"strftime(min(timestamp), '{moment}'), "
        f"strftime(max(timestamp) FILTER (WHERE NOT {passive_sql()}), '{moment}'), "
        "CAST(histogram(type) AS JSON), CAST(histogram(channel) AS JSON)) AS VARCHAR) AS row "
        f"FROM events {where}GROUP BY customer_id"
    )
    # the time goes through the column's own type: the text SQLite keeps, a timestamp elsewhere
    statement = text(_UPDATES[dialect]).bindparams(bindparam("now", type_=UTCDateTime()))
    now = utcnow()
    written = 0
    for batch in store.iter_batches(files, mapping, sql, batch_rows=20_000, tables=tables):
        rows = batch.column(0).to_pylist()
        if rows:
            session.execute(statement, {"rows": "[" + ",".join(rows) + "]", "now": now})
            written += len(rows)
    return written
