"""The ASGI lane answers ``/v1/*`` itself, exactly as the documented FastAPI routes do."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cxloop.app import create_app
from cxloop.config import Settings
from cxloop.ingest.lane import IngestLane
from tests.fixtures.ingest import Live

REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/batch", {"content": orjson.dumps({"batch": [{"type": "track", "userId": "u"}]})}),
    ("/v1/batch", {"content": b"{not json"}),
    ("/v1/batch", {"content": orjson.dumps({"batch": [{"type": "nope", "userId": "u"}] * 3})}),
    ("/v1/track", {"content": orjson.dumps({"userId": "u", "event": "A", "messageId": "x1"})}),
    ("/v1/identify", {"content": orjson.dumps({"traits": {"email": "a@b.co"}})}),
    ("/v1/alias", {"content": orjson.dumps({"userId": "u"})}),
    ("/v1/batch", {"content": b"x" * 600_000}),
    ("/v1/track", {"content": b"{}", "headers": {"Content-Encoding": "br"}}),
    (
        "/v1/batch",
        {
            "content": gzip.compress(orjson.dumps({"batch": [{"type": "page", "anonymousId": 1}]})),
            "headers": {"Content-Encoding": "gzip"},
        },
    ),
]


@pytest.fixture
def routes_only(committing: sessionmaker[Session], settings: Settings, live: Live) -> Iterator[Any]:
    """The same workspace served by an app without the lane: FastAPI's routes answer."""
    app = create_app(settings)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not IngestLane]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _answer(client: TestClient, path: str, auth: tuple[str, str] | None, kw: dict[str, Any]) -> Any:
    reply = client.post(path, auth=auth, **kw)
    keep = {"content-type", "retry-after", "www-authenticate"}
    return reply.status_code, reply.json(), {k: v for k, v in reply.headers.items() if k in keep}


def test_the_lane_and_the_routes_answer_alike(live: Live, routes_only: TestClient) -> None:
    for auth in [(live.write_key, ""), None, ("cxl_wrong_key_x", "")]:
        for path, kw in REQUESTS:
            lane = _answer(live.client, path, auth, kw)
            route = _answer(routes_only, path, auth, kw)
            assert lane == route, (path, kw)


def test_other_requests_go_on_to_the_application(live: Live) -> None:
    assert live.client.get("/v1/batch").status_code == 405
    assert live.client.post("/v1/unknown", json={}).status_code == 404
    assert live.client.get("/healthz").status_code == 200


def test_the_lane_answers_without_the_application(live: Live) -> None:
    app = live.client.app
    called: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["path"])

    lane = IngestLane(inner)
    sent: list[dict[str, Any]] = []
    body = orjson.dumps({"userId": "u9", "event": "Lane", "messageId": "lane-1"})
    chunks = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "body": body[10:], "more_body": False},
    ]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/track",
        "app": app,
        "headers": [(b"authorization", b"Bearer " + live.write_key.encode())],
        "client": ("10.1.2.3", 5555),
    }
    live.client.portal.call(lane, scope, receive, send)  # type: ignore[union-attr]
    assert called == []
    assert sent[0]["status"] == 200
    assert orjson.loads(sent[1]["body"]) == {"success": True, "accepted": 1}
    live.load()
    found = live.api("/api/v1/customers", user_id="u9").json()["items"]
    assert found[0]["counters"] == {"track": 1}
