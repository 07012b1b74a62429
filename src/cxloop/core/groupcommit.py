"""Group commit: many small writes from concurrent requests share one transaction.

A request that must not answer before its change is durable hands the change, as a function
of a session, to :meth:`GroupCommitter.run` and waits. One writer thread takes every change
waiting at that moment, runs each in its own savepoint of one transaction, commits once and
wakes the callers with their results. While a batch commits the next one gathers, so under
load one commit (and, on SQLite, one fsync) serves many requests; alone, a change commits as
soon as it arrives. A change that fails is rolled back to its savepoint and its error goes
to its caller; the others still commit. If the commit itself fails, every caller of the
batch gets the error: nothing was stored for any of them.

A kind of change that is cheaper done many at a time (one query for all the rows, one
multi-row insert) comes with a :class:`Batch` handler through :meth:`GroupCommitter.run_batched`:
the waiting items of the same handler go to it together, in one savepoint. If that savepoint
fails as a whole, each of its items runs again alone, in its own, so one bad item still costs
nobody else their change.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
Item = TypeVar("Item")
R = TypeVar("R")
MAX_BATCH = 128

# Applies many items of one kind in one go and returns, in their order, each item's result or
# the exception that refused it. A refused item must leave nothing in the session; an
# exception raised out of the handler fails all its items, which then run alone.
Batch = Callable[[Session, list[Item]], list[R | BaseException]]


class CommitterClosed(RuntimeError):
    """The committer was stopped; the change was not run."""


@dataclass
class _Change:
    apply: Callable[[Session], Any]
    batch: Batch[Any, Any] | None = None
    item: Any = None
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None
    notify: Callable[[], object] | None = None  # called from the writer once done


class GroupCommitter:
    def __init__(self, factory: sessionmaker[Session], *, max_batch: int = MAX_BATCH) -> None:
        self._factory = factory
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Change | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0
        self.changes = 0

    def run(self, apply: Callable[[Session], T]) -> T:
        """Run ``apply`` in a shared transaction and return its result once committed."""
        result: T = self._wait(_Change(apply))
        return result

    def run_batched(self, batch: Batch[Item, R], item: Item) -> R:
        """Have ``batch`` apply ``item``, with the other items waiting for the same handler,
        in a shared transaction; return the item's result once committed."""
        result: R = self._wait(self._change_batched(batch, item))
        return result

    async def run_batched_async(self, batch: Batch[Item, R], item: Item) -> R:
        """:meth:`run_batched` for a coroutine: the event loop goes on while it waits."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not waiter.done():
                waiter.set_result(None)

        change = self._change_batched(batch, item)
        change.notify = lambda: loop.call_soon_threadsafe(wake)
        self._enqueue(change)
        await waiter
        if change.error is not None:
            raise change.error
        result: R = change.result
        return result

    def _change_batched(self, batch: Batch[Item, R], item: Item) -> _Change:
        def alone(session: Session) -> R:
            outcome = batch(session, [item])[0]
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        return _Change(alone, batch, item)

    def _wait(self, change: _Change) -> Any:
        self._enqueue(change)
        change.done.wait()
        if change.error is not None:
            raise change.error
        return change.result

    def _enqueue(self, change: _Change) -> None:
        with self._lock:
            if self._closed:
                raise CommitterClosed("the writer is stopped")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
                self._thread.start()
            self._queue.put(change)

    def stop(self) -> None:
        """Finish what is queued, then stop."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._commit(batch)
            if stopping:
                return

    def _commit(self, batch: list[_Change]) -> None:
        session = self._factory()
        try:
            for group in _runs(batch):
                _apply_together(session, group)
            session.commit()
            self.batches += 1
            self.changes += len(batch)
        except BaseException as exc:
            log.exception("a group commit of %d changes failed", len(batch))
            session.rollback()
            for change in batch:
                if change.error is None:
                    change.error = exc
        finally:
            session.close()
            for change in batch:
                change.done.set()
                if change.notify is not None:
                    try:
                        change.notify()
                    except RuntimeError:  # its event loop is closed: nobody waits any more
                        log.debug("a waiter's event loop closed before its commit")


def _runs(batch: list[_Change]) -> list[list[_Change]]:
    """The batch cut where the handler changes, order kept."""
    runs: list[list[_Change]] = []
    for change in batch:
        if runs and runs[-1][0].batch == change.batch:
            runs[-1].append(change)
        else:
            runs.append([change])
    return runs


def _apply_alone(session: Session, change: _Change) -> None:
    try:
        with session.begin_nested():
            change.result = change.apply(session)
    except Exception as exc:  # the caller gets it; the others go on
        change.error = exc


def _apply_together(session: Session, group: list[_Change]) -> None:
    handler = group[0].batch
    if handler is None or len(group) == 1:
        for change in group:
            _apply_alone(session, change)
        return
    try:
        with session.begin_nested():
            outcomes = handler(session, [change.item for change in group])
    except Exception:
        log.debug("a batch of %d failed as a whole; each runs alone", len(group), exc_info=True)
        for change in group:
            _apply_alone(session, change)
        return
    for change, outcome in zip(group, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            change.error = outcome
        else:
            change.result = outcome
