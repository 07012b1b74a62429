"""The survey pages of the dashboard: the list and its status buttons, the builder (with and
without its script), its preview, the results with their comments and downloads, and the
distribution page's forms; signed in, on the request's own transaction."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.dashboard import surveys_builder as builder
from cxloop.models import (
    InvitationStatus,
    Role,
    Survey,
    SurveyInvitation,
    SurveyStatus,
    SurveyTrigger,
    TextAnalysis,
    TextSource,
    Workspace,
)
from cxloop.surveys import definitions, service
from cxloop.surveys.schemas import SurveyDefinition
from tests.conftest import QueryCounter
from tests.fixtures.dashboard import HTML, SignedIn, signed_in
from tests.fixtures.factories import make_workspace
from tests.fixtures.surveys import make_survey, nps_with_follow_ups, respond

BUILDER: dict[str, Any] = {
    "name": "Sau giao hàng",
    "touchpoint": "delivery",
    "stage": "purchase",
    "languages": ["vi", "th"],
    "default_language": "vi",
    "questions.0.id": "nps",
    "questions.0.type": "nps",
    "questions.0.title.vi": "Bạn có sẵn lòng giới thiệu chúng tôi?",
    "questions.0.title.th": "คุณจะแนะนำเราไหม",
    "questions.1.id": "",
    "questions.1.type": "text",
    "questions.1.title.vi": "Điều gì chưa tốt?",
    "questions.1.title.th": "มีอะไรที่ไม่ดี",
    "questions.1.show_if.0.question": "nps",
    "questions.1.show_if.0.op": "lte",
    "questions.1.show_if.0.value": "6",
    "thank_you.vi": "Cảm ơn bạn!",
}


@pytest.fixture
def workspace(session: Session) -> Workspace:
    return make_workspace(session)


@pytest.fixture
def analyst(client: TestClient, session: Session, workspace: Workspace) -> SignedIn:
    return signed_in(client, session, workspace, Role.ANALYST)


def test_every_survey_page_needs_a_signed_in_user(
    client: TestClient, session: Session, workspace: Workspace
) -> None:
    survey = make_survey(session, workspace)
    for path in ("/app/surveys", "/app/surveys/new", f"/app/surveys/{survey.id}", "/app/text"):
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    assert client.get("/app/surveys").json()["error"] == "sign_in_required"


def test_the_list_shows_each_survey_and_changes_its_status(
    analyst: SignedIn, session: Session, workspace: Workspace
) -> None:
    draft = make_survey(session, workspace, name="Bản nháp", status="draft")
    live = make_survey(session, workspace, name="Đang chạy", touchpoint="checkout")
    page = analyst.get("/app/surveys?lang=vi")
    assert page.status_code == 200
    assert "Bản nháp" in page.text
    assert "Đang chạy" in page.text
    assert f'action="/app/surveys/{draft.id}/status"' in page.text
    assert "Kích hoạt" in page.text  # the draft's button, in Vietnamese
    assert "Đang chạy" in analyst.get("/app/surveys?status=active").text
    assert "Bản nháp" not in analyst.get("/app/surveys?status=active").text
    assert analyst.get("/app/surveys?status=gone").status_code == 422

    moved = analyst.post(f"/app/surveys/{live.id}/status", {"status": "paused", "next": "/app/x"})
    assert moved.status_code == 303
    assert moved.headers["location"] == "/app/x"
    assert session.get(Survey, live.id).status == SurveyStatus.PAUSED  # type: ignore[union-attr]
    refused = analyst.post(f"/app/surveys/{draft.id}/status", {"status": "paused"})
    assert refused.status_code == 409
    assert "bad_status_transition" in refused.text
    unknown = analyst.post(f"/app/surveys/{draft.id}/status", {"status": "gone"})
    assert unknown.status_code == 422

    csv = analyst.get("/app/surveys?format=csv&table=surveys")
    assert csv.text.startswith("\ufeff")
    assert "Bản nháp" in csv.text


def test_forms_need_their_csrf_token_and_an_editing_role(
    client: TestClient, session: Session, workspace: Workspace
) -> None:
    survey = make_survey(session, workspace)
    viewer = signed_in(client, session, workspace, Role.VIEWER)
    forged = client.post(
        f"/app/surveys/{survey.id}/status", data={"status": "paused"}, headers=HTML
    )
    assert forged.status_code == 403
    assert viewer.post(f"/app/surveys/{survey.id}/status", {"status": "paused"}).status_code == 403
    assert viewer.get("/app/surveys/new").status_code == 403
    assert "/status" not in viewer.get("/app/surveys").text  # no buttons it may not use
    assert viewer.get(f"/app/surveys/{survey.id}").status_code == 200


def test_the_builder_saves_a_draft_with_its_skip_logic_and_texts(
    analyst: SignedIn, session: Session, workspace: Workspace
) -> None:
    assert analyst.get("/app/surveys/new").status_code == 200
    saved = analyst.post("/app/surveys/new", {**BUILDER, "op": "save"}, csrf_from="/app/surveys")
    assert saved.status_code == 303
    survey_id = uuid.UUID(saved.headers["location"].split("/")[3])
    detail = service.survey_detail(session, workspace.id, survey_id)
    assert detail["status"] == SurveyStatus.DRAFT
    assert (detail["touchpoint"], detail["stage"]) == ("delivery", "purchase")
    assert (detail["default_language"], detail["languages"]) == ("vi", ["vi", "th"])
    definition = detail["definition"]
    follow_up = definition.questions[1]
    assert follow_up.id == "text"  # made from its type
    assert follow_up.title == {"vi": "Điều gì chưa tốt?", "th": "มีอะไรที่ไม่ดี"}
    assert [c.model_dump() for c in follow_up.conditions] == [
        {"question": "nps", "op": "lte", "value": 6}
    ]
    assert definition.thank_you == {"vi": "Cảm ơn bạn!"}

    page = analyst.get(f"/app/surveys/{survey_id}/edit?saved=new&lang=th")
    assert "บันทึกฉบับร่างแล้ว" in page.text
    assert 'value="Điều gì chưa tốt?"' in page.text
    # the empty English text shows what English readers get instead
    assert (
        'placeholder="Shown instead: Điều gì chưa tốt?"'
        in analyst.get(f"/app/surveys/{survey_id}/edit?lang=en").text
    )


def test_the_builder_shows_each_problem_next_to_its_field(
    analyst: SignedIn, session: Session, workspace: Workspace
) -> None:
    form = {
        **BUILDER,
        "name": "",
        "response_limit": "many",
        "questions.1.id": "nps",  # the id of question 1 again
        "questions.1.show_if.0.value": "11",
        "questions.2.type": "single_choice",
        "questions.2.title.en": "Where?",
        "questions.2.choices.0.label.en": "Shop",
        "op": "save",
    }
    page = analyst.post("/app/surveys/new?lang=vi", form, csrf_from="/app/surveys")
    assert page.status_code == 422
    html = page.text
    assert 'id="e-name"' in html
    assert 'id="e-response_limit"' in html
    # the cross-field rules of the surveys service, translated and where they belong
    assert 'id="e-questions-1-id"' in html
    assert "&#39;nps&#39; đã là mã của câu hỏi 1." in html
    assert 'id="e-questions-2-choices"' in html
    assert "Câu hỏi lựa chọn cần ít nhất hai lựa chọn." in html
    assert 'id="error-summary"' in html
    assert "Câu hỏi 3" in html  # the summary names the question as people count
    assert session.scalar(select(Survey).where(Survey.workspace_id == workspace.id)) is None

    form = {
        **BUILDER,
        "questions.1.show_if.0.value": "11",
        "closes_at": "2001-01-01T00:00",
        "default_language": "en",
        "op": "save",
    }
    page = analyst.post("/app/surveys/new", form, csrf_from="/app/surveys")
    assert 'id="e-questions-1-show_if-0-value"' in page.text
    assert "from 0 to 10" in page.text
    assert 'id="e-closes_at"' in page.text
    assert "This date has passed." in page.text
    assert "The default language must be among the languages offered." in page.text


def test_the_builder_buttons_work_without_its_script(analyst: SignedIn) -> None:
    added = analyst.post("/app/surveys/new", {**BUILDER, "op": "add_question"})
    assert added.status_code == 200
    assert 'name="questions.1.id" value="text"' in added.text  # ids made in order
    assert 'name="questions.2.id" value="text_2"' in added.text
    moved = analyst.post("/app/surveys/new", {**BUILDER, "op": "up:1"})
    assert moved.text.index('value="Điều gì chưa tốt?"') < moved.text.index(
        'value="Bạn có sẵn lòng giới thiệu chúng tôi?"'
    )
    assert 'name="questions.0.title.vi" lang="vi"' in moved.text
    removed = analyst.post("/app/surveys/new", {**BUILDER, "op": "remove_question:1"})
    assert "Điều gì chưa tốt?" not in removed.text
    choice = analyst.post("/app/surveys/new", {**BUILDER, "op": "add_choice:1"})
    assert 'name="questions.1.choices.0.id"' in choice.text
    condition = analyst.post("/app/surveys/new", {**BUILDER, "op": "remove_condition:1:0"})
    assert 'name="questions.1.show_if.0.question"' not in condition.text


def test_the_preview_is_the_hosted_page_of_the_questions_as_they_stand(
    analyst: SignedIn,
) -> None:
    form = {**BUILDER, "preview_language": ["vi", "th"]}  # the button's value comes last
    page = analyst.post("/app/surveys/new?preview=1", form, csrf_from="/app/surveys")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == "frame-ancestors 'self'; form-action 'none'"
    assert '<html lang="th">' in page.text
    assert "คุณจะแนะนำเราไหม" in page.text
    assert 'for="a-nps-10"' in page.text  # the hosted page's own scale
    assert "data-show-if=" in page.text  # the follow-up, shown in place by the page's script
    thanks = analyst.post("/app/surveys/new?preview=1&page=done", {**BUILDER})
    assert "Cảm ơn bạn!" in thanks.text
    broken = analyst.post(
        "/app/surveys/new?preview=1",
        {**BUILDER, "questions.1.show_if.0.question": "later", "preview_language": "en"},
    )
    assert broken.status_code == 200
    assert "There is no question &#39;later&#39; in this survey." in broken.text


def test_editing_an_answered_survey_makes_a_new_version(
    analyst: SignedIn, session: Session, workspace: Workspace
) -> None:
    survey = make_survey(session, workspace, questions=nps_with_follow_ups())
    edit = analyst.get(f"/app/surveys/{survey.id}/edit")
    assert 'value="What went wrong?"' in edit.text
    respond(session, survey, {"nps": 3, "what_went_wrong": "late"})
    assert "new version" in analyst.get(f"/app/surveys/{survey.id}/edit").text
    form = {
        "name": survey.name,
        "questions.0.id": "nps",
        "questions.0.type": "nps",
        "questions.0.title.en": "Would you recommend us to a friend?",
        "op": "save",
    }
    saved = analyst.post(f"/app/surveys/{survey.id}/edit", form, csrf_from="/app/surveys")
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("?saved=v2")
    assert service.get_survey(session, workspace.id, survey.id).current_version == 2
    changed = {**form, "questions.0.type": "csat"}  # an id keeps its type
    refused = analyst.post(f"/app/surveys/{survey.id}/edit", changed)
    assert refused.status_code == 422
    assert 'id="e-questions-0-type"' in refused.text


def analyse(
    session: Session, workspace: Workspace, response: Any, field: str, **values: Any
) -> None:
    session.add(
        TextAnalysis(
            workspace_id=workspace.id,
            source_kind=TextSource.SURVEY_RESPONSE,
            source_id=str(response.response_key),
            field=field,
            model_version="test",
            aspects=[],
            score=0.9,
            **values,
        )
    )
    session.flush()


def test_the_results_list_comments_with_their_analysis_and_filters(
    analyst: SignedIn, session: Session, workspace: Workspace
) -> None:
    survey = make_survey(session, workspace, questions=nps_with_follow_ups())
    for i in range(23):
        text = f"giao hàng chậm {i}" if i % 2 else f"ส่งของช้า {i}"
        response = respond(session, survey, {"nps": 2, "what_went_wrong": text})
        analyse(
            session,
            workspace,
            response,
            "what_went_wrong",
            language="vi" if i % 2 else "th",
            sentiment="negative" if i % 3 else "neutral",
            themes=["delivery"] if i % 2 else ["delivery", "staff"],
        )
    page = analyst.get(f"/app/surveys/{survey.id}?lang=en")
    assert page.status_code == 200
    assert page.text.count('<li class="comment') == 20
    assert 'lang="th">ส่งของช้า 22</blockquote>' in page.text
    cursor = page.text.split("cursor=")[1].split("#")[0].split('"')[0]
    older = analyst.get(f"/app/surveys/{survey.id}?cursor={cursor}")
    assert older.text.count('<li class="comment') == 3
    assert "giao hàng chậm 1<" in older.text

    neutral = analyst.get(f"/app/surveys/{survey.id}?sentiment=neutral")
    assert neutral.text.count('<li class="comment') == 8  # 0, 3, 6 ... 21
    staff = analyst.get(f"/app/surveys/{survey.id}?theme=staff&language=th")
    assert staff.text.count('<li class="comment') == 12
    assert analyst.get(f"/app/surveys/{survey.id}?theme=sta_f").text.count('<li class="com') == 0
    csv = analyst.get(f"/app/surveys/{survey.id}?format=csv&table=comments")
    assert csv.status_code == 200
    assert "ส่งของช้า 22" in csv.text
    assert analyst.get(f"/app/surveys/{survey.id}?metric=xyz").status_code == 422


def test_the_responses_download_has_a_column_per_question(
    analyst: SignedIn, session: Session, workspace: Workspace
) -> None:
    survey = make_survey(session, workspace, questions=nps_with_follow_ups())
    respond(session, survey, {"nps": 2, "what_went_wrong": "=cmd|' /C calc'!A0"})
    respond(session, survey, {"nps": 10, "review": "yes"}, customer={"email": "a@shop.vn"})
    response = analyst.get(f"/app/surveys/{survey.id}/responses.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0].startswith("\ufeffresponse_id,submitted_at")
    assert lines[0].endswith(",nps,what_went_wrong,review")
    assert len(lines) == 3
    assert lines[1].endswith(",10,,yes")
    assert "a@shop.vn" in lines[1]
    assert "'=cmd" in lines[2]  # not a formula in a spreadsheet


def test_another_workspaces_survey_is_not_found(analyst: SignedIn, session: Session) -> None:
    other = make_survey(session, make_workspace(session, "other"))
    for path in ("", "/edit", "/distribution", "/responses.csv"):
        assert analyst.get(f"/app/surveys/{other.id}{path}").status_code == 404, path
    assert analyst.post(f"/app/surveys/{other.id}/status", {"status": "paused"}).status_code == 404
    moved = analyst.post(f"/app/surveys/{other.id}/edit", {**BUILDER, "op": "save"})
    assert moved.status_code == 404


def test_the_list_runs_the_same_queries_for_two_surveys_or_twelve(
    analyst: SignedIn, session: Session, workspace: Workspace, queries: QueryCounter
) -> None:
    def count() -> int:
        queries.statements.clear()
        assert analyst.get("/app/surveys").status_code == 200
        return queries.count

    for n in range(2):
        make_survey(session, workspace, name=f"s{n}")
    few = count()
    for n in range(10):
        make_survey(session, workspace, name=f"t{n}")
    assert count() == few


def test_the_distribution_forms(client: TestClient, session: Session, workspace: Workspace) -> None:
    survey = make_survey(session, workspace)
    admin = signed_in(client, session, workspace, Role.ADMIN)
    base = f"/app/surveys/{survey.id}/distribution"
    page = admin.get(base + "?lang=th")
    assert page.status_code == 200
    assert f"/s/{survey.id}" in page.text

    sent = admin.post(base + "/invite", {"emails": "a@shop.vn, b@shop.vn\nA@shop.vn"})
    assert sent.status_code == 303
    rows = session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.survey_id == survey.id)
    ).all()
    assert sorted(r.email or "" for r in rows) == ["a@shop.vn", "b@shop.vn"]
    assert {r.status for r in rows} == {InvitationStatus.QUEUED}
    assert "2</strong>" in admin.get(base).text

    assert (
        admin.post(
            base + "/reminders",
            {"reminder_after_days": "5", "max_reminders": "2", "answer_cooldown_days": ""},
        ).status_code
        == 303
    )
    assert "5 days after" in admin.get(base + "?lang=en").text
    refused = admin.post(base + "/reminders", {"reminder_after_days": "0", "max_reminders": "1"})
    assert refused.status_code == 422
    assert "Days before a reminder" in refused.text

    assert (
        admin.post(
            base + "/trigger",
            {"event": "Order Delivered", "delay_minutes": "30", "where": '{"late": true}'},
        ).status_code
        == 303
    )
    trigger = session.scalar(select(SurveyTrigger).where(SurveyTrigger.survey_id == survey.id))
    assert trigger is not None
    assert (trigger.event, trigger.where, trigger.delay_minutes) == (
        "Order Delivered",
        {"late": True},
        30,
    )
    bad = admin.post(base + "/trigger", {"event": "X", "where": "{late"})
    assert bad.status_code == 422
    assert admin.post(base + "/delete_trigger", {"trigger_id": str(trigger.id)}).status_code == 303
    assert session.scalar(select(SurveyTrigger).where(SurveyTrigger.id == trigger.id)) is None

    link = admin.post(base + "/link", {"kind": "email", "identifier": "c@shop.vn"})
    assert link.status_code == 200
    assert "/s/t/" in link.text
    assert admin.post(base + "/widget", {"enabled": "1", "sample_percent": "50"}).status_code == 303
    assert "data-key=&#34;cxw_" in admin.get(base).text
    assert admin.post(base + "/policy", {"days_between_surveys": "14"}).status_code == 303
    assert admin.post(base + "/nothing", {}).status_code == 422


def test_only_owners_and_admins_set_the_contact_policy(
    analyst: SignedIn, session: Session, workspace: Workspace
) -> None:
    survey = make_survey(session, workspace)
    base = f"/app/surveys/{survey.id}/distribution"
    assert 'action="' + base + '/policy"' not in analyst.get(base).text
    assert analyst.post(base + "/policy", {"days_between_surveys": "1"}).status_code == 403


def test_every_problem_the_surveys_service_reports_has_a_translated_message() -> None:
    """Each sentence of the surveys service that the builder translates is still the one the
    service writes (a reworded rule would otherwise be shown untranslated)."""
    nps = {"id": "nps", "type": "nps", "title": {"en": "N"}}
    text = {"id": "why", "type": "text", "title": {"en": "W"}}
    pick = {"id": "pick", "type": "single_choice", "title": {"en": "P"}}
    cases: list[tuple[list[dict[str, Any]], dict[str, Any]]] = [
        ([nps, {**text, "title": {}}], {}),
        ([nps, {**text, "id": "nps"}], {}),
        ([nps, {**pick, "choices": [{"id": "a", "label": {"en": "A"}}]}], {}),
        ([nps, {**pick, "choices": [{"id": "a", "label": {"en": "A"}}] * 2}], {}),
        ([nps, {**text, "show_if": {"question": "gone", "op": "eq", "value": 1}}], {}),
        ([{**nps, "show_if": {"question": "nps", "op": "answered"}}], {}),
        ([{**nps, "show_if": {"question": "why", "op": "answered"}}, text], {}),
        ([nps, {**text, "show_if": {"question": "nps", "op": "answered", "value": 1}}], {}),
        ([nps, {**text, "show_if": {"question": "nps", "op": "eq"}}], {}),
        ([text, {**nps, "show_if": {"question": "why", "op": "lt", "value": "x"}}], {}),
        ([nps, {**text, "show_if": {"question": "nps", "op": "in", "value": []}}], {}),
        ([nps, {**text, "show_if": {"question": "nps", "op": "eq", "value": [1]}}], {}),
        ([nps, {**text, "show_if": {"question": "nps", "op": "eq", "value": 11}}], {}),
        ([text, {**nps, "show_if": {"question": "why", "op": "eq", "value": 1}}], {}),
        ([{**nps, "scale": 5}], {}),
    ]
    for questions, extra in cases:
        definition = SurveyDefinition.model_validate({"questions": questions, **extra})
        problems = definitions.check_definition(definitions.normalise(definition))
        assert problems, questions
        for _, reason in problems:
            assert not builder.problem_key(reason).startswith(builder.OTHER), reason
    earlier = SurveyDefinition.model_validate({"questions": [{**nps, "type": "csat"}]})
    rated = SurveyDefinition.model_validate({"questions": [{**nps, "type": "rating", "scale": 10}]})
    for before, now in ((earlier, [nps]), (rated, [{**nps, "type": "rating", "scale": 5}])):
        definition = SurveyDefinition.model_validate({"questions": now})
        (problem,) = definitions.check_definition(definition, [(1, before)])
        assert not builder.problem_key(problem[1]).startswith(builder.OTHER), problem
    assert builder.message(builder.problem_key("something new"), "th") == "something new"
    key = builder.problem_key("'nps' is already the id of question 0")
    assert builder.message(key, "en") == "'nps' is already the id of question 1."


def test_the_builder_form_reads_back_what_it_shows() -> None:
    form = {k: v if isinstance(v, list) else [v] for k, v in BUILDER.items()}
    state = builder.read_form(form)
    builder.fill_ids(state)
    body, problems = builder.payload(state, "Asia/Bangkok")
    assert problems == {}
    assert body["questions"][1]["show_if"] == [{"question": "nps", "op": "lte", "value": 6}]
    again = builder.state_of_payload(body, "Asia/Bangkok")
    assert builder.payload(again, "Asia/Bangkok")[0] == body
    state.closes_at = "2030-01-02T09:30"
    assert builder.payload(state, "Asia/Bangkok")[0]["closes_at"] == "2030-01-02T09:30:00+07:00"
    state.closes_at = "soon"
    assert builder.payload(state, "UTC")[1] == {"closes_at": ["builder.problem.date"]}
    assert builder.apply(state, "up:0") is True  # the first stays first
    assert builder.apply(state, "down:9") is False
    assert builder.apply(state, "explode:1") is False
    assert builder.anchored({"questions.1.show_if.0.value.2": ["x"], "nowhere": ["y"]}) == {
        "questions.1.show_if.0.value": ["x"],
        "_form": ["y"],
    }
