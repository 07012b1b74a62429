"""The Segment-compatible collection API through HTTP, with the inbox and the loader."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from typing import Any

import orjson

from tests.fixtures.ingest import Live, make_live


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


def test_clock_skew_is_corrected_with_sent_at(live: Live) -> None:
    # the device's clock is 1 hour fast: its sentAt and its timestamp are both off by 1 h
    message = track(9, timestamp="2026-11-20T11:00:00Z", sentAt="2026-11-20T11:00:05Z")
    del message["messageId"]
    live.send("/v1/batch", {"batch": [message]})
    live.load()
    customer = live.api("/api/v1/customers", user_id="u9").json()["items"][0]
    item = live.api(f"/api/v1/customers/{customer['id']}/timeline").json()["items"][0]
    received = item["received_at"]
    # timestamp = receivedAt - (sentAt - originalTimestamp): 5 s before it was received
    delta = datetime.fromisoformat(received) - datetime.fromisoformat(item["timestamp"])
    assert abs(delta.total_seconds() - 5) < 0.01


def test_segment_limits_are_named(live: Live) -> None:
    too_many = {"batch": [track(i) for i in range(2501)]}
    response = live.send("/v1/batch", too_many)
    assert response.status_code == 400
    assert response.json()["error"] == "limit_exceeded"
    assert "2,500 per batch" in response.json()["detail"]
    too_big = {"batch": [track(i, properties={"blob": "x" * 20_000}) for i in range(30)]}
    response = live.send("/v1/batch", too_big)
    assert response.status_code == 400
    assert "500 KB per batch" in response.json()["detail"]
    one_big = {"batch": [track(1), track(2, properties={"blob": "x" * 40_000})]}
    response = live.send("/v1/batch", one_big)
    assert response.status_code == 200
    assert response.json()["errors"][0]["index"] == 1
    assert "32 KB per message" in response.json()["errors"][0]["msg"]


def test_errors_say_what_is_wrong(live: Live) -> None:
    no_key = live.client.post("/v1/track", json=track(1))
    assert no_key.status_code == 401
    assert no_key.json()["error"] == "missing_write_key"
    wrong = live.client.post("/v1/track", json=track(1), auth=("cxl_write_nope_nope", ""))
    assert wrong.status_code == 401
    read_key = live.client.post("/v1/track", json=track(1), auth=(live.read_key, ""))
    assert read_key.status_code == 403
    assert "scope 'write'" in read_key.json()["detail"]
    garbage = live.client.post("/v1/batch", content=b"{nope", auth=(live.write_key, ""))
    assert garbage.status_code == 400
    assert garbage.json()["error"] == "invalid_json"
    brotli = live.client.post(
        "/v1/batch", content=b"x", auth=(live.write_key, ""), headers={"Content-Encoding": "br"}
    )
    assert brotli.status_code == 415
    nothing_valid = live.send("/v1/batch", {"batch": [{"type": "track", "userId": "u"}]})
    assert nothing_valid.status_code == 400
    body = nothing_valid.json()
    assert body["error"] == "invalid_batch"
    assert body["errors"] == [
        {
            "loc": ["batch", 0, "event"],
            "msg": "required for track: the name of the event",
            "index": 0,
        }
    ]
    wrong_type = live.send("/v1/track", {**track(1), "event": 5})
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"][0]["loc"] == ["event"]


def test_rate_limit_answers_429_with_retry_after(committing: Any, settings: Any) -> None:
    limited = settings.model_copy(update={"ingest_rate_limit": 10})
    for live in make_live(committing, limited, name="limited"):
        assert live.send("/v1/batch", {"batch": [track(i) for i in range(20)]}).status_code == 200
        response = live.send("/v1/batch", {"batch": [track(i) for i in range(20, 40)]})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"] == "rate_limited"


def test_batch_context_and_sent_at_apply_to_every_message(live: Live) -> None:
    reply = live.send(
        "/v1/batch",
        {
            "batch": [
                {
                    "type": "track",
                    "userId": "ctx-1",
                    "event": "Opened",
                    "messageId": "bc-1",
                    "timestamp": "2026-11-01T10:00:00Z",
                },
                {
                    "type": "track",
                    "userId": "ctx-1",
                    "event": "Clicked",
                    "messageId": "bc-2",
                    "context": {"channel": "chat"},
                },
            ],
            "context": {"channel": "email", "locale": "vi-VN"},
            "sentAt": "2026-11-01T10:00:05Z",
        },
    )
    assert reply.status_code == 200
    live.load()
    customer = live.api("/api/v1/customers", user_id="ctx-1").json()["items"][0]
    items = live.api(f"/api/v1/customers/{customer['id']}/timeline").json()["items"]
    channels = {i["message_id"]: i["channel"] for i in items}
    assert channels == {"bc-1": "email", "bc-2": "chat"}
    opened = next(i for i in items if i["message_id"] == "bc-1")
    # sent 5 s after it happened by the device's clock: received minus those 5 s
    received = datetime.fromisoformat(opened["received_at"])
    assert datetime.fromisoformat(opened["timestamp"]) == received - timedelta(seconds=5)
