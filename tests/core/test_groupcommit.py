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


def add_many(session: Session, items: list[str]) -> list[str | BaseException]:
    """A batch handler: names with a space are refused; a name ``boom`` fails the batch."""
    if "boom" in items and len(items) > 1:
        raise RuntimeError("the batch as a whole failed")
    outcomes: list[str | BaseException] = []
    for name in items:
        if " " in name:
            outcomes.append(ValueError(f"{name!r} has a space"))
            continue
        session.add(Workspace(name=name, display_name=name.title()))
        outcomes.append(name)
    session.flush()
    return outcomes


def test_batched_items_go_to_their_handler_together_and_keep_their_own_outcomes(
    committing: sessionmaker[Session],
) -> None:
    committer = GroupCommitter(committing)
    release = threading.Event()
    seen: list[int] = []

    def counting(session: Session, items: list[str]) -> list[str | BaseException]:
        seen.append(len(items))
        return add_many(session, items)

    started = threading.Event()

    def blocker(session: Session) -> str:
        started.set()
        release.wait(10)
        return add("first")(session)

    with ThreadPoolExecutor(max_workers=12) as pool:
        first = pool.submit(committer.run, blocker)
        assert started.wait(10)  # the writer holds it: the rest queue behind, together
        names_in = [f"shop-{i}" if i != 4 else "bad name" for i in range(10)]
        rest = [pool.submit(committer.run_batched, counting, n) for n in names_in]
        queued(committer, 10)
        release.set()
        assert first.result(10) == "first"
        with pytest.raises(ValueError, match="has a space"):
            rest[4].result(10)
        done = [f.result(10) for i, f in enumerate(rest) if i != 4]
    committer.stop()
    assert seen == [10]  # one call for the ten that waited
    assert names(committing) == {"first", *done}


def test_a_batch_that_fails_as_a_whole_runs_each_item_alone(
    committing: sessionmaker[Session],
) -> None:
    committer = GroupCommitter(committing)
    committer.run(add("taken"))
    release = threading.Event()

    started = threading.Event()

    def blocker(session: Session) -> str:
        started.set()
        release.wait(10)
        return add("before")(session)

    with ThreadPoolExecutor(max_workers=5) as pool:
        before = pool.submit(committer.run, blocker)
        assert started.wait(10)
        items = ["one", "boom", "taken", "two"]  # "taken" breaks the unique name on its own
        futures = [pool.submit(committer.run_batched, add_many, n) for n in items]
        queued(committer, 4)
        release.set()
        assert before.result(10) == "before"
        assert futures[0].result(10) == "one"
        assert futures[1].result(10) == "boom"  # alone, it is fine
        with pytest.raises(IntegrityError):
            futures[2].result(10)
        assert futures[3].result(10) == "two"
    committer.stop()
    assert names(committing) == {"taken", "before", "one", "boom", "two"}
