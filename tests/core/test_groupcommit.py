"""The group committer: concurrent changes share commits, each keeps its own outcome."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cxloop.core.groupcommit import CommitterClosed, GroupCommitter
from cxloop.models import Workspace


def add(name: str):  # type: ignore[no-untyped-def]
    def apply(session: Session) -> str:
        session.add(Workspace(name=name, display_name=name.title()))
        session.flush()
        return name

    return apply


def queued(committer: GroupCommitter, count: int) -> None:
    """Wait until ``count`` changes wait behind the one the writer is running."""
    deadline = time.monotonic() + 10
    while committer._queue.qsize() < count and time.monotonic() < deadline:
        time.sleep(0.005)


def names(factory: sessionmaker[Session]) -> set[str]:
    with factory() as session:
        return set(session.scalars(select(Workspace.name)))


def test_concurrent_changes_share_commits_and_all_are_stored(
    committing: sessionmaker[Session],
) -> None:
    committer = GroupCommitter(committing)
    release = threading.Event()

    def blocker(session: Session) -> str:
        release.wait(10)  # holds the writer while the others queue up behind it
        return add("first")(session)

    with ThreadPoolExecutor(max_workers=21) as pool:
        first = pool.submit(committer.run, blocker)
        rest = [pool.submit(committer.run, add(f"shop-{i}")) for i in range(20)]
        queued(committer, 20)
        release.set()
        results = [first.result(10), *(f.result(10) for f in rest)]
    committer.stop()

    assert results == ["first", *(f"shop-{i}" for i in range(20))]
    assert names(committing) == set(results)
    assert committer.changes == 21
    assert committer.batches <= 2  # the blocker, then the twenty that waited, together


def test_a_failing_change_is_undone_alone_and_its_caller_gets_the_error(
    committing: sessionmaker[Session],
) -> None:
    committer = GroupCommitter(committing)
    committer.run(add("taken"))
    release = threading.Event()

    def blocker(session: Session) -> str:
        release.wait(10)
        return add("before")(session)

    with ThreadPoolExecutor(max_workers=3) as pool:
        before = pool.submit(committer.run, blocker)
        clash = pool.submit(committer.run, add("taken"))
        after = pool.submit(committer.run, add("after"))
        queued(committer, 2)
        release.set()
        assert before.result(10) == "before"
        with pytest.raises(IntegrityError):
            clash.result(10)
        assert after.result(10) == "after"
    committer.stop()
    assert names(committing) == {"taken", "before", "after"}


def test_after_stop_nothing_runs(committing: sessionmaker[Session]) -> None:
    committer = GroupCommitter(committing)
    committer.run(add("one"))
    committer.stop()
    with pytest.raises(CommitterClosed):
        committer.run(add("two"))
    with committing() as session:
        assert session.scalar(select(func.count()).select_from(Workspace)) == 1
