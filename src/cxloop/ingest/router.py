"""Segment-compatible collection API: ``/v1/batch``, ``/v1/track``, ``/v1/identify``, ...

Async on purpose: a request waits for the group commit of the inbox without holding a thread
(see docs/adr/0004-ingest-and-event-store.md).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from cxloop.core.deps import client_ip
from cxloop.ingest.gateway import Gateway

router = APIRouter(prefix="/v1", tags=["collect"])

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A Segment message (or {batch: [...]}) as JSON, optionally gzip-encoded.",
    }
}


async def _receive(request: Request, message_type: str | None) -> Response:
    gateway: Gateway = request.app.state.ingest
    reply = await gateway.receive(
        await request.body(),
        authorization=request.headers.get("authorization", ""),
        content_encoding=request.headers.get("content-encoding", ""),
        ip=client_ip(request, request.app.state.settings.trusted_proxies),
        message_type=message_type,
    )
    return Response(orjson.dumps(reply.body()), media_type="application/json")


@router.post("/batch", openapi_extra=_BODY_DOC, summary="Send up to 2,500 messages at once")
async def batch(request: Request) -> Response:
    return await _receive(request, None)


@router.post("/track", openapi_extra=_BODY_DOC, summary="Record an action")
async def track(request: Request) -> Response:
    return await _receive(request, "track")


@router.post("/identify", openapi_extra=_BODY_DOC, summary="Tie a user to their traits")
async def identify(request: Request) -> Response:
    return await _receive(request, "identify")


@router.post("/page", openapi_extra=_BODY_DOC, summary="Record a web page view")
async def page(request: Request) -> Response:
    return await _receive(request, "page")


@router.post("/screen", openapi_extra=_BODY_DOC, summary="Record an app screen view")
async def screen(request: Request) -> Response:
    return await _receive(request, "screen")


@router.post("/group", openapi_extra=_BODY_DOC, summary="Tie a user to a group or account")
async def group(request: Request) -> Response:
    return await _receive(request, "group")


@router.post("/alias", openapi_extra=_BODY_DOC, summary="Merge a previous id into a user")
async def alias(request: Request) -> Response:
    return await _receive(request, "alias")
