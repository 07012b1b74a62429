"""The one-pass check of a batch never accepts what the per-message check refuses, and
accepts what the SDKs send."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest

from cxloop.ingest import spec, strict

GOOD: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u-1",
    "messageId": "m-1",
    "timestamp": "2026-11-02T10:00:00.123Z",
    "properties": {"revenue": 42, "items": [1, 2]},
    "context": {"library": {"name": "analytics-python", "version": "2.3"}, "ip": "10.0.0.1"},
}

# each changes one field of GOOD; None removes it
CHANGES: list[dict[str, Any]] = [
    {},
    {"type": "Track"},
    {"type": " track "},
    {"type": "identify", "event": None, "traits": {"email": "a@b.vn"}},
    {"type": "page", "event": None, "name": "Home"},
    {"type": "screen", "event": None},
    {"type": "alias", "previousId": "anon-1"},
    {"type": "alias", "previousId": None},
    {"type": "alias", "previousId": " "},
    {"type": "group", "groupId": "g-1"},
    {"type": "group", "groupId": ""},
    {"type": "bogus"},
    {"type": None},
    {"type": 5},
    {"userId": None},
    {"userId": None, "anonymousId": "a-1"},
    {"userId": None, "anonymousId": 77},
    {"userId": 42},
    {"userId": True},
    {"userId": 1.5},
    {"userId": ""},
    {"userId": "   "},
    {"userId": " u-1 "},
    {"userId": "x" * 400},
    {"userId": "x" * 401},
    {"userId": None, "anonymousId": None},
    {"event": None},
    {"event": ""},
    {"event": "   "},
    {"event": 12},
    {"properties": None},
    {"properties": []},
    {"properties": "{}"},
    {"properties": 3},
    {"traits": {"a": 1}},
    {"traits": [1]},
    {"context": None},
    {"context": "web"},
    {"timestamp": None},
    {"timestamp": "2026-11-02"},
    {"timestamp": "2026-11-02 10:00:00"},
    {"timestamp": "02/11/2026"},
    {"timestamp": 1700000000},
    {"originalTimestamp": "yesterday"},
    {"sentAt": "2026-11-02T10:00:00+07:00"},
    {"sentAt": "nope"},
    {"messageId": 7},
    {"messageId": ["x"]},
    {"previousId": "x" * 401},
    {"channel": "web"},
    {"channel": 3},
    {"integrations": {"All": True}, "version": 2},
    {"properties": {"blob": "x" * (33 * 1024)}},
]


def message(change: dict[str, Any]) -> dict[str, Any]:
    found = {**GOOD, **change}
    return {k: v for k, v in found.items() if v is not None}


def per_message_problems(body: bytes) -> int:
    envelope = spec.decode_envelope(body)
    assert envelope.batch is not None
    problems = 0
    for raw in envelope.batch:
        try:
            spec.check(spec.decode_message(raw), raw_size=len(raw))
        except spec.MessageError:
            problems += 1
    return problems


def verdict(batch: list[dict[str, Any]]) -> tuple[bool, int]:
    body = msgspec.json.encode({"batch": batch})
    envelope = spec.decode_envelope(body)
    assert envelope.batch is not None
    return strict.all_valid(body, [len(r) for r in envelope.batch]), per_message_problems(body)


@pytest.mark.parametrize("change", CHANGES, ids=[str(sorted(c))[:60] for c in CHANGES])
def test_alone_it_accepts_only_what_each_check_accepts(change: dict[str, Any]) -> None:
    accepted, problems = verdict([message(change)])
    if accepted:
        assert problems == 0


def test_mixed_batches_are_accepted_only_when_every_message_is() -> None:
    for a, b in itertools.combinations(CHANGES, 2):
        accepted, problems = verdict([message(a), message(b), message({})])
        if accepted:
            assert problems == 0, (a, b)


def test_what_the_sdks_send_is_accepted_in_one_pass() -> None:
    sdk_like = [
        message({}),
        message({"type": "identify", "event": None, "traits": {"email": "lan@shop.vn"}}),
        message({"type": "page", "event": None, "name": "Checkout", "anonymousId": "a-9"}),
        message({"userId": None, "anonymousId": "3f1c-aa", "sentAt": "2026-11-02T10:00:01Z"}),
        message({"type": "alias", "event": None, "previousId": "a-9"}),
        message({"type": "group", "event": None, "groupId": "acme"}),
    ]
    assert verdict(sdk_like) == (True, 0)
