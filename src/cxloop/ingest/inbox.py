"""The inbox writer: group commit for the ingestion API.

Each request hands its validated events to one writer thread and waits. The thread writes
everything that queued up meanwhile in one transaction and one fsync, then wakes every
waiting request: the answer 200 is given only after the events are durable, and a busy
server pays one commit per group instead of one per request.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cxloop.core.db import write_rows
from cxloop.models import InboxBatch

log = logging.getLogger(__name__)
_INBOX = cast(Table, InboxBatch.__table__)

# Set after every commit, so a loader in the same process starts at once instead of polling.
written = threading.Event()


@dataclass(slots=True)
class _Pending:
    workspace_id: uuid.UUID
    payload: bytes
    count: int
    received_at: datetime
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


class InboxUnavailable(Exception):
    """The inbox could not store the events; the client should retry."""


def _resolve(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class InboxWriter:
    def __init__(self, factory: sessionmaker[Session], *, max_group: int = 512) -> None:
        self.factory = factory
        self.engine: Engine = factory.kw["bind"]
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.commits = 0
        self.rows = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cxloop-inbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(30)
            self._thread = None

    async def write(
        self, workspace_id: uuid.UUID, payload: bytes, count: int, received_at: datetime
    ) -> None:
        """Return once the events are committed; raise :class:`InboxUnavailable` if not.

        ``payload`` is deflated here, in the writer thread: zlib lets go of the interpreter
        lock while it works, so the requests' thread does not pay for it.
        """
        if self._thread is None:
            raise InboxUnavailable("the inbox writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Pending(workspace_id, payload, count, received_at, future, loop))
        await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stopping = False
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
            self._commit(group)
            if stopping:
                return

    def _commit(self, group: list[_Pending]) -> None:
        error: BaseException | None = None
        try:
            # a plain connection, not a session: this thread shares the GIL with the requests,
            # and an ORM session's bookkeeping would cost more than the insert itself
            with self.engine.begin() as connection:
                write_rows(
                    connection,
                    _INBOX,
                    [
                        {
                            "workspace_id": p.workspace_id,
                            "payload": zlib.compress(p.payload, 1),
                            "event_count": p.count,
                            "received_at": p.received_at,
                        }
                        for p in group
                    ],
                )
            self.commits += 1
            self.rows += len(group)
            written.set()
        except Exception as exc:
            log.exception("inbox commit of %d requests failed", len(group))
            error = InboxUnavailable(f"the inbox could not store the events: {type(exc).__name__}")
        for pending in group:
            pending.loop.call_soon_threadsafe(_resolve, pending.future, error)
