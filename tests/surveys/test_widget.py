"""The web widget: its settings API, the eligibility check and the script it is served as."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.models import Scope, SurveyStatus
from cxloop.surveys import service, widget
from cxloop.surveys.page_schemas import WidgetRules
from tests.fixtures.factories import TEST_ACTOR, auth, make_key, make_workspace
from tests.fixtures.surveys import make_survey, respond

HTML = {"accept": "text/html"}


def widget_on(client: TestClient, session: Session, **rules: object) -> tuple[object, str]:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    _, key = make_key(session, workspace, Scope.WRITE)
    body = {"theme": {"brand_color": "#0b5cad"}, "widget": {"url_contains": "/orders", **rules}}
    put = client.put(f"/api/v1/surveys/{survey.id}/page", json=body, headers=auth(key))
    assert put.status_code == 200, put.text
    page = put.json()
    assert page["widget_key"].startswith("cxw_")
    assert page["widget_key"] in page["embed_snippet"]
    return survey, page["widget_key"]


def eligible(client: TestClient, key: str, url: str, **ids: str) -> dict[str, object]:
    response = client.get("/s/widget/eligible", params={"key": key, "url": url, **ids})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    body: dict[str, object] = response.json()
    return body


def test_the_widget_shows_on_matching_pages_to_visitors_who_did_not_answer(
    client: TestClient, session: Session
) -> None:
    survey, key = widget_on(client, session, delay_seconds=2, event="Order Completed")
    shown = eligible(client, key, "https://shop.vn/orders/17", aid="anon-1")
    assert shown["show"] is True
    assert shown["survey_id"] == str(survey.id)  # type: ignore[attr-defined]
    assert shown["rules"]["event"] == "Order Completed"  # type: ignore[index]
    thai = eligible(client, key, "https://shop.vn/orders/17", aid="anon-1", lang="th")
    assert (thai["dialog_label"], thai["close_label"]) == ("แบบสำรวจ", "ปิดแบบสำรวจ")
    assert eligible(client, key, "https://shop.vn/cart", aid="anon-1")["reason"] == (
        "url_not_matched"
    )
    respond(session, survey, {"nps": 9}, customer={"anonymous_id": "anon-1"})  # type: ignore[arg-type]
    assert eligible(client, key, "https://shop.vn/orders/17", aid="anon-1")["reason"] == (
        "not_eligible"
    )
    assert eligible(client, "cxw_nope", "https://shop.vn/orders")["reason"] == "unknown_key"
    service.change_status(session, survey.workspace_id, survey.id, SurveyStatus.PAUSED, TEST_ACTOR)  # type: ignore[attr-defined]
    assert eligible(client, key, "https://shop.vn/orders/17")["reason"] == "survey_not_open"


def test_a_registered_check_can_say_no(client: TestClient, session: Session) -> None:
    _, key = widget_on(client, session)
    calls: list[dict[str, str]] = []

    def tired(
        _session: Session, _ws: uuid.UUID, _survey: uuid.UUID, customer: dict[str, str]
    ) -> bool:
        calls.append(customer)
        return customer.get("user_id") != "u-tired"

    widget.add_eligibility_check(tired)
    try:
        assert eligible(client, key, "https://x/orders", uid="u-tired")["reason"] == "not_eligible"
        assert eligible(client, key, "https://x/orders", uid="u-fresh")["show"] is True
    finally:
        widget._checks.remove(tired)
    assert calls == [{"user_id": "u-tired"}, {"user_id": "u-fresh"}]


def test_sampling_is_stable_per_visitor() -> None:
    survey_id = uuid.uuid4()
    picks = [widget.in_sample(30, survey_id, f"v{i}") for i in range(2000)]
    assert 0.25 < sum(picks) / len(picks) < 0.35
    assert picks == [widget.in_sample(30, survey_id, f"v{i}") for i in range(2000)]
    assert widget.in_sample(100, survey_id, "")
    assert not widget.in_sample(0, survey_id, "x")


def test_url_rules() -> None:
    assert widget.url_matches(WidgetRules(url_regex=r"/orders/\d+$"), "https://a/orders/12")
    assert not widget.url_matches(WidgetRules(url_regex=r"/orders/\d+$"), "https://a/orders/x")
    assert widget.url_matches(WidgetRules(), "anything")


def test_bad_widget_settings_name_the_field(client: TestClient, session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    _, key = make_key(session, workspace, Scope.WRITE)
    url = f"/api/v1/surveys/{survey.id}/page"
    for body, field in (
        ({"widget": {"url_regex": "(["}}, "url_regex"),
        ({"widget": {"sample_percent": 101}}, "sample_percent"),
        ({"theme": {"brand_color": "red"}}, "brand_color"),
        ({"review_url": "javascript:alert(1)"}, "review_url"),
    ):
        bad = client.put(url, json=body, headers=auth(key))
        assert bad.status_code == 422, bad.text
        assert field in bad.text


def test_the_key_survives_edits_and_the_widget_can_be_switched_off(
    client: TestClient, session: Session
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    _, key = make_key(session, workspace, Scope.WRITE)
    url = f"/api/v1/surveys/{survey.id}/page"
    first = client.put(url, json={"widget": {}}, headers=auth(key)).json()["widget_key"]
    again = client.put(url, json={"widget": {"delay_seconds": 5}}, headers=auth(key)).json()
    assert again["widget_key"] == first
    off = client.put(url, json={}, headers=auth(key)).json()
    assert off["widget_key"] is None
    assert eligible(client, first, "https://x")["reason"] == "unknown_key"


def test_a_widget_visit_is_answered_as_the_visitor(client: TestClient, session: Session) -> None:
    survey, key = widget_on(client, session)
    page = client.get(f"/s/{survey.id}?wk={key}&aid=anon-9&uid=u-9&embed=1", headers=HTML)  # type: ignore[attr-defined]
    assert 'class="embedded"' in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post(f"/s/{survey.id}", data={"token": token, "a.nps": "8"}, headers=HTML)  # type: ignore[attr-defined]
    (response,) = service.list_responses(session, survey.workspace_id, survey.id)  # type: ignore[attr-defined]
    assert (response.user_id, response.anonymous_id) == ("u-9", "anon-9")
    assert response.source.value == "widget"
    assert response.channel == "web"


def test_the_scripts_are_small_cached_and_versioned(client: TestClient) -> None:
    script = client.get("/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=300"
    assert len(script.content) < 10_000
    assert "ajs_anonymous_id" in script.text
    cached = client.get("/widget.js", headers={"if-none-match": script.headers["etag"]})
    assert cached.status_code == 304
    page_script = client.get("/s/assets/survey.js")
    assert "max-age=31536000" in page_script.headers["cache-control"]
