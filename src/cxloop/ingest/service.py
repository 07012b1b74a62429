"""Events that cxloop itself records (survey responses, cases, ...), and reading what was sent.

Other domains record their events through :func:`record`: the events go into the inbox in
the caller's transaction, so the domain row and its event commit together (or not at all)
and the loader moves them into the event store like any event sent to the API.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cxloop.core.db import transaction
from cxloop.core.time import utcnow
from cxloop.ingest import errors, loader, spec
from cxloop.models import InboxBatch

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
