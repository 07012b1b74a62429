"""The ingestion hot path: limits, write key, validation, rate limit, durable inbox.

Kept free of per-event SQL: a write key is checked once and then trusted for a few seconds,
and the events of one request become one inbox row written by the group-commit writer.
"""

from __future__ import annotations

import base64
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cxloop.accounts import errors as account_errors
from cxloop.accounts import service as accounts
from cxloop.accounts.signals import api_key_revoked
from cxloop.config import Settings
from cxloop.core.db import transaction
from cxloop.core.errors import CxloopError
from cxloop.core.time import utcnow
from cxloop.ingest import errors, spec, strict
from cxloop.ingest.inbox import InboxUnavailable, InboxWriter
from cxloop.ingest.ratelimit import RateLimiter
from cxloop.models import Scope

# A gzip body may expand; anything past this is over the batch limit whatever it holds.
_MAX_INFLATED = spec.MAX_BATCH_BYTES + 1


@dataclass(frozen=True)
class WriteKey:
    workspace_id: uuid.UUID
    key_id: uuid.UUID
    expires: float


@dataclass
class Reply:
    """What the API answers: the count stored and each rejected message with its path."""

    accepted: int
    errors: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        if not self.errors:
            return {"success": True, "accepted": self.accepted}
        return {
            "success": True,
            "accepted": self.accepted,
            "rejected": len(self.errors),
            "errors": self.errors,
        }


_caches: list[dict[str, WriteKey]] = []


@api_key_revoked.connect
def _forget_revoked(session: Session, api_key: Any) -> None:
    # A revoked key stops working in this process at once; others forget it within the TTL.
    for cache in _caches:
        for token, entry in list(cache.items()):
            if entry.key_id == api_key.id:
                cache.pop(token, None)


class Gateway:
    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings
        self.writer = InboxWriter(factory)
        self.limiter = RateLimiter(settings.ingest_rate_limit)
        self._keys: dict[str, WriteKey] = {}
        _caches.append(self._keys)

    def start(self) -> None:
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()
        if self._keys in _caches:
            _caches.remove(self._keys)

    # -- the request ----------------------------------------------------------------------

    async def receive(
        self,
        body: bytes,
        *,
        authorization: str,
        content_encoding: str,
        ip: str | None,
        message_type: str | None,
    ) -> Reply:
        """Store the valid messages of one request durably and report the invalid ones.

        ``message_type`` is None for ``/v1/batch``, else the type the path implies.
        """
        received_at = utcnow()
        body = _inflate(body, content_encoding)
        limit = spec.MAX_BATCH_BYTES if message_type is None else spec.MAX_EVENT_BYTES
        if len(body) > limit:
            what = "500 KB per batch" if message_type is None else "32 KB per message"
            raise errors.LimitExceeded(
                f"the request body is {len(body):,} bytes; the limit is {what}",
                extra={"limit": "batch_bytes" if message_type is None else "event_bytes"},
            )
        key = await self._authenticate(authorization, body)
        if message_type is None:
            raws, problems, receipt = self._batch(body, received_at, ip)
        else:
            raws, problems, receipt = self._single(body, message_type, received_at, ip)
        if not raws:
            raise _rejected(problems)
        wait = self.limiter.take(str(key.key_id), len(raws))
        if wait:
            raise errors.RateLimited(
                f"this write key sent more than {self.settings.ingest_rate_limit:g} events "
                f"per second; retry after {wait:g} s",
                headers={"Retry-After": str(int(wait))},
            )
        try:
            await self.writer.write(
                key.workspace_id, spec.pack_messages(raws, receipt), len(raws), received_at
            )
        except InboxUnavailable as exc:
            raise errors.InboxUnavailable(str(exc), headers={"Retry-After": "1"}) from None
        return Reply(accepted=len(raws), errors=problems)

    def _batch(
        self, body: bytes, received_at: datetime, ip: str | None
    ) -> tuple[list[bytes], list[dict[str, Any]], spec.Receipt]:
        try:
            envelope = spec.decode_envelope(body)
        except spec.MessageError as exc:
            if not exc.loc:
                raise errors.InvalidJson(exc.reason) from None
            raise _rejected([_problem(exc.loc, exc.reason)]) from None
        if envelope.batch is None:
            raise _rejected([_problem(["batch"], "required: a list of messages")])
        if len(envelope.batch) > spec.MAX_BATCH_EVENTS:
            raise errors.LimitExceeded(
                f"the batch holds {len(envelope.batch):,} messages; the limit is 2,500 per batch",
                extra={"limit": "batch_events"},
            )
        receipt = spec.Receipt(v=2, received_at=spec.to_micros(received_at), ip=ip)
        try:
            if envelope.sentAt:
                receipt.sent_at = spec.to_micros(spec.parse_time(envelope.sentAt, "sentAt"))
            if spec.is_object(envelope.context, "context"):
                receipt.context = envelope.context
        except spec.MessageError as exc:
            raise _rejected([_problem(exc.loc, exc.reason)]) from None
        raws: list[bytes] = []
        problems: list[dict[str, Any]] = []
        if strict.all_valid(body, [len(raw) for raw in envelope.batch]):
            return [bytes(raw) for raw in envelope.batch], problems, receipt
        decode, check = spec.decode_message, spec.check
        for index, raw in enumerate(envelope.batch):
            try:
                check(decode(raw), raw_size=len(raw))
                raws.append(bytes(raw))
            except spec.MessageError as exc:
                problems.append(_problem(["batch", index, *exc.loc], exc.reason, index))
        return raws, problems, receipt

    def _single(
        self, body: bytes, message_type: str, received_at: datetime, ip: str | None
    ) -> tuple[list[bytes], list[dict[str, Any]], spec.Receipt]:
        receipt = spec.Receipt(
            v=2, received_at=spec.to_micros(received_at), ip=ip, type=message_type
        )
        try:
            message = spec.decode_message(body)
            message.type = message_type
            spec.check(message, raw_size=len(body))
            return [body.strip()], [], receipt
        except spec.MessageError as exc:
            if not exc.loc and "JSON" in exc.reason:
                raise errors.InvalidJson(f"the body is {exc.reason}") from None
            return [], [_problem(exc.loc, exc.reason)], receipt

    # -- write keys -----------------------------------------------------------------------

    async def _authenticate(self, authorization: str, body: bytes) -> WriteKey:
        token = _token_from_header(authorization) or spec.decode_write_key(body)
        if not token:
            raise errors.MissingWriteKey(
                "send the write key as the HTTP Basic user name or as 'writeKey' in the body",
                headers={"WWW-Authenticate": 'Basic realm="cxloop"'},
            )
        cached = self._keys.get(token)
        if cached is not None and cached.expires > time.monotonic():
            return cached
        entry = await run_in_threadpool(self._check_key, token)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[token] = entry
        return entry

    def _check_key(self, token: str) -> WriteKey:
        with transaction(self.factory) as session:
            key = accounts.authenticate_key(session, token)
            if not accounts.scope_allows(key.scope, Scope.WRITE):
                raise account_errors.InsufficientScope(
                    f"sending events needs a key with scope 'write' or 'admin'; "
                    f"this key has scope '{key.scope.value}'"
                )
            return WriteKey(
                workspace_id=key.workspace_id,
                key_id=key.id,
                expires=time.monotonic() + self.settings.ingest_key_cache_seconds,
            )


def _token_from_header(header: str) -> str | None:
    kind, _, value = header.partition(" ")
    kind = kind.lower()
    if kind == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return user or password or None
    if kind == "bearer":
        return value.strip() or None
    return None


def _inflate(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise errors.UnsupportedEncoding(
            f"Content-Encoding {encoding!r} is not supported; send gzip or an uncompressed body"
        )
    inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
    try:
        data = inflater.decompress(body, _MAX_INFLATED)
    except zlib.error as exc:
        raise errors.InvalidJson(f"the body is not valid {encoding}: {exc}") from None
    return data


def _problem(loc: list[Any], reason: str, index: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"loc": loc, "msg": reason}
    if index is not None:
        item["index"] = index
    return item


def _rejected(problems: list[dict[str, Any]]) -> CxloopError:
    first = problems[0]
    where = ".".join(str(p) for p in first["loc"]) or "message"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return errors.InvalidBatch(
        f"nothing was stored: {where}: {first['msg']}{more}", extra={"errors": problems}
    )
