"""A batch checked at once: messages as the SDKs send them, validated by msgspec in one pass.

:func:`cxloop.ingest.spec.check` reads each message on its own in Python, which is most of
what the API spends on a batch. Almost every batch comes from an SDK and is well formed:
here the whole batch is decoded into strict types whose constraints say what the spec
requires (lower-case ``type``, identifiers of 1 to 400 characters, objects for properties,
traits and context), and the few rules that types cannot say are checked after.

It only ever answers "all valid": anything it is not sure of (a bad message, or a good one
written loosely, such as ``"type": "Track"`` or an id with spaces around it, which ``check``
takes) makes it answer False, and the caller checks each message as before, which finds
and names the problems. So it accepts a subset of what ``check`` accepts, never more: what
the API acknowledges, the loader can always store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from cxloop.ingest.spec import MAX_EVENT_BYTES, MessageError, parse_time

_Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=400)] | int
_Object = dict[str, msgspec.Raw] | None


class _Message(msgspec.Struct):
    # the fields and types of spec.Message, narrowed to what check accepts as sent
    type: Literal["identify", "track", "page", "screen", "group", "alias"]
    messageId: str | int | None = None  # noqa: N815 (Segment's field names)
    userId: _Ident | None = None  # noqa: N815
    anonymousId: _Ident | None = None  # noqa: N815
    event: str | None = None
    name: str | None = None
    category: str | None = None
    properties: _Object = None
    traits: _Object = None
    context: _Object = None
    timestamp: str | None = None
    originalTimestamp: str | None = None  # noqa: N815
    sentAt: str | None = None  # noqa: N815
    previousId: _Ident | None = None  # noqa: N815
    groupId: _Ident | None = None  # noqa: N815
    channel: str | None = None


class _Batch(msgspec.Struct):
    batch: list[_Message]


_decoder = msgspec.json.Decoder(_Batch)
_REQUIRED = {"alias": "previousId", "group": "groupId"}


def all_valid(body: bytes, sizes: Sequence[int]) -> bool:
    """True when every message of the ``/v1/batch`` body passes ``check`` (``sizes``: the
    raw size of each, in order); False when that is not certain."""
    if any(size > MAX_EVENT_BYTES for size in sizes):
        return False
    try:
        messages = _decoder.decode(body).batch
    except msgspec.MsgspecError:
        return False
    if len(messages) != len(sizes):
        return False
    try:
        return all(_fine(m) for m in messages)
    except MessageError:  # a time check cannot read: check names it
        return False


def _fine(m: _Message) -> bool:
    if not (_plain(m.userId) or _plain(m.anonymousId)):
        return False
    if m.type == "track" and (not m.event or m.event.isspace()):
        return False
    required = _REQUIRED.get(m.type)
    if required is not None and not _plain(getattr(m, required)):
        return False
    if m.originalTimestamp:
        parse_time(m.originalTimestamp, "originalTimestamp")
    elif m.timestamp:
        parse_time(m.timestamp, "timestamp")
    if m.sentAt:
        parse_time(m.sentAt, "sentAt")
    return True


def _plain(ident: str | int | None) -> bool:
    """An identifier ``check`` takes as it is: present, without spaces around it."""
    if ident is None:
        return False
    if isinstance(ident, int):
        return True
    return not (ident[0].isspace() or ident[-1].isspace())
