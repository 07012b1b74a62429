"""The collection endpoints as a plain ASGI handler in front of the application.

``/v1/*`` takes almost all of a busy server's requests, and per request the framework's
routing, middleware and request objects cost about as much as validating 100 events. This
lane answers those requests itself with the same gateway, the same error bodies and the
same headers; every other request, and anything it does not recognise, goes on to the
application. The FastAPI routes in :mod:`cxloop.ingest.router` stay as the documented
interface and behave the same.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxloop.core.deps import forwarded_ip
from cxloop.core.errors import CxloopError
from cxloop.core.handlers import error_body
from cxloop.ingest import errors, spec
from cxloop.ingest.gateway import Gateway

# path -> the message type it implies (None: a batch)
PATHS: dict[str, str | None] = {
    "/v1/batch": None,
    "/v1/track": "track",
    "/v1/identify": "identify",
    "/v1/page": "page",
    "/v1/screen": "screen",
    "/v1/group": "group",
    "/v1/alias": "alias",
}
# a body is read up to here; a larger one is answered 400 whatever it holds
_MAX_READ = spec.MAX_BATCH_BYTES * 4


class IngestLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] not in PATHS
            or getattr(scope["app"].state, "ingest", None) is None
        ):
            await self.app(scope, receive, send)
            return
        answer = await _answer(scope, receive)
        if answer is None:
            return  # the client went away before sending the whole body
        status, body, extra = answer
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _answer(scope: Scope, receive: Receive) -> tuple[int, bytes, dict[str, str]] | None:
    state = scope["app"].state
    gateway: Gateway = state.ingest
    authorization = content_encoding = ""
    forwarded = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"content-encoding":
            content_encoding = value.decode("latin-1")
        elif name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    client = scope.get("client")
    ip = forwarded_ip(client[0] if client else "", forwarded, state.settings.trusted_proxies)
    try:
        body = await _read_body(receive)
        if body is None:
            return None
        reply = await gateway.receive(
            body,
            authorization=authorization,
            content_encoding=content_encoding,
            ip=ip,
            message_type=PATHS[scope["path"]],
        )
    except CxloopError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
        headers.update(exc.headers)
        content: dict[str, Any] = error_body(exc.code, exc.detail, **exc.extra)
        return exc.status_code, orjson.dumps(content), headers
    return 200, orjson.dumps(reply.body()), {}


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body; None when the client disconnected first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= _MAX_READ:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if size > _MAX_READ:
        raise errors.LimitExceeded(
            f"the request body is {size:,} bytes; the limit is 500 KB per batch",
            extra={"limit": "batch_bytes"},
        )
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
