"""The customer-event index of a workspace: building it, and what a query reads with it.

The index (:func:`cxloop.analytics.events.write_index`) holds each profile's event times by
event name, grouped once, so a funnel reads a few hundred thousand rows instead of millions
of events. It is built from the files current at the time; files loaded later are the
*delta*, which queries read as events and group on the fly. Each file records the index
that holds it (``index_id``), and compaction merges only files held by the same index (or by
none), so a file's events are either in the current index or in the delta, never both.
A later build replaces the index in one commit; the old file goes after the grace period.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cxloop.analytics import events as store
from cxloop.analytics.portable import micros
from cxloop.core.db import read_transaction, transaction
from cxloop.core.ids import uuid7
from cxloop.core.time import utcnow
from cxloop.eventstore.service import current_query
from cxloop.models import EventFile, EventIndex

log = logging.getLogger(__name__)

# A workspace gets an index once it holds this many events: below, a funnel reads the events
# in well under a second.
MIN_EVENTS = 100_000
# The index is rebuilt once the events it does not hold reach this share of those it does.
STALE_SHARE = 0.2


class IndexConflict(Exception):
    """Compaction swapped files while the index was being built; the build is dropped."""


def current(session: Session, workspace_id: uuid.UUID) -> EventIndex | None:
    """The workspace's current index, of this layout or an older one (see :func:`readable`)."""
    return session.scalars(
        select(EventIndex)
        .where(EventIndex.workspace_id == workspace_id, EventIndex.replaced_at.is_(None))
        .order_by(EventIndex.created_at.desc())
        .limit(1)
    ).first()


def for_query(
    session: Session,
    workspace_id: uuid.UUID,
    root: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[str], store.Indexed | None]:
    """The current files that may hold events between ``since`` and ``until``, and the index
    with its delta among them; no index when reading the events is the better plan: there is
    none, or most of its events are outside the range (a short range over a long history)."""
    query = current_query(
        workspace_id,
        since,
        until,
        EventFile.path,
        EventFile.index_id,
        EventFile.row_count,
        EventFile.min_timestamp,
        EventFile.max_timestamp,
    )
    rows = session.execute(query).all()
    files = [str(root / r.path) for r in rows]
    index = current(session, workspace_id)
    if index is None or not readable(index):
        return files, None
    held = sum(int(r.row_count) for r in rows if r.index_id == index.id)
    if held * 2 < index.event_count:
        return files, None
    delta = [r for r in rows if r.index_id != index.id]
    lows = [r.min_timestamp for r in delta] + [index.min_timestamp]
    highs = [r.max_timestamp for r in delta] + [index.max_timestamp]
    known_lows = [_aware(t) for t in lows if t is not None]
    known_highs = [_aware(t) for t in highs if t is not None]
    span = (micros(min(known_lows)), micros(max(known_highs))) if known_lows else None
    return files, store.Indexed(str(root / index.path), [str(root / r.path) for r in delta], span)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def readable(index: EventIndex) -> bool:
    """Whether queries can read the index: it has this version's layout
    (:data:`cxloop.analytics.events.INDEX_FORMAT`). One of an older layout is rebuilt."""
    return Path(index.path).name.startswith(f"index-{store.INDEX_FORMAT}-")


def workspaces(session: Session) -> list[uuid.UUID]:
    """The workspaces with current event files."""
    query = select(EventFile.workspace_id).where(EventFile.replaced_at.is_(None)).distinct()
    return list(session.scalars(query))


def due(session: Session, workspace_id: uuid.UUID) -> bool:
    """Whether the workspace's index should be (re)built."""
    rows = session.execute(
        select(EventFile.index_id, EventFile.row_count).where(
            EventFile.workspace_id == workspace_id, EventFile.replaced_at.is_(None)
        )
    ).all()
    index = current(session, workspace_id)
    total = sum(int(r.row_count) for r in rows)
    if index is None or not readable(index):
        return total >= MIN_EVENTS
    outside = sum(int(r.row_count) for r in rows if r.index_id != index.id)
    return outside > STALE_SHARE * max(total - outside, 1)


def refresh(
    factory: sessionmaker[Session],
    workspace_id: uuid.UUID,
    root: Path,
    building: Callable[[], None] | None = None,
) -> EventIndex | None:
    """Build the workspace's index if it is :func:`due`; the new index, or None when none was
    due or a compaction changed the files meanwhile (the next round builds it). ``building``
    is called once a build starts (a progress step)."""
    with read_transaction(factory) as session:
        if not due(session, workspace_id):
            return None
    if building is not None:
        building()
    try:
        return build(factory, workspace_id, root)
    except IndexConflict:  # compaction or another worker's build came first
        log.info("index of %s not built: its files changed meanwhile", workspace_id)
        return None


def build(factory: sessionmaker[Session], workspace_id: uuid.UUID, root: Path) -> EventIndex | None:
    """Index the workspace's current files and make it the current index, in three steps so
    that no lock is held while the file is written: read the manifest, write the index, then
    claim the files in one short transaction. Raises :class:`IndexConflict` (and leaves no
    trace) when a compaction swapped one of the files meanwhile."""
    with read_transaction(factory) as session:
        rows = session.execute(
            select(
                EventFile.id,
                EventFile.path,
                EventFile.index_id,
                EventFile.min_timestamp,
                EventFile.max_timestamp,
            ).where(EventFile.workspace_id == workspace_id, EventFile.replaced_at.is_(None))
        ).all()
    if not rows:
        return None
    path = (
        root
        / f"workspace={workspace_id}"
        / "index"
        / f"index-{store.INDEX_FORMAT}-{uuid7()}.parquet"
    )
    count = store.write_index([root / r.path for r in rows], path)
    try:
        with transaction(factory) as session:
            index = EventIndex(
                workspace_id=workspace_id,
                path=str(path.relative_to(root)),
                event_count=count,
                byte_size=path.stat().st_size,
                min_timestamp=min(r.min_timestamp for r in rows),
                max_timestamp=max(r.max_timestamp for r in rows),
            )
            session.add(index)
            session.flush()
            _claim(session, rows, index.id)
            session.execute(
                update(EventIndex)
                .where(
                    EventIndex.workspace_id == workspace_id,
                    EventIndex.replaced_at.is_(None),
                    EventIndex.id != index.id,
                )
                .values(replaced_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    log.info("indexed %d events of workspace %s", count, workspace_id)
    return index


def _claim(session: Session, rows: Sequence[Any], index_id: uuid.UUID) -> None:
    """Mark the files as held by the index. They must still be current and held by the index
    they were read with: a compaction that swapped one meanwhile would leave its events both
    in this index and in its new file."""
    claimed = 0
    for previous in {r.index_id for r in rows}:
        ids = [r.id for r in rows if r.index_id == previous]
        same = EventFile.index_id.is_(None) if previous is None else EventFile.index_id == previous
        result = session.execute(
            update(EventFile)
            .where(EventFile.id.in_(ids), EventFile.replaced_at.is_(None), same)
            .values(index_id=index_id)
            .execution_options(synchronize_session=False)
        )
        claimed += result.rowcount  # type: ignore[attr-defined]
    if claimed != len(rows):
        raise IndexConflict("compaction swapped files while the index was being built")
