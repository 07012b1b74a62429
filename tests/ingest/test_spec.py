"""The inbox payload of the API: messages kept as sent, normalised the same on every load."""

from __future__ import annotations

import zlib

import msgspec
import orjson

from cxloop.core.time import utcnow
from cxloop.ingest import spec


def _payload(messages: list[dict[str, object]], **receipt: object) -> bytes:
    raws = [orjson.dumps(m, option=orjson.OPT_INDENT_2) for m in messages]  # with newlines
    stamp = spec.Receipt(v=2, received_at=spec.to_micros(utcnow()), **receipt)  # type: ignore[arg-type]
    return zlib.compress(spec.pack_messages(raws, stamp), 1)


def test_ids_made_for_messages_without_one_are_the_same_on_every_load() -> None:
    payload = _payload(
        [
            {"type": "track", "userId": "u1", "event": "A"},
            {"type": "track", "userId": "u1", "event": "B", "messageId": "given"},
            {"type": "track", "userId": "u1", "event": "C", "messageId": "  "},
        ]
    )
    first = [orjson.loads(line) for line in spec.event_lines(payload)]
    again = [orjson.loads(line) for line in spec.event_lines(payload)]
    assert [e["message_id"] for e in first] == [e["message_id"] for e in again]
    assert first[1]["message_id"] == "given"
    assert first[0]["generated_id"] is True
    assert first[2]["generated_id"] is True
    assert len({e["message_id"] for e in first}) == 3


def test_the_receipt_adds_what_the_request_said() -> None:
    payload = _payload(
        [{"userId": "u1", "event": "Opened", "context": {"locale": "th-TH"}}],
        ip="10.0.0.9",
        type="track",
        context=msgspec.Raw(b'{"channel": "email", "locale": "vi-VN"}'),
    )
    (event,) = [orjson.loads(line) for line in spec.event_lines(payload)]
    assert event["type"] == "track"
    assert event["channel"] == "email"
    # the message's own context wins over the batch's, and the address is added
    assert event["context"] == {"channel": "email", "locale": "th-TH", "ip": "10.0.0.9"}


def test_rows_of_normalised_events_are_read_as_they_are() -> None:
    event = spec.normalise(
        spec.decode_message(b'{"type": "page", "anonymousId": "a1"}'), received_at=utcnow()
    )
    lines = spec.event_lines(spec.pack_events([event]))
    assert [orjson.loads(line)["type"] for line in lines] == ["page"]
