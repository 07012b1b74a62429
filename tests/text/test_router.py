from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.models import Scope
from tests.fixtures.factories import auth, make_key, make_workspace


def read_key(session: Session, scope: Scope = Scope.READ) -> dict[str, str]:
    workspace = make_workspace(session)
    _, token = make_key(session, workspace, scope)
    return auth(token)


def test_analyze(client: TestClient, session: Session) -> None:
    response = client.post(
        "/api/v1/text/analyze",
        json={"texts": ["giao hàng chậm nhưng sản phẩm tốt", "ส่งไวมาก ประทับใจ", "Awful."]},
        headers=read_key(session),
    )
    assert response.status_code == 200, response.text
    vi, th, en = response.json()["items"]
    assert vi["language"] == "vi"
    assert {(a["theme"], a["sentiment"]) for a in vi["aspects"]} == {
        ("delivery", "negative"),
        ("product_quality", "positive"),
    }
    assert vi["aspects"][0]["span"] == "giao hàng chậm"
    assert th["language"] == "th"
    assert th["sentiment"] == "positive"
    assert en["sentiment"] == "negative"
    assert set(en) == {"text", "language", "sentiment", "score", "polarity", "themes", "aspects"}


def test_bad_requests_name_the_field(client: TestClient, session: Session) -> None:
    headers = read_key(session)
    response = client.post("/api/v1/text/analyze", json={"texts": []}, headers=headers)
    assert response.status_code == 422
    assert "texts" in response.text
    response = client.post("/api/v1/text/analyze", json={"texts": ["ok", 5]}, headers=headers)
    assert response.status_code == 422
    response = client.post("/api/v1/text/analyze", json={"texts": ["ok"] * 257}, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"] == "texts: at most 256 texts per request"
    response = client.post("/api/v1/text/analyze", content=b"{", headers=headers)
    assert response.status_code == 422
    assert client.post("/api/v1/text/analyze", json={"texts": ["a"]}).status_code == 401


def test_taxonomy_per_workspace(client: TestClient, session: Session) -> None:
    admin = read_key(session, Scope.ADMIN)
    other = read_key(session, Scope.ADMIN)
    default = client.get("/api/v1/text/taxonomy", headers=admin).json()
    assert "delivery" in [t["id"] for t in default["themes"]]
    custom = {
        "themes": [{"id": "parking", "label": {"en": "Parking"}, "keywords": {"en": ["Parking"]}}]
    }
    assert (
        client.put("/api/v1/text/taxonomy", json=custom, headers=read_key(session)).status_code
        == 403
    )
    assert client.put("/api/v1/text/taxonomy", json=custom, headers=admin).status_code == 200
    found = client.post(
        "/api/v1/text/analyze", json={"texts": ["parking was full"]}, headers=admin
    ).json()
    assert found["items"][0]["themes"] == ["parking"]
    theirs = client.post(
        "/api/v1/text/analyze", json={"texts": ["parking was full"]}, headers=other
    ).json()
    assert theirs["items"][0]["themes"] == []
    bad = {"themes": [{"id": "Bad Id", "label": {}, "keywords": {}}]}
    response = client.put("/api/v1/text/taxonomy", json=bad, headers=admin)
    assert response.status_code == 422
    assert "id" in response.text
    reset = client.delete("/api/v1/text/taxonomy", headers=admin).json()
    assert reset == default


def test_discover_themes(client: TestClient, session: Session) -> None:
    texts = ["the parking lot was full", "parking lot too small", "no parking lot nearby"] * 2
    response = client.post(
        "/api/v1/text/themes/discover",
        json={"texts": texts, "max_themes": 2},
        headers=read_key(session),
    )
    assert response.status_code == 200, response.text
    assert "parking" in response.json()["items"][0]["label"]
