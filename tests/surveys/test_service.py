"""Surveys against the database: definitions, versions, skip logic, status, limits, responses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.core.time import set_clock, utcnow
from cxloop.models import InboxBatch, SurveyResponse, SurveyStatus
from cxloop.surveys import definitions, errors, service, templates
from cxloop.surveys.schemas import SurveyDefinition, SurveyUpdate, localise
from tests.fixtures.factories import TEST_ACTOR, make_customer, make_workspace
from tests.fixtures.surveys import make_survey, nps_question, nps_with_follow_ups, respond


@pytest.fixture
def clock() -> Iterator[list[Any]]:
    """``clock[0] += timedelta(...)`` moves time."""
    now = [utcnow()]
    set_clock(lambda: now[0])
    yield now
    set_clock(None)


def locs(exc: errors.Problems) -> list[list[str | int]]:
    return [loc for loc, _ in exc.problems]


def reasons(exc: errors.Problems) -> dict[str, str]:
    return {".".join(map(str, loc)): msg for loc, msg in exc.problems}


def inbox_events(session: Session, workspace_id: uuid.UUID) -> int:
    total = session.scalar(
        select(func.sum(InboxBatch.event_count)).where(InboxBatch.workspace_id == workspace_id)
    )
    return int(total or 0)


# -- definitions ------------------------------------------------------------------------------


def test_a_survey_is_created_active_with_its_defaults_spelled_out(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    assert survey.status == SurveyStatus.ACTIVE
    assert survey.current_version == 1
    assert survey.default_language == "en"
    assert survey.languages == ["vi", "en"]  # every title is written in both
    version = service.get_version(session, workspace.id, survey.id, 1)
    assert version.definition["questions"][0]["required"] is True  # a score question
    draft = make_survey(session, workspace, status="draft")
    assert draft.status == SurveyStatus.DRAFT


def test_localise_falls_back_to_the_default_language_then_english() -> None:
    texts = {"vi": "Xin chào", "en": "Hello"}
    assert localise(texts, "vi", "en") == "Xin chào"
    assert localise(texts, "th", "vi") == "Xin chào"
    assert localise(texts, "th", "th") == "Hello"
    assert localise({"th": "สวัสดี"}, "vi", "en") == "สวัสดี"
    assert localise(None, "vi", "en") == ""


def test_definition_errors_name_the_field_and_the_reason(session: Session) -> None:
    workspace = make_workspace(session)
    questions = [
        {"id": "nps", "type": "nps", "title": {"en": "Score?"}},
        {"id": "nps", "type": "text", "title": {"en": "Again?"}},
        {
            "id": "why",
            "type": "text",
            "title": {"en": "  "},
            "show_if": {"question": "later", "op": "answered"},
        },
        {"id": "later", "type": "text", "title": {"en": "Later"}, "scale": 3},
        {
            "id": "pick",
            "type": "single_choice",
            "title": {"vi": "Chọn"},
            "choices": [{"id": "a", "label": {"en": "A"}}, {"id": "a", "label": {"en": ""}}],
            "show_if": [
                {"question": "nps", "op": "lte", "value": 11},
                {"question": "later", "op": "gt", "value": 3},
                {"question": "ghost", "op": "eq", "value": 1},
            ],
        },
        {
            "id": "again",
            "type": "text",
            "title": {"en": "And?"},
            "show_if": {"question": "pick", "op": "in", "value": ["a", "zzz"]},
        },
    ]
    with pytest.raises(errors.InvalidDefinition) as caught:
        make_survey(session, workspace, questions=questions)
    found = reasons(caught.value)
    assert found == {
        "questions.1.id": "'nps' is already the id of question 0",
        "questions.2.title": "needs a text in at least one of vi, th and en",
        "questions.2.show_if.question": "'later' comes later (question 3); a condition may "
        "only look at earlier answers",
        "questions.3.scale": "only rating questions have a scale, not text",
        "questions.4.choices.1.id": "'a' is listed twice",
        "questions.4.choices.1.label": "needs a text in at least one of vi, th and en",
        "questions.4.show_if.0.value": "'nps' is answered with a whole number from 0 to 10",
        "questions.4.show_if.1.op": "'gt' compares scores; 'later' is a text question",
        "questions.4.show_if.2.question": "no question 'ghost' in this survey",
        "questions.5.show_if.value.1": "'zzz' is not a choice of 'pick' (a, a)",
    }
    assert caught.value.status_code == 422
    assert caught.value.code == "validation_error"


def test_settings_are_checked_too(session: Session) -> None:
    workspace = make_workspace(session)
    with pytest.raises(errors.InvalidDefinition) as caught:
        make_survey(
            session,
            workspace,
            default_language="th",
            languages=["vi", "en"],
            closes_at=utcnow() - timedelta(days=1),
        )
    assert locs(caught.value) == [["default_language"], ["closes_at"]]


def test_the_nps_template_is_valid_and_speaks_three_languages(session: Session) -> None:
    template = templates.nps_template()
    definition = definitions.normalise(SurveyDefinition(questions=template.questions))
    assert definitions.check_definition(definition) == []
    for question in template.questions:
        assert set(question.title) == {"vi", "th", "en"}
    nps = template.questions[0]
    assert "giới thiệu" in nps.title["vi"]
    assert "แนะนำ" in nps.title["th"]
    survey = service.create_survey(session, make_workspace(session).id, template, TEST_ACTOR)
    assert survey.languages == ["vi", "th", "en"]
    assert survey.status == SurveyStatus.DRAFT


# -- skip logic and answers -------------------------------------------------------------------


def test_a_detractor_is_asked_what_went_wrong_and_a_promoter_for_a_review(
    session: Session,
) -> None:
    survey = make_survey(session, make_workspace(session), questions=nps_with_follow_ups())
    with pytest.raises(errors.InvalidResponse) as caught:
        respond(session, survey, {"nps": 3, "review": "yes"})
    assert reasons(caught.value) == {
        "answers.what_went_wrong": "required",
        "answers.review": "not asked: shown only when 'nps' gte 9; leave it out",
    }
    detractor = respond(session, survey, {"nps": 3, "what_went_wrong": " Late delivery "})
    assert detractor.answers == {"nps": 3, "what_went_wrong": "Late delivery"}
    # the follow-up of detractors is required only when it is asked
    promoter = respond(session, survey, {"nps": 10, "review": "yes"})
    assert promoter.answers == {"nps": 10, "review": "yes"}
    passive = respond(session, survey, {"nps": 7})
    assert passive.is_complete


def test_every_bad_answer_is_reported_with_its_question(session: Session) -> None:
    questions = [
        nps_question(),
        {"id": "csat", "type": "csat", "title": {"en": "Happy?"}},
        {"id": "stars", "type": "rating", "scale": 10, "title": {"en": "Stars"}},
        {
            "id": "topics",
            "type": "multiple_choice",
            "title": {"en": "Topics"},
            "choices": [{"id": "price", "label": {"en": "Price"}}, {"id": "speed", "label": {}}],
        },
        {"id": "note", "type": "text", "max_length": 5, "title": {"en": "Note"}},
    ]
    # a choice label may not be empty: fix the definition first
    questions[3]["choices"][1]["label"] = {"en": "Speed"}
    survey = make_survey(session, make_workspace(session), questions=questions)
    with pytest.raises(errors.InvalidResponse) as caught:
        respond(
            session,
            survey,
            {
                "nps": 11,
                "csat": True,
                "stars": 10,
                "topics": ["price", "colour"],
                "note": "too long",
            },
            customer={"email": "not-an-email", "line id": "x"},
        )
    assert reasons(caught.value) == {
        "answers.nps": "must be a whole number from 0 to 10",
        "answers.csat": "must be a whole number from 1 to 5",
        "answers.topics": "'colour' is not one of the choices (price, speed)",
        "answers.note": "is 8 characters long; the limit is 5",
        "customer.email": "not a usable email",
        "customer.line id": "not an identifier kind (a-z, 0-9 and _, e.g. line_id)",
    }
    with pytest.raises(errors.InvalidResponse) as caught:
        respond(session, survey, {"nps": 5, "stars": 3, "extra": 1})
    assert reasons(caught.value) == {
        "answers.extra": "no question 'extra' in version 1",
        "answers.csat": "required",
    }
    assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


# -- versions ---------------------------------------------------------------------------------


def test_a_survey_without_responses_is_edited_in_place(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, status="draft")
    update = SurveyUpdate.model_validate({"questions": nps_with_follow_ups(), "name": "NPS 2"})
    service.update_survey(session, workspace.id, survey.id, update, TEST_ACTOR)
    assert survey.current_version == 1
    assert survey.name == "NPS 2"
    detail = service.survey_detail(session, workspace.id, survey.id)
    assert [v["version"] for v in detail["versions"]] == [1]
    assert [q.id for q in detail["definition"].questions] == ["nps", "what_went_wrong", "review"]


def test_editing_an_answered_survey_makes_a_version_and_old_answers_keep_theirs(
    session: Session,
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, questions=nps_with_follow_ups())
    old = respond(session, survey, {"nps": 2, "what_went_wrong": "Broken box"})
    changed = [
        nps_question(),
        {"id": "csat", "type": "csat", "title": {"en": "How satisfied are you?"}},
    ]
    service.update_survey(
        session, workspace.id, survey.id, SurveyUpdate(questions=changed), TEST_ACTOR
    )
    assert survey.current_version == 2
    new = respond(session, survey, {"nps": 9, "csat": 5})
    assert (old.version, new.version) == (1, 2)
    first = service.definition_of(service.get_version(session, workspace.id, survey.id, 1))
    assert first.question("what_went_wrong") is not None  # the old response stays readable
    detail = service.survey_detail(session, workspace.id, survey.id)
    assert [(v["version"], v["response_count"]) for v in detail["versions"]] == [(1, 1), (2, 1)]
    # an id that had answers keeps its meaning in every later version
    retyped = [nps_question(), {"id": "what_went_wrong", "type": "csat", "title": {"en": "x"}}]
    with pytest.raises(errors.InvalidDefinition) as caught:
        service.update_survey(
            session, workspace.id, survey.id, SurveyUpdate(questions=retyped), TEST_ACTOR
        )
    assert locs(caught.value) == [["questions", 1, "type"]]
    assert "was a text question in version 1" in caught.value.detail
    # a response may still name the version it answered
    late = respond(session, survey, {"nps": 1, "what_went_wrong": "Late"}, version=1)
    assert late.version == 1


# -- status, dates and limits -----------------------------------------------------------------


def test_status_moves_along_and_closed_is_final(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, status="draft")

    def move(status: str) -> None:
        service.change_status(session, workspace.id, survey.id, SurveyStatus(status), TEST_ACTOR)

    with pytest.raises(errors.BadTransition) as caught:
        move("paused")
    assert "a draft survey cannot become paused; it can become active" in caught.value.detail
    with pytest.raises(errors.SurveyNotOpen, match="draft"):
        respond(session, survey)
    for status in ("active", "paused", "active", "active", "closed"):
        move(status)
        assert survey.status == status
    assert survey.closed_at is not None
    with pytest.raises(errors.BadTransition, match="a closed survey cannot become active"):
        move("active")
    with pytest.raises(errors.SurveyNotOpen, match="closed"):
        respond(session, survey)


def test_a_paused_survey_refuses_responses(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    service.change_status(session, workspace.id, survey.id, SurveyStatus.PAUSED, TEST_ACTOR)
    with pytest.raises(errors.SurveyNotOpen) as caught:
        respond(session, survey)
    assert caught.value.status_code == 409
    assert caught.value.detail == "this survey is paused; it takes responses only while active"


def test_the_close_date_ends_responses(session: Session, clock: list[Any]) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, closes_at=clock[0] + timedelta(days=1))
    respond(session, survey)
    clock[0] += timedelta(days=2)
    with pytest.raises(errors.SurveyNotOpen, match="closed on"):
        respond(session, survey)
    service.change_status(session, workspace.id, survey.id, SurveyStatus.PAUSED, TEST_ACTOR)
    with pytest.raises(errors.BadTransition, match="close date"):
        service.change_status(session, workspace.id, survey.id, SurveyStatus.ACTIVE, TEST_ACTOR)
    assert service.close_expired(session) == 1
    session.refresh(survey)
    assert survey.status == SurveyStatus.CLOSED


def test_a_full_survey_closes_and_refuses_more(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, response_limit=2)
    respond(session, survey)
    # a partial response does not take a place, and completing it does
    partial = respond(session, survey, {"nps": 4}, is_complete=False)
    assert survey.response_count == 1
    respond(session, survey, {"nps": 5}, response_id=str(partial.response_key))
    assert survey.response_count == 2
    assert survey.status == SurveyStatus.CLOSED
    with pytest.raises(errors.SurveyNotOpen, match="closed"):
        respond(session, survey)
    with pytest.raises(errors.InvalidDefinition, match="a limit must be above that"):
        service.update_survey(
            session, workspace.id, survey.id, SurveyUpdate(response_limit=1), TEST_ACTOR
        )


def test_only_a_draft_is_deleted(session: Session) -> None:
    workspace = make_workspace(session)
    draft = make_survey(session, workspace, status="draft")
    service.delete_survey(session, workspace.id, draft.id, TEST_ACTOR)
    with pytest.raises(errors.SurveyNotFound):
        service.get_survey(session, workspace.id, draft.id)
    active = make_survey(session, workspace)
    with pytest.raises(errors.NotDeletable, match="close it instead"):
        service.delete_survey(session, workspace.id, active.id, TEST_ACTOR)


# -- responses --------------------------------------------------------------------------------


def test_a_partial_response_is_completed_and_a_resend_changes_nothing(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, questions=nps_with_follow_ups())
    key = str(uuid.uuid4())
    partial = respond(session, survey, {"nps": 2}, response_id=key, is_complete=False)
    assert (partial.is_complete, partial.submitted_at) == (False, None)
    done = respond(session, survey, {"nps": 2, "what_went_wrong": "Rude"}, response_id=key)
    assert done.id == partial.id
    assert done.is_complete
    assert done.submitted_at is not None
    assert inbox_events(session, workspace.id) == 2  # one event per saved state
    again = respond(session, survey, {"nps": 2, "what_went_wrong": "Rude"}, response_id=key)
    assert again.id == done.id
    assert inbox_events(session, workspace.id) == 2
    assert survey.response_count == 1
    with pytest.raises(errors.InvalidResponse, match="already submitted complete"):
        respond(session, survey, {"nps": 2}, response_id=key, is_complete=False)
    other = make_survey(session, workspace)
    with pytest.raises(errors.ResponseConflict):
        respond(session, other, {"nps": 2}, response_id=key)


def test_a_known_customer_is_linked_at_once(session: Session) -> None:
    workspace = make_workspace(session)
    customer = make_customer(session, workspace, email="lan@shop.vn")
    survey = make_survey(session, workspace)
    response = respond(session, survey, customer={"email": " Lan@Shop.VN "}, channel="Website")
    assert response.customer == {"email": "lan@shop.vn"}
    assert response.profile_id == customer
    assert response.channel == "web"
    assert response.user_id is None
    assert response.anonymous_id is not None
    assert response.anonymous_id.startswith("cxl-")
    # the same customer answering again carries the same anonymous id
    again = respond(session, survey, customer={"email": "lan@shop.vn"})
    assert again.anonymous_id == response.anonymous_id
    unknown = respond(session, survey)
    assert unknown.profile_id is None
    assert unknown.anonymous_id == f"cxl-{unknown.response_key}"
    segment_spelling = respond(session, survey, customer={"userId": "u-9", "lineId": "Ux"})
    assert segment_spelling.customer == {"user_id": "u-9", "line_id": "Ux"}
    assert (segment_spelling.user_id, segment_spelling.anonymous_id) == ("u-9", None)


def test_responses_are_listed_newest_first_and_by_time(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    made = [
        respond(session, survey, {"nps": n}, submitted_at=f"2026-11-0{n + 1}T10:00:00+07:00")
        for n in range(4)
    ]
    page = service.list_responses(session, workspace.id, survey.id, limit=3)
    assert [r.id for r in page] == [r.id for r in reversed(made)][:3]
    rest = service.list_responses(session, workspace.id, survey.id, limit=3, before=page[-1].id)
    assert [r.id for r in rest] == [made[0].id]
    window = service.list_responses(
        session,
        workspace.id,
        survey.id,
        since=made[1].submitted_at,
        until=made[3].submitted_at,
    )
    assert [r.answers["nps"] for r in window] == [2, 1]
