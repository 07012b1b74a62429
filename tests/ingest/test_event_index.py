"""The customer-event index in the store: built by a job, read with the files newer than it,
kept apart from them by compaction, removed when replaced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from cxloop.analytics import events as store
from cxloop.core.db import transaction
from cxloop.core.time import set_clock, utcnow
from cxloop.eventstore import index as event_index
from cxloop.eventstore import service as eventstore
from cxloop.eventstore import tasks
from cxloop.jobs.registry import LoopContext
from cxloop.models import EventFile, EventIndex
from tests.fixtures.events import record_queries
from tests.fixtures.ingest import Live, track
from tests.journeys.test_router import NOW, START, post, shop

STEPS = ("Product Viewed", "Product Added", "Order Completed")
FUNNEL = {
    "steps": [{"event": name} for name in STEPS],
    "window_days": 7,
    "from": START.date().isoformat(),
    "to": NOW.date().isoformat(),
}


def funnel(live: Live) -> list[Any]:
    response = post(live, "/api/v1/analytics/funnel", FUNNEL)
    assert response.status_code == 200, response.text
    return [(s["customers"], s["median_seconds_to_convert"]) for s in response.json()["steps"]]


def plain(live: Live, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The funnel read from the events alone."""
    with monkeypatch.context() as patch:
        patch.setattr(event_index, "current", lambda session, workspace_id: None)
        return funnel(live)


def build(live: Live) -> EventIndex | None:
    return event_index.build(live.factory, live.workspace_id, live.root)


def more(live: Live, n: int) -> None:
    h = timedelta(hours=1)
    batch = [track({"userId": f"n{n}"}, "Product Viewed", START + h)]
    batch.append(track({"userId": f"n{n}"}, "Product Added", START + 2 * h))
    batch.append(track({"userId": "u2"}, "Product Added", START + (n + 1) * h))
    assert live.send("/v1/batch", {"batch": batch}).status_code == 200
    live.load()


def test_funnels_read_the_index_and_the_newer_files_alike(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop(live)
    live.load()
    before = funnel(live)
    with transaction(live.factory) as session:
        assert event_index.due(session, live.workspace_id) is False  # too few events
    assert build(live) is not None
    ran = record_queries(monkeypatch)
    assert funnel(live) == before == [(3, None), (2, 7200.0), (1, 7200.0)]
    assert "event_times" in ran[-1]
    more(live, 1)  # a newer file: read as events beside the index
    with_delta = funnel(live)
    assert with_delta == plain(live, monkeypatch) == [(4, None), (4, 5400.0), (1, 7200.0)]
    with transaction(live.factory) as session:
        assert event_index.due(session, live.workspace_id) is True  # the delta outgrew it
    build(live)  # a new index holds everything
    assert funnel(live) == with_delta
    with transaction(live.factory) as session:
        assert session.scalar(select(func.count()).where(EventIndex.replaced_at.is_(None))) == 1


def test_compaction_merges_files_of_one_index_only_and_old_indexes_go(live: Live) -> None:
    for n in range(3):
        more(live, n)
    first = build(live)
    assert first is not None
    for n in range(3, 5):
        more(live, n)
    expected = funnel(live)
    with transaction(live.factory) as session:
        ((workspace_id, period),) = eventstore.compaction_candidates(session, 5)
        # three files held by the index, two newer: the three are merged, under the index
        replaced = eventstore.compact_partition(
            session, workspace_id, period, live.root, max_rows=10**6
        )
        assert replaced == 3
        held = session.scalars(select(EventFile.index_id).where(EventFile.replaced_at.is_(None)))
        assert sorted(str(i) for i in held) == sorted([str(first.id), "None", "None"])
    assert funnel(live) == expected
    second = build(live)
    assert second is not None
    assert funnel(live) == expected
    later = utcnow() + timedelta(hours=1)
    set_clock(lambda: later)
    try:
        with transaction(live.factory) as session:
            eventstore.collect_garbage(session, live.root)
            assert session.scalars(select(EventIndex.id)).all() == [second.id]
    finally:
        set_clock(None)
    assert not (live.root / first.path).exists()
    assert (live.root / second.path).exists()
    assert funnel(live) == expected


def test_an_index_built_while_compaction_swapped_its_files_is_dropped(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(2):
        more(live, n)
    write = event_index.store.write_index

    def racing(files: Any, path: Any) -> int:
        count = write(files, path)
        with transaction(live.factory) as other:  # a compaction commits meanwhile
            ((workspace_id, period),) = eventstore.compaction_candidates(other, 2)
            eventstore.compact_partition(other, workspace_id, period, live.root, max_rows=10**6)
        return count

    monkeypatch.setattr(event_index.store, "write_index", racing)
    with pytest.raises(event_index.IndexConflict):
        build(live)
    with transaction(live.factory) as session:
        assert event_index.current(session, live.workspace_id) is None
    assert not list(live.root.rglob("index-*.parquet"))


class _Once:
    """A stop flag that lets a loop run one round."""

    def __init__(self) -> None:
        self.rounds = 0

    def wait(self, timeout: float) -> bool:
        self.rounds += 1
        return self.rounds > 1

    def is_set(self) -> bool:
        return self.rounds > 1


def test_the_worker_indexes_a_workspace_once_its_events_outgrow_the_index(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(2):
        more(live, n)
    monkeypatch.setattr(event_index, "MIN_EVENTS", 5)

    def one_round() -> None:
        stop = _Once()
        tasks.run_indexer(LoopContext(live.factory, live.settings, stop, "tests"))  # type: ignore[arg-type]
        assert stop.rounds == 2

    one_round()
    with transaction(live.factory) as session:
        first = event_index.current(session, live.workspace_id)
        assert first is not None
        assert first.event_count == 6
    one_round()  # nothing new: the same index
    with transaction(live.factory) as session:
        assert event_index.current(session, live.workspace_id).id == first.id  # type: ignore[union-attr]
    more(live, 2)  # three more events on six: past the stale share
    one_round()
    with transaction(live.factory) as session:
        latest = event_index.current(session, live.workspace_id)
        assert latest is not None
        assert latest.id != first.id
        assert latest.event_count == 9


def test_a_failed_build_does_not_stop_the_indexer(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    more(live, 0)
    monkeypatch.setattr(event_index, "MIN_EVENTS", 1)

    def broken(factory: Any, workspace_id: Any, root: Any) -> None:
        raise OSError("no space left on device")

    logged: list[tuple[Any, ...]] = []
    monkeypatch.setattr(event_index, "build", broken)
    monkeypatch.setattr(tasks.log, "exception", lambda *args: logged.append(args))
    stop = _Once()
    tasks.run_indexer(LoopContext(live.factory, live.settings, stop, "tests"))  # type: ignore[arg-type]
    assert stop.rounds == 2  # the round went on to its end
    assert logged == [("index of %s not built", live.workspace_id)]


def test_an_index_of_an_older_layout_is_not_read_and_is_rebuilt(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop(live)
    live.load()
    built = build(live)
    assert built is not None
    assert event_index.readable(built)
    expected = funnel(live)
    old = built.path.replace(f"index-{store.INDEX_FORMAT}-", "index-")
    (live.root / built.path).rename(live.root / old)
    with transaction(live.factory) as session:
        session.execute(update(EventIndex).values(path=old))
    monkeypatch.setattr(event_index, "MIN_EVENTS", 1)
    ran = record_queries(monkeypatch)
    assert funnel(live) == expected
    assert "event_times" not in ran[-1]  # the events answered
    with transaction(live.factory) as session:
        assert event_index.due(session, live.workspace_id) is True
    assert build(live) is not None
    assert funnel(live) == expected
    assert "event_times" in ran[-1]


def test_refresh_says_when_it_starts_a_build(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    shop(live)
    live.load()
    started: list[bool] = []
    assert (
        event_index.refresh(
            live.factory, live.workspace_id, live.root, lambda: started.append(True)
        )
        is None
    )
    assert started == []  # too few events: nothing due, nothing shown
    monkeypatch.setattr(event_index, "MIN_EVENTS", 1)
    built = event_index.refresh(
        live.factory, live.workspace_id, live.root, lambda: started.append(True)
    )
    assert built is not None
    assert started == [True]
