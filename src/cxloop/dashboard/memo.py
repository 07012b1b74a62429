"""Figures read from the event store, kept in this process while the store is unchanged.

The journey pages read a workspace's whole history (a stage is entered at the first matching
event ever), which takes seconds on a large workspace, and the same figures are asked for
again and again: the map, then each of its touchpoints (whose rank comes from the same
ranking), then the map in another language or with another touchpoint open.

Event files are never changed in place: new events, compaction and erasure each write new
files under new paths. So the set of a workspace's current files, with the number of merged
profiles (a merge changes who is who without writing a file), names the state the figures
were read from, and a figure is reused only for the same question asked of the same state.
Each process keeps the :data:`SIZE` figures used last. They are aggregates (counts, scores,
shares), never a customer's own data.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.models import EventFile, Profile

SIZE = 256
T = TypeVar("T")

_lock = threading.Lock()
_kept: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()


def state(session: Session, workspace_id: uuid.UUID) -> str:
    """A digest of the workspace's current event files and merges."""
    paths = session.scalars(
        select(EventFile.path)
        .where(EventFile.workspace_id == workspace_id, EventFile.replaced_at.is_(None))
        .order_by(EventFile.path)
    )
    merged = session.scalar(
        select(func.count())
        .select_from(Profile)
        .where(Profile.workspace_id == workspace_id, Profile.merged_into_id.is_not(None))
    )
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.encode() + b"\n")
    digest.update(f"merged {merged}".encode())
    return digest.hexdigest()


def remember(key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """The figure kept under ``key``, or ``compute()`` kept under it. Two requests asking
    for a new figure at once may both compute it; either answer is the same."""
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            found: T = _kept[key]
            return found
    value = compute()
    with _lock:
        _kept[key] = value
        while len(_kept) > SIZE:
            _kept.popitem(last=False)
    return value


def forget() -> None:
    """Drop every kept figure."""
    with _lock:
        _kept.clear()
