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

**Stale while revalidating.** Where events arrive all day, the state changes every few
seconds, and a page that waited for every figure to be read again would wait on each view.
So :func:`recall` may answer with the figure read from an earlier state, if it was read at
most ``stale_seconds`` ago, and read it again in the background (one figure at a time, in one
thread of the process); the page says how old what it shows is. Without ``stale_seconds`` or
past it, the figure is read while the request waits. A figure is read once at a time: a
request that needs one already being read waits for that reading.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.core.time import utcnow
from cxloop.models import EventFile, Profile

SIZE = 256
T = TypeVar("T")

log = logging.getLogger(__name__)
_lock = threading.Lock()
_kept: OrderedDict[tuple[Hashable, ...], Kept[Any]] = OrderedDict()
# the readings under way, by question: a second asker waits for the first one's answer
_reading: dict[tuple[Hashable, ...], Future[Any]] = {}
# one reading in the background at a time (its thread starts at the first)
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxloop-figures")


@dataclass(frozen=True)
class Kept(Generic[T]):
    """A figure and the state it was read from."""

    value: T
    state: str
    at: datetime  # when it was read
    current: bool = True  # read from the state the question was asked of


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


def recall(
    question: tuple[Hashable, ...],
    state: str,
    compute: Callable[[], T],
    *,
    refresh: Callable[[], T] | None = None,
    stale_seconds: float = 0.0,
) -> Kept[T]:
    """The answer to ``question`` read from ``state``: kept, read now by ``compute()``, or
    (with ``refresh``) one read from an earlier state at most ``stale_seconds`` ago while
    ``refresh()`` reads it again in the background (see the module's docstring)."""
    with _lock:
        kept = _kept.get(question)
        if kept is not None:
            _kept.move_to_end(question)
            if kept.state == state:
                return kept
            if refresh is not None and (utcnow() - kept.at).total_seconds() <= stale_seconds:
                if (question, state) not in _reading:
                    _reading[(question, state)] = _background.submit(
                        _read, question, state, refresh
                    )
                return replace(kept, current=False)
        running = _reading.get((question, state))
        if running is None:
            running = Future()
            _reading[(question, state)] = running
            mine = True
        else:
            mine = False
    if not mine:
        value: T = running.result()
        return Kept(value, state, utcnow())
    try:
        value = compute()
    except BaseException as exc:
        with _lock:
            _reading.pop((question, state), None)
        running.set_exception(exc)
        raise
    found = _keep(question, state, value)
    running.set_result(value)
    return found


def _read(question: tuple[Hashable, ...], state: str, refresh: Callable[[], T]) -> T:
    try:
        value = refresh()
    except Exception:  # the stale figure stays; the next view tries again
        log.exception("reading %r again failed", question[0])
        with _lock:
            _reading.pop((question, state), None)
        raise
    _keep(question, state, value)
    return value


def _keep(question: tuple[Hashable, ...], state: str, value: T) -> Kept[T]:
    found = Kept(value, state, utcnow())
    with _lock:
        _reading.pop((question, state), None)
        _kept[question] = found
        _kept.move_to_end(question)
        while len(_kept) > SIZE:
            _kept.popitem(last=False)
    return found


class Keeper:
    """:func:`recall` for one request of one workspace: each answer is read through a
    session (the request's, or in the background one of ``reads``) and :attr:`as_of` keeps
    when the oldest stale answer given was read (None: every answer is the newest)."""

    def __init__(
        self,
        session: Session,
        workspace_id: uuid.UUID,
        reads: Callable[[], AbstractContextManager[Session]] | None = None,
        stale_seconds: float = 0.0,
    ) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.state = state(session, workspace_id)
        self.reads = reads if stale_seconds > 0 else None
        self.stale_seconds = stale_seconds
        self.as_of: datetime | None = None

    def __call__(self, question: tuple[Hashable, ...], read: Callable[[Session], T]) -> T:
        refresh = None
        reads = self.reads
        if reads is not None:

            def refresh() -> T:
                with reads() as session:
                    return read(session)

        kept = recall(
            (self.workspace_id, *question),
            self.state,
            lambda: read(self.session),
            refresh=refresh,
            stale_seconds=self.stale_seconds,
        )
        if not kept.current:
            self.as_of = kept.at if self.as_of is None else min(self.as_of, kept.at)
        return kept.value


def in_background(task: Callable[[], object]) -> None:
    """Run ``task`` in the thread that reads figures again (after what is queued there);
    what it raises is logged."""

    def run() -> None:
        try:
            task()
        except Exception:
            log.exception("a task of the figures' thread failed")

    _background.submit(run)


def settle(timeout: float | None = None) -> bool:
    """Wait until what the figures' thread was given so far is done; False if that took
    longer than ``timeout`` seconds."""
    try:
        _background.submit(lambda: None).result(timeout)
    except TimeoutError:
        return False
    return True


def forget() -> None:
    """Drop every kept figure."""
    with _lock:
        _kept.clear()
