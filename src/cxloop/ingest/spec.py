"""The Segment message spec: decoding, validation and normalisation of incoming messages.

This is the hot path, so it is written for msgspec: a request body is decoded once into
structs with each message kept as raw bytes, and each message is then validated on its own,
so one bad message is reported with its index while the others are kept.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

import msgspec

# Segment's limits (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api)
MAX_EVENT_BYTES: Final = 32 * 1024
MAX_BATCH_BYTES: Final = 500 * 1024
MAX_BATCH_EVENTS: Final = 2500

MESSAGE_TYPES: Final = frozenset({"identify", "track", "page", "screen", "group", "alias"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

log = logging.getLogger(__name__)


class Envelope(msgspec.Struct):
    """A ``/v1/batch`` body: messages stay raw until each is validated on its own."""

    batch: list[msgspec.Raw] | None = None
    writeKey: str | None = None  # noqa: N815 (Segment's field names)
    sentAt: str | None = None  # noqa: N815
    context: msgspec.Raw = msgspec.Raw()


class KeyOnly(msgspec.Struct):
    writeKey: str | None = None  # noqa: N815


class Message(msgspec.Struct):
    """One Segment message as sent; unknown fields are ignored, as Segment does."""

    type: str | None = None
    messageId: str | int | None = None  # noqa: N815
    userId: str | int | None = None  # noqa: N815
    anonymousId: str | int | None = None  # noqa: N815
    event: str | None = None
    name: str | None = None
    category: str | None = None
    # kept as raw JSON: stored as sent, never turned into Python objects on the hot path
    properties: msgspec.Raw = msgspec.Raw()
    traits: msgspec.Raw = msgspec.Raw()
    context: msgspec.Raw = msgspec.Raw()
    timestamp: str | None = None
    originalTimestamp: str | None = None  # noqa: N815
    sentAt: str | None = None  # noqa: N815
    previousId: str | int | None = None  # noqa: N815
    groupId: str | int | None = None  # noqa: N815
    channel: str | None = None


class Event(msgspec.Struct, omit_defaults=True):
    """A validated, normalised message: what the inbox stores and the loader reads.

    Times are microseconds since the epoch (UTC). ``properties``, ``traits`` and ``context``
    are kept whole; the context fields analytics need most are also lifted into columns.
    """

    message_id: str
    type: str
    timestamp: int
    received_at: int
    event: str | None = None
    name: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    previous_id: str | None = None
    group_id: str | None = None
    original_timestamp: int | None = None
    sent_at: int | None = None
    channel: str = "server"
    properties: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # raw JSON object, as sent
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    generated_id: bool = False


class MessageError(Exception):
    """A message breaks the spec; ``loc`` is its path inside the message."""

    def __init__(self, loc: list[str | int], reason: str) -> None:
        super().__init__(reason)
        self.loc = loc
        self.reason = reason


_message_decoder = msgspec.json.Decoder(Message)
_envelope_decoder = msgspec.json.Decoder(Envelope)
_key_decoder = msgspec.json.Decoder(KeyOnly)
_PATH = re.compile(r"\$((?:\.[A-Za-z_][\w]*|\[\d+\]|\[\.\.\.\])*)")


def decode_envelope(body: bytes) -> Envelope:
    try:
        return _envelope_decoder.decode(body)
    except msgspec.ValidationError as exc:
        loc, reason = _explain(exc)
        raise MessageError(loc, reason) from None
    except msgspec.DecodeError as exc:
        raise MessageError([], f"the body is not valid JSON ({exc})") from None


def decode_write_key(body: bytes) -> str | None:
    try:
        return _key_decoder.decode(body).writeKey
    except msgspec.MsgspecError:
        return None


def decode_message(raw: bytes) -> Message:
    try:
        return _message_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        loc, reason = _explain(exc)
        raise MessageError(loc, reason) from None
    except msgspec.DecodeError as exc:
        raise MessageError([], f"not valid JSON ({exc})") from None


def _explain(exc: msgspec.ValidationError) -> tuple[list[str | int], str]:
    """Turn msgspec's ``Expected `str`, got `int` - at `$.event``` into a path and a reason."""
    text = str(exc)
    reason, _, where = text.partition(" - at `")
    loc: list[str | int] = []
    match = _PATH.match(where.rstrip("`"))
    if match:
        for part in re.findall(r"\.([A-Za-z_]\w*)|\[(\d+)\]", match.group(1)):
            loc.append(part[0] if part[0] else int(part[1]))
    reason = reason.replace("Expected `", "expected ").replace("`, got `", ", got ").rstrip("`")
    reason = reason.replace("`", "")
    return loc, reason


def parse_time(value: str, field: str) -> datetime:
    """An ISO-8601 time; one without a zone is taken as UTC, as Segment does."""
    try:
        parsed = datetime.fromisoformat(value)  # as SDKs send it
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            raise MessageError([field], f"{value[:40]!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def to_micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _ident(value: str | int | None, field: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > 400:
        raise MessageError([field], "longer than 400 characters")
    return text or None


LIBRARY_CHANNELS = (
    ("analytics.js", "web"),
    ("analytics-next", "web"),
    ("javascript", "web"),
    ("ios", "app"),
    ("android", "app"),
    ("react-native", "app"),
    ("flutter", "app"),
    ("kotlin", "app"),
    ("swift", "app"),
)
_CHANNEL_ALIASES = {"browser": "web", "mobile": "app", "website": "web"}


def derive_channel(message: Message, context: dict[str, Any]) -> str:
    """The touchpoint channel: explicit when the sender says so, else read off the library.

    ``context.channel`` is cxloop's own (web, app, email, chat, store, ...). Segment's
    top-level ``channel`` names the kind of library instead; its ``server`` says nothing
    about the touchpoint, so a page or screen sent from a server still counts as web or app.
    """
    top = (
        message.channel if message.channel and message.channel.strip().lower() != "server" else None
    )
    explicit = context.get("channel") or top
    if isinstance(explicit, str) and explicit.strip():
        name = explicit.strip().lower()
        return _CHANNEL_ALIASES.get(name, name)[:40]
    library = context.get("library")
    if isinstance(library, dict):
        lib_name = str(library.get("name", "")).lower()
        for needle, channel in LIBRARY_CHANNELS:
            if needle in lib_name:
                return channel
    if message.type == "page":
        return "web"
    if message.type == "screen":
        return "app"
    return "server"


class Checked(NamedTuple):
    """What :func:`check` read off a valid message (times in microseconds)."""

    kind: str
    user_id: str | None
    anonymous_id: str | None
    event: str | None
    previous_id: str | None
    group_id: str | None
    original_us: int | None
    sent_us: int | None


def check(message: Message, *, raw_size: int = 0) -> Checked:
    """Validate one message against the spec. Raises :class:`MessageError`.

    The API runs this on every message before it answers; the loader runs it again inside
    :func:`normalise`, so a message the API accepted is always one the loader can store.
    """
    _object(message.traits, "traits")
    _object(message.context, "context")
    if raw_size > MAX_EVENT_BYTES:
        raise MessageError([], f"the message is {raw_size} bytes; the limit is 32 KB per message")
    kind = message.type
    if kind in MESSAGE_TYPES:  # as sent by every SDK: skip the clean-up below
        return _checked(message, kind)
    kind = (kind or "").strip().lower()
    if not kind:
        raise MessageError(["type"], "required: one of " + ", ".join(sorted(MESSAGE_TYPES)))
    if kind not in MESSAGE_TYPES:
        raise MessageError(
            ["type"], f"{kind[:30]!r} is not one of " + ", ".join(sorted(MESSAGE_TYPES))
        )
    return _checked(message, kind)


def _checked(message: Message, kind: str) -> Checked:
    user_id = _ident(message.userId, "userId")
    anonymous_id = _ident(message.anonymousId, "anonymousId")
    if user_id is None and anonymous_id is None:
        raise MessageError(["userId"], "every message needs a userId or an anonymousId")
    event_name = message.event.strip() if message.event else None
    if kind == "track" and not event_name:
        raise MessageError(["event"], "required for track: the name of the event")
    previous_id = _ident(message.previousId, "previousId")
    if kind == "alias" and previous_id is None:
        raise MessageError(["previousId"], "required for alias: the id to merge from")
    group_id = _ident(message.groupId, "groupId")
    if kind == "group" and group_id is None:
        raise MessageError(["groupId"], "required for group")
    original_us: int | None = None
    if message.originalTimestamp:
        original_us = to_micros(parse_time(message.originalTimestamp, "originalTimestamp"))
    elif message.timestamp:
        original_us = to_micros(parse_time(message.timestamp, "timestamp"))
    sent_us: int | None = None
    if message.sentAt:
        sent_us = to_micros(parse_time(message.sentAt, "sentAt"))
    _object(message.properties, "properties")
    return Checked(
        kind, user_id, anonymous_id, event_name, previous_id, group_id, original_us, sent_us
    )


def normalise(
    message: Message,
    *,
    received_at: datetime,
    batch_sent_at: datetime | None = None,
    batch_context: dict[str, Any] | None = None,
    ip: str | None = None,
    raw_size: int = 0,
    message_id: str | None = None,
) -> Event:
    """Validate one message and return what is stored. Raises :class:`MessageError`.

    ``message_id`` is the id given to a message sent without one (a new UUID by default).
    """
    checked = check(message, raw_size=raw_size)
    kind = checked.kind
    received_us = to_micros(received_at)
    original_us = checked.original_us
    sent_us = checked.sent_us
    if sent_us is None and batch_sent_at is not None:
        sent_us = to_micros(batch_sent_at)
    if original_us is None:
        timestamp_us = received_us
    elif sent_us is None:
        timestamp_us = original_us
    else:
        # The client's clock may be off; the gap between its sentAt and our receivedAt is it.
        timestamp_us = received_us - (sent_us - original_us)

    context = dict(batch_context) if batch_context else {}
    own_context = _decoded(message.context)
    if own_context:
        context.update(own_context)
    if ip and "ip" not in context:
        context["ip"] = ip

    traits = _decoded(message.traits)
    context_traits = context.get("traits")
    if kind == "identify" and not traits and isinstance(context_traits, dict):
        # RudderStack's SDKs send the traits of identify in context.traits only
        traits = context_traits

    generated = message.messageId is None or str(message.messageId).strip() == ""
    if generated:
        stored_id = message_id or str(uuid.uuid4())
    else:
        stored_id = str(message.messageId).strip()[:200]
    event_name = checked.event
    return Event(
        message_id=stored_id,
        type=kind,
        timestamp=timestamp_us,
        received_at=received_us,
        event=event_name[:200] if event_name else None,
        name=message.name[:200] if message.name else None,
        user_id=checked.user_id,
        anonymous_id=checked.anonymous_id,
        previous_id=checked.previous_id,
        group_id=checked.group_id,
        original_timestamp=original_us,
        sent_at=sent_us,
        channel=derive_channel(message, context),
        properties=_object(message.properties, "properties"),
        traits=traits or None,
        context=context or None,
        generated_id=generated,
    )


def _decoded(raw: msgspec.Raw) -> dict[str, Any] | None:
    """A raw JSON object (already checked by :func:`_object`) as a dict; None when empty."""
    if _object(raw, "") is msgspec.UNSET:
        return None
    value: dict[str, Any] = msgspec.json.decode(raw)
    return value


def is_object(raw: msgspec.Raw, field: str) -> bool:
    """True for a non-empty JSON object, False for nothing; raises for anything else."""
    return _object(raw, field) is not msgspec.UNSET


def _object(raw: msgspec.Raw, field: str) -> msgspec.Raw | msgspec.UnsetType:
    """A raw JSON value that must be an object; ``{}`` and null are nothing."""
    text = bytes(raw)
    if text[:1] == b"{":  # as almost every message sends it (a decoded value has no padding)
        return msgspec.UNSET if text == b"{}" else raw
    text = text.strip()
    if text in (b"", b"null", b"{}"):
        return msgspec.UNSET
    if not text.startswith(b"{"):
        kind = "array" if text.startswith(b"[") else "str" if text.startswith(b'"') else "int"
        if text in (b"true", b"false"):
            kind = "bool"
        elif kind == "int" and (b"." in text or b"e" in text.lower()):
            kind = "float"
        raise MessageError([field], f"expected object, got {kind}")
    return raw


_event_encoder = msgspec.json.Encoder()


def pack_events(events: list[Event]) -> bytes:
    """The inbox payload: one JSON object per line, which the loader reads in DuckDB,
    deflated (level 1): a fifth of the bytes to write and fsync before the answer, for
    about 0.1 ms of CPU per 100 events."""
    return zlib.compress(b"\n".join(_event_encoder.encode(e) for e in events), 1)


def payload_lines(payload: bytes) -> list[bytes]:
    return [line for line in zlib.decompress(payload).split(b"\n") if line]


# -- the inbox payload of the API: messages as sent, normalised by the loader ---------------


class Receipt(msgspec.Struct, omit_defaults=True):
    """The first line of an API payload: what the request adds to each of its messages."""

    v: int
    received_at: int
    sent_at: int | None = None
    context: msgspec.Raw = msgspec.Raw()  # the batch's context; empty when none
    ip: str | None = None
    type: str | None = None  # the type the endpoint implies (``/v1/track``, ...)


_RECEIPT_MARK = b'{"v":2,'
_receipt_encoder = msgspec.json.Encoder()
_receipt_decoder = msgspec.json.Decoder(Receipt)


def pack_messages(raws: list[bytes], receipt: Receipt) -> bytes:
    """The inbox payload of one API request, before deflating (the inbox writer does that):
    its receipt, then the checked messages as sent.

    The API only checks (:func:`check`); the loader normalises (:func:`event_lines`) in its
    own process, so the answer waits for the commit and little else.
    """
    lines = [_receipt_encoder.encode(receipt)]
    for raw in raws:
        # a newline outside a JSON string is whitespace; inside one it is always escaped
        lines.append(raw.replace(b"\n", b" ").replace(b"\r", b" ") if b"\n" in raw else raw)
    return b"\n".join(lines)


def event_lines(payload: bytes) -> list[bytes]:
    """The normalised events of an inbox payload, as JSON lines of :class:`Event`.

    A payload is either events (:func:`pack_events`) or an API request (:func:`pack_messages`).
    A message sent without an id gets one derived from the payload and its place in it, so
    loading the same row twice gives the same ids.
    """
    lines = payload_lines(payload)
    if not lines or not lines[0].startswith(_RECEIPT_MARK):
        return lines
    receipt = _receipt_decoder.decode(lines[0])
    received_at = from_micros(receipt.received_at)
    sent_at = None if receipt.sent_at is None else from_micros(receipt.sent_at)
    context = _decoded(receipt.context)
    digest = hashlib.blake2b(payload, digest_size=16).digest()
    out: list[bytes] = []
    for index, raw in enumerate(lines[1:]):
        try:
            message = decode_message(raw)
            if receipt.type is not None:
                message.type = receipt.type
            given = message.messageId is not None and str(message.messageId).strip() != ""
            made = None if given else str(uuid.UUID(bytes=digest[:12] + index.to_bytes(4, "big")))
            event = normalise(
                message,
                received_at=received_at,
                batch_sent_at=sent_at,
                batch_context=context,
                ip=receipt.ip,
                raw_size=len(raw),
                message_id=made,
            )
        except MessageError as exc:  # the API checked it: only a changed rule gets here
            log.error("an acknowledged message no longer passes its check (%s): %s", exc, raw[:200])
            continue
        out.append(_event_encoder.encode(event))
    return out
