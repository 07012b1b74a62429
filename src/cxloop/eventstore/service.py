"""The event store: which Parquet files are current, adding files, compaction, clean-up.

The ``event_file`` table is the manifest. A file is visible to analytics once its row
commits, and compaction swaps small files for one big file in a single commit, so readers
never see an event twice or miss one. Files are deleted only after a grace period, so a
query that started before a swap can finish reading.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from cxloop.analytics import events as store
from cxloop.config import Settings
from cxloop.core.ids import uuid7
from cxloop.core.time import utcnow
from cxloop.models import EventFile, EventIndex

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=10)


class CompactionConflict(Exception):
    """Two compactions raced for the same files; the loser rolls back."""


def events_root(settings: Settings) -> Path:
    return (settings.data_dir / "events").resolve()


def new_file_path(root: Path, workspace_id: uuid.UUID, period: date) -> Path:
    folder = store.partition_dir(root, str(workspace_id), period.strftime("%Y-%m"))
    return folder / f"part-{uuid7()}.parquet"


def register(
    session: Session, workspace_id: uuid.UUID, root: Path, stats: store.FileStats
) -> EventFile:
    """Make a written file part of the store; it becomes visible when the caller commits."""
    period = date.fromisoformat(stats.path.parent.name.removeprefix("month=") + "-01")
    row = EventFile(
        workspace_id=workspace_id,
        period=period,
        path=str(stats.path.relative_to(root)),
        row_count=stats.rows,
        byte_size=stats.bytes,
        min_timestamp=stats.min_timestamp,
        max_timestamp=stats.max_timestamp,
    )
    session.add(row)
    return row


def current_files(
    session: Session,
    workspace_id: uuid.UUID,
    root: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[str]:
    """Absolute paths of the workspace's current files, optionally only those that may hold
    events between ``since`` and ``until`` (the manifest keeps each file's time range)."""
    query = current_query(workspace_id, since, until, EventFile.path)
    return [str(root / p) for p in session.scalars(query)]


def current_query(
    workspace_id: uuid.UUID, since: datetime | None, until: datetime | None, *columns: Any
) -> Select[Any]:
    """``columns`` of the workspace's current files that may hold events between ``since`` and
    ``until``, in the order queries read them."""
    query = select(*columns).where(
        EventFile.workspace_id == workspace_id, EventFile.replaced_at.is_(None)
    )
    if since is not None:
        query = query.where(EventFile.max_timestamp >= since)
    if until is not None:
        query = query.where(EventFile.min_timestamp < until)
    return query.order_by(EventFile.period, EventFile.id)


def stats(session: Session, workspace_id: uuid.UUID) -> tuple[int, int]:
    """(events, files) currently in the store."""
    row = session.execute(
        select(func.coalesce(func.sum(EventFile.row_count), 0), func.count()).where(
            EventFile.workspace_id == workspace_id, EventFile.replaced_at.is_(None)
        )
    ).one()
    return int(row[0]), int(row[1])


def compaction_candidates(session: Session, min_files: int) -> list[tuple[uuid.UUID, date]]:
    """Partitions holding at least ``min_files`` current files."""
    rows = session.execute(
        select(EventFile.workspace_id, EventFile.period)
        .where(EventFile.replaced_at.is_(None))
        .group_by(EventFile.workspace_id, EventFile.period)
        .having(func.count() >= min_files)
    )
    return [(r[0], r[1]) for r in rows]


def compact_partition(
    session: Session, workspace_id: uuid.UUID, period: date, root: Path, *, max_rows: int
) -> int:
    """Merge the partition's small files into one; returns how many files were replaced."""
    rows: Sequence[EventFile] = session.scalars(
        select(EventFile)
        .where(
            EventFile.workspace_id == workspace_id,
            EventFile.period == period,
            EventFile.replaced_at.is_(None),
            EventFile.row_count < max_rows,
        )
        .order_by(EventFile.id)
    ).all()
    if len(rows) < 2:
        return 0
    # only files held by the same customer-event index (or by none) are merged: the new
    # file's events are then all in that index, or all outside it
    groups: dict[uuid.UUID | None, list[EventFile]] = {}
    for row in rows:
        groups.setdefault(row.index_id, []).append(row)
    index_id, rows = max(groups.items(), key=lambda g: len(g[1]))
    if len(rows) < 2:
        return 0
    out = new_file_path(root, workspace_id, period)
    stats_ = store.compact([root / r.path for r in rows], out)
    now = utcnow()
    same = EventFile.index_id.is_(None) if index_id is None else EventFile.index_id == index_id
    swapped = session.execute(
        update(EventFile)
        .where(EventFile.id.in_([r.id for r in rows]), EventFile.replaced_at.is_(None), same)
        .values(replaced_at=now)
        .execution_options(synchronize_session=False)
    )
    if swapped.rowcount != len(rows):  # type: ignore[attr-defined]
        out.unlink(missing_ok=True)
        raise CompactionConflict("another compaction or an index replaced these files first")
    register(session, workspace_id, root, stats_).index_id = index_id
    session.flush()
    return len(rows)


def collect_garbage(session: Session, root: Path, *, grace: timedelta = GRACE) -> int:
    """Delete files and indexes replaced longer than ``grace`` ago, and files no manifest row
    knows (left by a loader that died before its commit). Returns how many files went."""
    cutoff = utcnow() - grace
    removed = _remove_replaced(session, root, EventFile, cutoff)
    removed += _remove_replaced(session, root, EventIndex, cutoff)
    known = set(session.scalars(select(EventFile.path)))
    known |= set(session.scalars(select(EventIndex.path)))
    if root.exists():
        for dirpath, _, names in os.walk(root):
            for name in names:
                full = Path(dirpath) / name
                relative = str(full.relative_to(root))
                if relative in known:
                    continue
                if datetime.fromtimestamp(full.stat().st_mtime, tz=cutoff.tzinfo) < cutoff:
                    full.unlink(missing_ok=True)
                    removed += 1
    return removed


def _remove_replaced(
    session: Session, root: Path, model: type[EventFile] | type[EventIndex], cutoff: datetime
) -> int:
    """Delete the files of ``model`` rows replaced before ``cutoff``, and the rows."""
    old = session.execute(select(model.id, model.path).where(model.replaced_at < cutoff)).all()
    for _, path in old:
        (root / path).unlink(missing_ok=True)
    if old:
        session.execute(
            delete(model)
            .where(model.id.in_([r[0] for r in old]))
            .execution_options(synchronize_session=False)
        )
    return len(old)
