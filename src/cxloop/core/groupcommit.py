"""Group commit: many small writes from concurrent requests share one transaction.

A request that must not answer before its change is durable hands the change, as a function
of a session, to :meth:`GroupCommitter.run` and waits. One writer thread takes every change
waiting at that moment, runs each in its own savepoint of one transaction, commits once and
wakes the callers with their results. While a batch commits the next one gathers, so under
load one commit (and, on SQLite, one fsync) serves many requests; alone, a change commits as
soon as it arrives. A change that fails is rolled back to its savepoint and its error goes
to its caller; the others still commit. If the commit itself fails, every caller of the
batch gets the error: nothing was stored for any of them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_BATCH = 128


class CommitterClosed(RuntimeError):
    """The committer was stopped; the change was not run."""


@dataclass
class _Change:
    apply: Callable[[Session], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


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
        change = _Change(apply)
        with self._lock:
            if self._closed:
                raise CommitterClosed("the writer is stopped")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
                self._thread.start()
            self._queue.put(change)
        change.done.wait()
        if change.error is not None:
            raise change.error
        result: T = change.result
        return result

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
            for change in batch:
                try:
                    with session.begin_nested():
                        change.result = change.apply(session)
                except Exception as exc:  # the caller gets it; the others go on
                    change.error = exc
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
