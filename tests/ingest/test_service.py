"""Events recorded by cxloop itself: in the caller's transaction, all or nothing, settled."""

from __future__ import annotations

import pytest

from cxloop.analytics import events as store
from cxloop.core.db import transaction
from cxloop.eventstore import service as eventstore
from cxloop.ingest import errors
from cxloop.ingest import service as ingest
from cxloop.profiles import service as profiles
from tests.fixtures.ingest import Live


def test_recorded_events_are_loaded_and_settle_waits_for_them(live: Live) -> None:
    with transaction(live.factory) as session:
        stored = ingest.record(
            session,
            live.workspace_id,
            [
                {"type": "track", "userId": "u1", "event": "Survey Responded", "messageId": "r1"},
                {"type": "identify", "userId": "u1", "traits": {"email": "A@Example.com"}},
            ],
        )
    assert stored == 2
    assert ingest.settle(live.factory, live.root, live.workspace_id, holder="tests")
    with transaction(live.factory) as session:
        files = eventstore.current_files(session, live.workspace_id, live.root)
        mapping = profiles.merge_map(session, live.workspace_id)
    assert store.count_customers(files, mapping) == 1
    found = live.api("/api/v1/customers", email="a@example.com").json()["items"]
    assert found
    assert found[0]["counters"] == {"track": 1, "identify": 1}


def test_one_invalid_event_records_nothing_and_names_it(live: Live) -> None:
    with pytest.raises(errors.InvalidBatch) as caught, transaction(live.factory) as session:
        ingest.record(
            session,
            live.workspace_id,
            [
                {"type": "track", "userId": "u1", "event": "Ok"},
                {"type": "track", "userId": "u1"},
            ],
        )
    assert caught.value.extra["errors"] == [
        {
            "index": 1,
            "loc": ["batch", 1, "event"],
            "msg": "required for track: the name of the event",
        }
    ]
    assert ingest.settle(live.factory, live.root, live.workspace_id, holder="tests", timeout=0)
