"""The surveys API over HTTP, and responses reaching the event store and the timeline."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.analytics import events as store
from cxloop.core.db import transaction
from cxloop.eventstore import service as eventstore
from cxloop.ingest import service as ingest
from cxloop.models import Scope, Workspace
from cxloop.profiles import service as profiles
from cxloop.surveys import service
from tests.conftest import QueryCounter
from tests.fixtures.factories import auth, make_key, make_workspace
from tests.fixtures.ingest import Live
from tests.fixtures.surveys import make_survey, nps_with_follow_ups, respond

MINIMAL = {
    "name": "Post-delivery NPS",
    "questions": [{"id": "nps", "type": "nps", "title": {"en": "How likely ..."}}],
}


def keys(session: Session) -> tuple[Workspace, dict[str, dict[str, str]]]:
    workspace = make_workspace(session)
    return workspace, {scope.value: auth(make_key(session, workspace, scope)[1]) for scope in Scope}


def test_a_survey_posted_with_a_minimal_body_takes_responses_at_once(
    client: TestClient, session: Session
) -> None:
    _, headers = keys(session)
    created = client.post("/api/v1/surveys", json=MINIMAL, headers=headers["write"])
    assert created.status_code == 201, created.text
    survey = created.json()
    assert survey["status"] == "active"
    url = f"/api/v1/surveys/{survey['id']}/responses"
    body = {"customer": {"email": "a@shop.vn"}, "answers": {"nps": 9}, "channel": "email"}
    answered = client.post(url, json=body, headers=headers["write"])
    assert answered.status_code == 201, answered.text
    assert answered.json()["id"] == answered.json()["response_id"]
    assert answered.json()["channel"] == "email"
    anonymous = client.post(url, json={"answers": {"nps": 3}}, headers=headers["write"])
    assert anonymous.status_code == 201
    assert anonymous.json()["anonymous_id"].startswith("cxl-")
    listed = client.get(url, headers=headers["read"]).json()["items"]
    assert [r["answers"]["nps"] for r in listed] == [3, 9]


def test_keys_need_their_scope(client: TestClient, session: Session) -> None:
    workspace, headers = keys(session)
    survey = make_survey(session, workspace)
    assert client.post("/api/v1/surveys", json=MINIMAL, headers=headers["read"]).status_code == 403
    assert client.get("/api/v1/surveys", headers=headers["write"]).status_code == 403
    for scope in ("read", "admin"):
        assert client.get(f"/api/v1/surveys/{survey.id}", headers=headers[scope]).status_code == 200
    response = client.post(
        f"/api/v1/surveys/{survey.id}/responses",
        json={"answers": {"nps": 1}},
        headers=headers["read"],
    )
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_bad_answers_are_422_naming_each_question(client: TestClient, session: Session) -> None:
    workspace, headers = keys(session)
    survey = make_survey(session, workspace, questions=nps_with_follow_ups())
    response = client.post(
        f"/api/v1/surveys/{survey.id}/responses",
        json={"answers": {"nps": "ten", "review": "maybe", "colour": "red"}},
        headers=headers["write"],
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert {tuple(e["loc"]): e["msg"] for e in body["errors"]} == {
        ("answers", "colour"): "no question 'colour' in version 1",
        ("answers", "nps"): "must be a whole number from 0 to 10",
    }
    assert "answers.nps" in body["detail"]


def test_bad_definitions_are_422_with_their_path(client: TestClient, session: Session) -> None:
    _, headers = keys(session)
    structural = client.post(
        "/api/v1/surveys",
        json={"name": "x", "questions": [{"id": "Bad Id", "type": "stars", "title": {"fr": "?"}}]},
        headers=headers["admin"],
    )
    assert structural.status_code == 422
    assert {tuple(e["loc"][:5]) for e in structural.json()["errors"]} >= {
        ("body", "questions", 0, "id"),
        ("body", "questions", 0, "type"),
        ("body", "questions", 0, "title", "fr"),
    }
    follow_up = {"id": "why", "type": "text", "title": {"en": "Why?"}}
    rules = client.post(
        "/api/v1/surveys",
        json={
            "name": "x",
            "questions": [
                {**follow_up, "show_if": {"question": "nps", "op": "lte", "value": 6}},
                {"id": "nps", "type": "nps", "title": {"en": "Score"}},
            ],
        },
        headers=headers["admin"],
    )
    assert rules.status_code == 422
    assert rules.json()["errors"][0]["loc"] == ["questions", 0, "show_if", "question"]


def test_survey_life_through_the_api(client: TestClient, session: Session) -> None:
    _, headers = keys(session)
    write, read = headers["write"], headers["read"]
    survey_id = client.post(
        "/api/v1/surveys", json={**MINIMAL, "status": "draft"}, headers=write
    ).json()["id"]
    url = f"/api/v1/surveys/{survey_id}"
    refused = client.post(f"{url}/responses", json={"answers": {"nps": 5}}, headers=write)
    assert refused.status_code == 409
    assert refused.json()["error"] == "survey_not_open"
    patched = client.patch(url, json={"touchpoint": "delivery", "stage": "purchase"}, headers=write)
    assert patched.json()["touchpoint"] == "delivery"
    moved = client.post(f"{url}/status", json={"status": "active"}, headers=write)
    assert moved.json()["status"] == "active"
    assert client.post(f"{url}/responses", json={"answers": {"nps": 5}}, headers=write).is_success
    changed = client.patch(url, json={"questions": nps_with_follow_ups()}, headers=write)
    assert changed.json()["current_version"] == 2
    detail = client.get(url, headers=read).json()
    assert [(v["version"], v["response_count"]) for v in detail["versions"]] == [(1, 1), (2, 0)]
    assert [q["id"] for q in detail["definition"]["questions"]] == [
        "nps",
        "what_went_wrong",
        "review",
    ]
    first = client.get(f"{url}/versions/1", headers=read).json()
    assert [q["id"] for q in first["definition"]["questions"]] == ["nps"]
    assert client.get(f"{url}/versions/9", headers=read).status_code == 404
    bad = client.post(f"{url}/status", json={"status": "draft"}, headers=write)
    assert bad.status_code == 409
    assert bad.json()["error"] == "bad_status_transition"
    assert client.delete(url, headers=write).status_code == 409
    templates = client.get("/api/v1/surveys/templates", headers=read).json()["items"]
    draft = client.post("/api/v1/surveys", json=templates[0]["survey"], headers=write).json()
    assert draft["status"] == "draft"
    assert client.delete(f"/api/v1/surveys/{draft['id']}", headers=write).status_code == 204


def test_lists_page_and_do_not_query_per_row(
    client: TestClient, session: Session, queries: QueryCounter
) -> None:
    workspace, headers = keys(session)
    survey = make_survey(session, workspace)
    client.get("/api/v1/surveys", headers=headers["admin"])  # first use writes last_used_at
    urls = ["/api/v1/surveys", f"/api/v1/surveys/{survey.id}/responses"]

    def counts() -> list[int]:
        found = []
        for url in urls:
            queries.statements.clear()
            assert client.get(url, headers=headers["admin"]).status_code == 200
            found.append(queries.count)
        return found

    few = counts()
    for n in range(12):
        make_survey(session, workspace, name=f"s{n}")
        respond(session, survey, {"nps": n % 11})
    session.flush()
    assert counts() == few
    page = client.get("/api/v1/surveys?limit=5", headers=headers["admin"]).json()
    rest = client.get(
        f"/api/v1/surveys?limit=50&before={page['next_cursor']}", headers=headers["admin"]
    ).json()
    assert len(page["items"]) + len(rest["items"]) == 13
    assert rest["next_cursor"] is None
    responses = client.get(
        f"/api/v1/surveys/{survey.id}/responses",
        params={"limit": 5, "from": "2000-01-01T00:00:00Z"},
        headers=headers["admin"],
    ).json()
    assert len(responses["items"]) == 5
    assert responses["next_cursor"] == responses["items"][-1]["id"]


# -- through the loader -----------------------------------------------------------------------


def bearer(live: Live) -> dict[str, str]:
    return auth(live.write_key)


def stored_events(live: Live) -> list[dict[str, Any]]:
    with transaction(live.factory) as session:
        files = eventstore.current_files(session, live.workspace_id, live.root)
        mapping = profiles.merge_map(session, live.workspace_id)
    return store.query(
        files, mapping, "SELECT * FROM events WHERE event = 'Survey Responded' ORDER BY timestamp"
    )


def create(live: Live, **extra: Any) -> str:
    response = live.client.post(
        "/api/v1/surveys",
        json={**MINIMAL, "touchpoint": "delivery", "stage": "purchase", **extra},
        headers=bearer(live),
    )
    assert response.status_code == 201, response.text
    survey_id: str = response.json()["id"]
    return survey_id


def answer(live: Live, survey_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = live.client.post(
        f"/api/v1/surveys/{survey_id}/responses", json=body, headers=bearer(live)
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_event_keeps_the_contract(live: Live) -> None:
    questions = [
        {"id": "ease", "type": "ces", "title": {"en": "Easy?"}},
        {"id": "nps", "type": "nps", "title": {"en": "Recommend?"}},
        {"id": "nps_again", "type": "nps", "title": {"en": "Really?"}},
        {"id": "stars", "type": "rating", "required": False, "title": {"en": "Stars"}},
    ]
    survey_id = create(live, questions=questions, languages=["vi", "en"])
    response = answer(
        live,
        survey_id,
        {
            "customer": {"user_id": "u-1"},
            "answers": {"ease": 6, "nps": 10, "nps_again": 2},
            "channel": "app",
            "language": "vi",
            "submitted_at": "2026-11-20T10:00:00+07:00",
        },
    )
    assert ingest.settle(live.factory, live.root, live.workspace_id, holder="tests")
    [event] = stored_events(live)
    assert event["type"] == "track"
    assert event["user_id"] == "u-1"
    assert event["channel"] == "app"
    assert event["locale"] == "vi"
    assert event["timestamp"].isoformat() == "2026-11-20T03:00:00+00:00"
    assert event["message_id"].startswith(f"survey-response-{response['response_id']}-")
    assert orjson.loads(event["properties"]) == {
        "survey_id": survey_id,
        "survey_name": "Post-delivery NPS",
        "survey_version": 1,
        "response_id": response["response_id"],
        "touchpoint": "delivery",
        "stage": "purchase",
        "language": "vi",
        "channel": "app",
        "source": "api",
        "is_complete": True,
        "answers": {"ease": 6, "nps": 10, "nps_again": 2},
        "nps": 10,
        "csat": None,
        "ces": 6,
        "rating": None,
    }


def test_responses_join_the_profile_of_the_customers_other_events(live: Live) -> None:
    # known only by email (a web visitor who signed up), and only by user id (the app)
    live.send("/v1/identify", {"anonymousId": "web-1", "traits": {"email": "Mai@Shop.vn"}})
    live.send("/v1/track", {"userId": "u-42", "event": "Order Completed"})
    live.send("/v1/identify", {"anonymousId": "web-2", "traits": {"lineId": "Uline"}})
    live.load()
    survey_id = create(live)
    by_email = answer(
        live, survey_id, {"customer": {"email": "mai@shop.vn"}, "answers": {"nps": 3}}
    )
    by_user = answer(live, survey_id, {"customer": {"user_id": "u-42"}, "answers": {"nps": 9}})
    by_line = answer(live, survey_id, {"customer": {"line_id": "Uline"}, "answers": {"nps": 7}})
    stranger = answer(live, survey_id, {"answers": {"nps": 8}})
    live.load()

    def customer(**lookup: str) -> dict[str, Any]:
        [found] = live.api("/api/v1/customers", **lookup).json()["items"]
        result: dict[str, Any] = found
        return result

    mai, user, line = (
        customer(email="mai@shop.vn"),
        customer(user_id="u-42"),
        customer(anonymous_id="web-2"),
    )
    assert by_email["profile_id"] == mai["id"]  # known when answering: linked at once
    assert by_user["profile_id"] == user["id"]
    assert by_line["profile_id"] == line["id"]
    assert mai["counters"] == {"identify": 1, "track": 1}
    assert user["counters"] == {"track": 2}
    assert line["counters"] == {"identify": 1, "track": 1}
    assert stranger["profile_id"] is None
    new = customer(anonymous_id=stranger["anonymous_id"])
    assert new["id"] not in (mai["id"], user["id"], line["id"])
    assert len({e["customer_id"] for e in stored_events(live)}) == 4
    with transaction(live.factory) as session:
        assert service.link_profiles(session) == 1  # the stranger's response finds its profile
    listed = live.api(f"/api/v1/surveys/{survey_id}/responses").json()["items"]
    assert next(r for r in listed if r["id"] == stranger["id"])["profile_id"] == new["id"]


def test_a_response_shows_in_the_customer_timeline(live: Live) -> None:
    live.send("/v1/track", {"userId": "u-7", "event": "Order Completed"})
    survey_id = create(live)
    answer(live, survey_id, {"customer": {"user_id": "u-7"}, "answers": {"nps": 6}})
    live.load()
    [found] = live.api("/api/v1/customers", user_id="u-7").json()["items"]
    timeline = live.api(f"/api/v1/customers/{found['id']}/timeline").json()["items"]
    assert sorted(item["event"] for item in timeline) == ["Order Completed", "Survey Responded"]
    survey_item = next(i for i in timeline if i["event"] == "Survey Responded")
    assert survey_item["properties"]["nps"] == 6
    assert survey_item["properties"]["survey_id"] == survey_id
