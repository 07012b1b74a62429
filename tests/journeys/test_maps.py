"""The journey-map API: templates, maps from a template or a document, checks naming the
field, tenancy, and where customers are on a map (stages, milestones, one customer)."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.models import AuditEvent, Scope, Workspace
from tests.conftest import QueryCounter
from tests.fixtures.factories import auth, make_key, make_workspace
from tests.fixtures.ingest import Live, track
from tests.fixtures.surveys import make_survey

STAGE_KEYS = [
    "awareness",
    "consideration",
    "purchase",
    "onboarding",
    "retention",
    "expansion",
    "advocacy",
]


def small_doc(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Shop journey",
        "stages": [
            {
                "key": "visit",
                "name": {"en": "Visit", "vi": "Ghé thăm", "th": "เยี่ยมชม"},
                "entry": [{"type": "page"}],
                "touchpoints": [
                    {"key": "home", "name": {"en": "Home page"}, "matchers": [{"type": "page"}]}
                ],
            },
            {
                "key": "buy",
                "name": {"en": "Buy"},
                "entry": [{"event": "Order Completed"}],
                "touchpoints": [],
            },
        ],
        "milestones": [
            {"key": "second_order", "name": {"en": "2nd"}, "matcher": {"event": "Order Completed"}}
        ],
        **extra,
    }


@pytest.fixture
def keys(session: Session) -> dict[str, Any]:
    workspace = make_workspace(session)
    _, write = make_key(session, workspace, Scope.WRITE)
    _, read = make_key(session, workspace, Scope.READ)
    return {"workspace": workspace, "write": auth(write), "read": auth(read)}


def create(client: TestClient, keys: dict[str, Any], body: dict[str, Any]) -> Any:
    return client.post("/api/v1/journeys", json=body, headers=keys["write"])


def test_the_default_template_has_seven_stages_in_three_languages(
    client: TestClient, keys: dict[str, Any]
) -> None:
    response = client.get("/api/v1/journeys/templates", headers=keys["read"])
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert item["key"] == "default"
    assert item["name"]["vi"] == "Hành trình khách hàng"
    assert "tiền tệ" in item["description"]["vi"]
    assert "สกุลเงิน" in item["description"]["th"]
    stages = item["journey"]["stages"]
    assert [s["key"] for s in stages] == STAGE_KEYS
    assert stages[1]["name"] == {"en": "Consideration", "vi": "Cân nhắc", "th": "การพิจารณา"}
    for stage in stages:
        assert stage["name"]["vi"]
        assert stage["name"]["th"]
        assert stage["entry"]
        assert stage["touchpoints"], stage["key"]
    retention = stages[STAGE_KEYS.index("retention")]
    assert retention["entry"] == [
        {"event": "Order Completed", "type": "track", "where": {}, "channel": None, "count": 2}
    ]
    advocacy = stages[STAGE_KEYS.index("advocacy")]["entry"]
    assert {"gte": 9} in [e["where"].get("nps") for e in advocacy]


def test_create_from_the_template_read_list_replace_and_delete(
    client: TestClient, session: Session, keys: dict[str, Any]
) -> None:
    response = create(client, keys, {"template": "default", "name": "Our customers"})
    assert response.status_code == 201, response.text
    made = response.json()
    journey_id = made["id"]
    assert [s["key"] for s in made["stages"]] == STAGE_KEYS
    assert [m["key"] for m in made["milestones"]] == [
        "first_order",
        "third_order",
        "first_referral",
    ]
    assert "currency" in made["description"]

    read = client.get(f"/api/v1/journeys/{journey_id}", headers=keys["read"])
    assert read.status_code == 200
    assert read.json() == made

    second = create(client, keys, small_doc())
    assert second.status_code == 201, second.text
    assert second.json()["stages"][0]["entry"][0]["count"] == 1
    listed = client.get("/api/v1/journeys", headers=keys["read"]).json()
    assert [j["name"] for j in listed["items"]] == ["Our customers", "Shop journey"]
    page = client.get("/api/v1/journeys", params={"limit": 1}, headers=keys["read"]).json()
    rest = client.get(
        "/api/v1/journeys", params={"after": page["next_cursor"]}, headers=keys["read"]
    ).json()
    assert [j["name"] for j in page["items"] + rest["items"]] == ["Our customers", "Shop journey"]

    changed = small_doc(name="Renamed", description="two stages")
    changed["stages"][1]["entry"] = [{"event": "Order Completed", "count": 2}]
    replaced = client.put(f"/api/v1/journeys/{journey_id}", json=changed, headers=keys["write"])
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["name"], body["description"], len(body["stages"])) == ("Renamed", "two stages", 2)
    assert body["stages"][1]["entry"][0]["count"] == 2
    assert body["created_at"] == made["created_at"]

    gone = client.delete(f"/api/v1/journeys/{journey_id}", headers=keys["write"])
    assert gone.status_code == 204
    missing = client.get(f"/api/v1/journeys/{journey_id}", headers=keys["read"])
    assert missing.status_code == 404
    assert missing.json()["error"] == "journey_not_found"

    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.workspace_id == keys["workspace"].id, AuditEvent.target_type == "journey")
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    assert list(actions) == [
        "journey.created",
        "journey.created",
        "journey.updated",
        "journey.deleted",
    ]


def test_a_map_from_the_template_is_described_in_the_workspaces_language(
    client: TestClient, session: Session, keys: dict[str, Any]
) -> None:
    keys["workspace"].default_language = "vi"
    session.flush()
    made = create(client, keys, {"template": "default", "name": "Hành trình"}).json()
    assert made["name"] == "Hành trình"
    assert made["description"].startswith("Bảy giai đoạn")
    own = create(client, keys, {"template": "default", "name": "b", "description": "Của tôi"})
    assert own.json()["description"] == "Của tôi"


def test_names_are_unique_in_a_workspace(client: TestClient, keys: dict[str, Any]) -> None:
    assert create(client, keys, small_doc()).status_code == 201
    again = create(client, keys, {"template": "default", "name": " Shop journey "})
    assert again.status_code == 409
    assert again.json()["error"] == "journey_exists"
    other = create(client, keys, small_doc(name="Other")).json()
    clash = client.put(f"/api/v1/journeys/{other['id']}", json=small_doc(), headers=keys["write"])
    assert clash.status_code == 409
    # keeping its own name is no clash
    same = client.put(
        f"/api/v1/journeys/{other['id']}", json=small_doc(name="Other"), headers=keys["write"]
    )
    assert same.status_code == 200, same.text


def _doc_with(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(small_doc())
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


DUPLICATE_TOUCHPOINT = {"key": "home", "name": {"en": "Again"}, "matchers": [{"type": "page"}]}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (_doc_with(["stages", 1, "key"], "visit"), ["body", "stages", 1, "key"]),
        (
            _doc_with(["stages", 1, "touchpoints"], [DUPLICATE_TOUCHPOINT]),
            ["body", "stages", 1, "touchpoints", 0, "key"],
        ),
        (
            _doc_with(["milestones"], small_doc()["milestones"] * 2),
            ["body", "milestones", 1, "key"],
        ),
        (
            _doc_with(["stages", 1, "entry", 0], {"type": "track"}),
            ["body", "stages", 1, "entry", 0, "event"],
        ),
        (
            _doc_with(["stages", 1, "entry", 0, "count"], 0),
            ["body", "stages", 1, "entry", 0, "count"],
        ),
        (
            _doc_with(["stages", 1, "entry", 0, "where"], {"revenue": {"above": 5}}),
            ["body", "stages", 1, "entry", 0, "where", "revenue", "above"],
        ),
        (
            _doc_with(["milestones", 0, "matcher", "where"], {"bad key": 1}),
            ["body", "milestones", 0, "matcher", "where", "bad key"],
        ),
        (_doc_with(["stages", 0, "key"], "Not A Key"), ["body", "stages", 0, "key"]),
        (_doc_with(["stages", 0, "name"], {"vi": "Ghé thăm"}), ["body", "stages", 0, "name", "en"]),
        (
            _doc_with(["stages", 0, "touchpoints", 0, "matchers"], []),
            ["body", "stages", 0, "touchpoints", 0],
        ),
        ({"name": "No stages"}, ["body", "stages"]),
        (
            {"name": "x", "template": "default", "stages": small_doc()["stages"]},
            ["body", "template"],
        ),
        ({"name": "x", "template": "saas"}, ["body", "template"]),
        ({"template": "default"}, ["body", "name"]),
        ({"template": "default", "name": "   "}, ["body", "name"]),
        (small_doc(colour="red"), ["body", "colour"]),
    ],
)
def test_bad_maps_are_422_naming_the_field(
    client: TestClient, keys: dict[str, Any], body: dict[str, Any], loc: list[Any]
) -> None:
    response = create(client, keys, body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["error"] == "validation_error"
    assert loc in [e["loc"] for e in payload["errors"]], payload["errors"]


def test_touchpoint_surveys_must_be_the_workspaces_own(
    client: TestClient, session: Session, keys: dict[str, Any]
) -> None:
    ours = make_survey(session, keys["workspace"], name="ours")
    theirs = make_survey(session, make_workspace(session), name="theirs")
    doc = small_doc()
    doc["stages"][1]["touchpoints"] = [
        {"key": "nps", "name": {"en": "NPS"}, "survey_ids": [str(ours.id), str(theirs.id)]}
    ]
    response = create(client, keys, doc)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [["body", "stages", 1, "touchpoints", 0, "survey_ids", 1]]
    assert str(theirs.id) not in response.text
    doc["stages"][1]["touchpoints"][0]["survey_ids"] = [str(ours.id)]
    made = create(client, keys, doc)
    assert made.status_code == 201, made.text
    assert made.json()["stages"][1]["touchpoints"][0]["survey_ids"] == [str(ours.id)]


def test_keys_and_scopes(client: TestClient, keys: dict[str, Any]) -> None:
    body = {"template": "default", "name": "x"}
    assert client.post("/api/v1/journeys", json=body).status_code == 401
    read_only = client.post("/api/v1/journeys", json=body, headers=keys["read"])
    assert read_only.status_code == 403
    made = create(client, keys, body).json()
    assert client.delete(f"/api/v1/journeys/{made['id']}", headers=keys["read"]).status_code == 403
    assert client.get("/api/v1/journeys", headers=keys["read"]).status_code == 200


def test_another_workspaces_key_cannot_see_or_change_a_map(
    client: TestClient, session: Session, keys: dict[str, Any]
) -> None:
    made = create(client, keys, small_doc(name="a-private-map")).json()
    other: Workspace = make_workspace(session)
    _, token = make_key(session, other, Scope.ADMIN)
    theirs = auth(token)
    url = f"/api/v1/journeys/{made['id']}"
    for method, path, body in [
        ("GET", url, None),
        ("PUT", url, small_doc(name="stolen")),
        ("DELETE", url, None),
        ("GET", url + "/stages", None),
        ("GET", url + "/milestones", None),
    ]:
        response = client.request(method, path, json=body, headers=theirs)
        assert response.status_code == 404, (method, path, response.text)
        assert "a-private-map" not in response.text
    listed = client.get("/api/v1/journeys", headers=theirs).json()
    assert listed["items"] == []
    mine = client.get(url, headers=keys["read"]).json()
    assert mine["name"] == "a-private-map"


def test_listing_maps_does_not_query_per_map(
    client: TestClient, keys: dict[str, Any], queries: QueryCounter
) -> None:
    create(client, keys, small_doc())
    client.get("/api/v1/journeys", headers=keys["read"])  # first use of the key

    def count() -> int:
        queries.statements.clear()
        assert client.get("/api/v1/journeys", headers=keys["read"]).status_code == 200
        return queries.count

    few = count()
    for n in range(5):
        create(client, keys, small_doc(name=f"map {n}"))
    assert count() == few


# -- where customers are ----------------------------------------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=3)
H = timedelta(hours=1)


def visit(who: dict[str, str], at: datetime) -> dict[str, Any]:
    return {"type": "page", "name": "Home", "timestamp": at.isoformat(), **who}


def send(live: Live, *batch: dict[str, Any]) -> None:
    assert live.send("/v1/batch", {"batch": list(batch)}).status_code == 200


def shop(live: Live) -> str:
    """Four customers; the anonymous visitor and u3 become one after the fact. Returns the
    journey's id."""
    made = live.client.post(
        "/api/v1/journeys",
        json={"template": "default", "name": "Shop"},
        headers={"Authorization": f"Bearer {live.write_key}"},
    )
    assert made.status_code == 201, made.text
    send(live, track({"anonymousId": "anon-3"}, "Product Viewed", START))
    live.load()
    send(live, track({"userId": "u3"}, "Order Completed", START + 2 * H, revenue=20))
    live.load()
    send(
        live,
        visit({"userId": "u1"}, START),
        track({"userId": "u1"}, "Product Viewed", START + H),
        track({"userId": "u1"}, "Order Completed", START + 2 * H, revenue=100),
        track({"userId": "u1"}, "Order Completed", START + 2 * timedelta(days=1), revenue=50),
        visit({"userId": "u2"}, START + H),
        track({"userId": "u4"}, "Survey Responded", START + H, nps=10),
        {
            "type": "identify",
            "userId": "u3",
            "anonymousId": "anon-3",
            "timestamp": (START + 3 * H).isoformat(),
        },
    )
    return str(made.json()["id"])


def customer(live: Live, **identifier: str) -> dict[str, Any]:
    (item,) = live.api("/api/v1/customers", **identifier).json()["items"]
    return dict(item)


def test_stages_count_what_was_just_sent_and_merged_customers_once(live: Live) -> None:
    journey_id = shop(live)  # the last batch is not loaded: the query settles the inbox
    response = live.api(
        f"/api/v1/journeys/{journey_id}/stages",
        **{"from": START.date().isoformat(), "to": NOW.date().isoformat(), "interval": "day"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    current = {s["key"]: s["customers"] for s in body["current"]["stages"]}
    assert current == {
        "awareness": 1,  # u2
        "consideration": 0,
        "purchase": 1,  # u3, with the anonymous visitor's view
        "onboarding": 0,
        "retention": 1,  # u1's second order
        "expansion": 0,
        "advocacy": 1,  # u4, a promoter
    }
    assert body["current"]["customers"] == 4
    assert body["current"]["stages"][0]["share"] == 0.25
    last = body["series"][-1]
    assert last["end"] == (NOW.date() + timedelta(days=1)).isoformat()
    assert {s["key"]: s["customers"] for s in last["stages"]} == current
    entered = {s["key"]: 0 for s in last["stages"]}
    for day in body["series"]:
        for s in day["stages"]:
            entered[s["key"]] += s["entered"]
    assert entered["purchase"] == 2
    assert entered["consideration"] == 2

    milestones = live.api(
        f"/api/v1/journeys/{journey_id}/milestones", **{"from": START.date().isoformat()}
    )
    assert milestones.status_code == 200, milestones.text
    figures = {m["key"]: m for m in milestones.json()["milestones"]}
    assert (figures["first_order"]["reached"], figures["first_order"]["total"]) == (2, 2)
    assert figures["third_order"]["count"] == 3
    assert figures["third_order"]["total"] == 0


def test_one_customers_journey_and_a_merged_away_id(live: Live) -> None:
    journey_id = shop(live)
    live.load()
    u1 = customer(live, user_id="u1")
    response = live.api(f"/api/v1/customers/{u1['id']}/journey")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["journey"] == {"id": journey_id, "name": "Shop"}
    assert body["current_stage"]["key"] == "retention"
    assert [h["key"] for h in body["history"]] == [
        "awareness",
        "consideration",
        "purchase",
        "retention",
    ]
    assert body["history"][0]["event"]["type"] == "page"
    assert body["history"][2]["event"]["name"] == "Order Completed"
    assert datetime.fromisoformat(body["history"][2]["entered_at"]) == START + 2 * H
    assert [m["key"] for m in body["milestones"]] == ["first_order"]

    u3 = customer(live, user_id="u3")
    assert u3["merged_ids"], "the visitor and u3 were merged"
    merged_away = u3["merged_ids"][0]
    via_old_id = live.api(f"/api/v1/customers/{merged_away}/journey", journey_id=journey_id)
    assert via_old_id.status_code == 200, via_old_id.text
    old = via_old_id.json()
    assert old["customer_id"] == u3["id"]
    assert [h["key"] for h in old["history"]] == ["consideration", "purchase"]

    unknown = live.api(f"/api/v1/customers/{uuid.uuid4()}/journey")
    assert unknown.status_code == 404
    no_map = live.api(f"/api/v1/customers/{u1['id']}/journey", journey_id=str(uuid.uuid4()))
    assert no_map.json()["error"] == "journey_not_found"


def test_a_workspace_without_maps_and_bad_ranges(live: Live) -> None:
    send(live, visit({"userId": "u1"}, START))
    live.load()
    u1 = customer(live, user_id="u1")
    none = live.api(f"/api/v1/customers/{u1['id']}/journey")
    assert none.status_code == 404
    assert "POST /api/v1/journeys" in none.json()["detail"]
    journey_id = shop(live)
    for params, loc in [
        ({"from": "2026-12-02", "to": "2026-12-01"}, ["from"]),
        ({"from": "2000-01-01", "to": "2026-01-01", "interval": "day"}, ["interval"]),
        ({"interval": "year"}, ["query", "interval"]),
        ({"from": "soon"}, ["query", "from"]),
    ]:
        response = live.api(f"/api/v1/journeys/{journey_id}/stages", **params)
        assert response.status_code == 422, (params, response.text)
        assert loc in [e["loc"] for e in response.json()["errors"]]
