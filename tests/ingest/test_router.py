"""The Segment-compatible collection API through HTTP, with the inbox and the loader."""

from __future__ import annotations

import gzip
import json
from typing import Any

import orjson

from tests.fixtures.ingest import Live


def track(n: int = 0, **extra: Any) -> dict[str, Any]:
    message = {
        "type": "track",
        "event": "Order Completed",
        "userId": f"u{n}",
        "messageId": f"m-{n}",
        "properties": {"revenue": 10 + n},
        "timestamp": "2026-11-20T10:00:00+07:00",
    }
    message.update(extra)
    return message


def test_batch_is_stored_and_loaded(live: Live) -> None:
    response = live.send("/v1/batch", {"batch": [track(1), track(2)]})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "accepted": 2}
    result = live.load()
    assert result.loaded == 2
    found = live.api("/api/v1/customers", user_id="u1").json()["items"]
    assert len(found) == 1
    timeline = live.api(f"/api/v1/customers/{found[0]['id']}/timeline").json()
    assert [i["event"] for i in timeline["items"]] == ["Order Completed"]
    assert timeline["items"][0]["properties"] == {"revenue": 11}
    assert timeline["items"][0]["timestamp"].startswith("2026-11-20T03:00:00")


def test_bad_items_are_reported_and_good_ones_kept(live: Live) -> None:
    bad_time = track(3, timestamp="yesterday")
    no_event = track(4)
    del no_event["event"]
    response = live.send("/v1/batch", {"batch": [track(1), bad_time, no_event, {"type": "page"}]})
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert [(e["index"], e["loc"]) for e in body["errors"]] == [
        (1, ["batch", 1, "timestamp"]),
        (2, ["batch", 2, "event"]),
        (3, ["batch", 3, "userId"]),
    ]
    assert "ISO-8601" in body["errors"][0]["msg"]
    assert live.load().loaded == 1


def test_gzip_body(live: Live) -> None:
    body = gzip.compress(json.dumps({"batch": [track(1)]}).encode())
    response = live.client.post(
        "/v1/batch",
        content=body,
        auth=(live.write_key, ""),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert live.load().loaded == 1


def test_duplicate_message_ids_are_dropped(live: Live) -> None:
    live.send("/v1/batch", {"batch": [track(1), track(1)]})
    live.send("/v1/track", track(1))
    result = live.load()
    assert result.loaded == 1
    live.send("/v1/track", track(1))
    assert live.load().loaded == 0


def test_write_key_in_body(live: Live) -> None:
    response = live.client.post(
        "/v1/track", content=orjson.dumps({**track(1), "writeKey": live.write_key})
    )
    assert response.status_code == 200, response.text
