"""Events that cxloop itself records (survey responses, cases, ...), and reading what was sent.

Other domains record their events through :func:`record`: the events go into the inbox in
the caller's transaction, so the domain row and its event commit together (or not at all)
and the loader moves them into the event store like any event sent to the API.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cxloop.accounts import service as accounts
from cxloop.core.db import READ_ONLY, transaction
from cxloop.core.errors import CxloopError
from cxloop.core.time import utcnow
from cxloop.ingest import errors, loader, spec
from cxloop.jobs.lease import holder_id
from cxloop.models import InboxBatch, Scope

log = logging.getLogger(__name__)
# a key's last use is written at most every touch interval; this much before it ends, a
# request may still write it, so its transaction must not begin as a reader
_TOUCH_MARGIN = timedelta(seconds=1)

_encoder = msgspec.json.Encoder()


def record(session: Session, workspace_id: uuid.UUID, messages: Sequence[Mapping[str, Any]]) -> int:
    """Validate Segment-shaped messages and add them to the inbox; returns how many.

    All or nothing: one invalid message raises :class:`errors.InvalidBatch` naming each
    problem with its index, because the caller's own change would otherwise commit without
    its event.
    """
    received_at = utcnow()
    events: list[spec.Event] = []
    problems: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        raw = _encoder.encode(message)
        try:
            events.append(
                spec.normalise(spec.decode_message(raw), received_at=received_at, raw_size=len(raw))
            )
        except spec.MessageError as exc:
            problems.append({"index": index, "loc": ["batch", index, *exc.loc], "msg": exc.reason})
    if problems:
        first = problems[0]
        raise errors.InvalidBatch(
            f"event {first['index']}: {'.'.join(map(str, first['loc']))}: {first['msg']}",
            extra={"errors": problems},
        )
    if events:
        session.add(
            InboxBatch(
                workspace_id=workspace_id,
                received_at=received_at,
                event_count=len(events),
                payload=spec.pack_events(events),
            )
        )
        session.flush()
    return len(events)


def settle(
    factory: sessionmaker[Session],
    root: Path,
    workspace_id: uuid.UUID,
    *,
    holder: str,
    timeout: float = 10.0,
) -> bool:
    """Wait until what the workspace's inbox held when called is in the event store.

    Read-your-writes for analytics: an answer just submitted counts in the figures asked for
    next. Loads the inbox itself when no loader is at work; True when settled in time.
    """
    with transaction(factory) as session:
        newest = session.scalar(
            select(func.max(InboxBatch.id)).where(InboxBatch.workspace_id == workspace_id)
        )
    if newest is None:
        return True
    deadline = time.monotonic() + timeout
    while True:
        with transaction(factory) as session:
            waiting = session.scalar(
                select(InboxBatch.id)
                .where(InboxBatch.workspace_id == workspace_id, InboxBatch.id <= newest)
                .limit(1)
            )
        if waiting is None:
            return True
        if time.monotonic() >= deadline:
            return False
        if loader.load_inbox_once(factory, root, holder) is None:
            time.sleep(0.05)  # the worker's loader is at it


def settle_for_key(
    factory: sessionmaker[Session], root: Path, token: str, touch_interval: timedelta
) -> datetime | None:
    """:func:`settle` the workspace of a read key before a request that reads the event
    store; returns when the key's use was last written (None for a key that does not
    authenticate, left to the request to refuse).

    Runs before the request's own transaction begins: on SQLite that transaction would hold
    the write lock the loader needs.
    """
    with transaction(factory) as session:
        try:
            key = accounts.authenticate_key(session, token, touch_interval=touch_interval)
        except CxloopError:
            return None
        workspace_id, allowed = key.workspace_id, accounts.scope_allows(key.scope, Scope.READ)
        used_at = key.last_used_at
    if allowed and not settle(factory, root, workspace_id, holder=holder_id("reader")):
        log.warning("the inbox of %s did not settle in time", workspace_id)
    return used_at


def begin_reading(session: Session, used_at: datetime | None, touch_interval: timedelta) -> None:
    """Begin the request's transaction as a reader (on SQLite it then holds no write lock
    while figures are computed), unless authenticating the request will write the key's
    last use (a write in a reader's transaction can fail when another writer committed)."""
    fresh = used_at is not None and utcnow() - used_at < touch_interval - _TOUCH_MARGIN
    if fresh and not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})
