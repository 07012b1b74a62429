"""Stored analyses: survey answers analysed by the background job, shown in the 360."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.models import Scope, TextAnalysis, TextSource
from cxloop.surveys import service as surveys
from cxloop.text import service
from tests.conftest import QueryCounter
from tests.fixtures.factories import auth, make_customer, make_key, make_workspace
from tests.fixtures.mail import run_due
from tests.fixtures.surveys import make_survey, nps_question, respond

ANGRY = "giao hàng chậm quá, rất thất vọng"
QUESTIONS = [
    nps_question(),
    {"id": "why", "type": "text", "title": {"en": "Why?", "vi": "Vì sao?"}},
]


def run_text_jobs(session: Session, settings: Settings) -> int:
    """Run the queued text analysis jobs as the worker would; returns how many ran."""
    return run_due(session, settings, names=(service.ANALYZE_JOB,))


def stored(session: Session, **where: Any) -> list[TextAnalysis]:
    return list(session.scalars(select(TextAnalysis).filter_by(**where)))


def test_a_free_text_answer_is_analysed_once_and_shown_in_the_360(
    session: Session, client: TestClient, settings: Settings, queries: QueryCounter
) -> None:
    workspace = make_workspace(session)
    customer = make_customer(session, workspace, email="lan@example.vn")
    survey = make_survey(session, workspace, questions=QUESTIONS, status="active")
    answers = {"nps": 2, "why": ANGRY}
    response = respond(
        session, survey, answers, response_id=str(survey.id), customer={"email": "lan@example.vn"}
    )
    assert run_text_jobs(session, settings) == 1
    (analysis,) = stored(session, workspace_id=workspace.id)
    assert analysis.source_kind is TextSource.SURVEY_RESPONSE
    assert (analysis.source_id, analysis.field) == (str(response.response_key), "why")
    assert (analysis.language, analysis.sentiment) == ("vi", "negative")
    assert "delivery" in analysis.themes
    assert analysis.profile_id == customer
    assert analysis.model_version.startswith("default-")

    # sent again unchanged, or with only its score changed: nothing new to analyse
    respond(session, survey, answers, response_id=str(survey.id))
    respond(session, survey, {"nps": 3, "why": ANGRY}, response_id=str(survey.id))
    assert run_text_jobs(session, settings) == 0

    _, token = make_key(session, workspace, Scope.READ)
    path = f"/api/v1/customers/{customer}"
    client.get(path, headers=auth(token))  # warm: the key's first use writes its time
    queries.statements.clear()
    body = client.get(path, headers=auth(token)).json()
    shown = body["text_analyses"]
    assert [(a["field"], a["language"], a["sentiment"]) for a in shown] == [
        ("why", "vi", "negative")
    ]
    assert "delivery" in shown[0]["themes"]
    before = queries.count
    respond(session, survey, {"nps": 9, "why": "giao hàng nhanh, rất hài lòng"}, response_id=None)
    run_text_jobs(session, settings)
    queries.statements.clear()
    assert len(client.get(path, headers=auth(token)).json()["text_analyses"]) == 1
    assert queries.count == before  # does not grow with the analyses


def test_rerunning_replaces_and_a_removed_answer_is_forgotten(
    session: Session, settings: Settings
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, questions=QUESTIONS, status="active")
    response = respond(session, survey, {"nps": 2, "why": ANGRY}, is_complete=False)
    key = str(response.response_key)
    run_text_jobs(session, settings)
    for _ in range(2):
        service.store_analyses(
            session, settings, workspace.id, TextSource.SURVEY_RESPONSE, key, {"why": ANGRY}
        )
    assert len(stored(session, source_id=key)) == 1
    respond(session, survey, {"nps": 2}, response_id=key)
    assert run_text_jobs(session, settings) == 1
    assert stored(session, source_id=key) == []


def test_reviews_are_enqueued_through_the_service(session: Session, settings: Settings) -> None:
    workspace = make_workspace(session)
    service.enqueue_analysis(
        session, workspace.id, TextSource.REVIEW, "gmaps:42", {"body": "Nhân viên rất thân thiện"}
    )
    assert run_text_jobs(session, settings) == 1
    (review,) = stored(session, workspace_id=workspace.id)
    assert (review.source_kind, review.field, review.language) == (TextSource.REVIEW, "body", "vi")


def test_linking_the_profile_later_links_the_analyses(session: Session, settings: Settings) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, questions=QUESTIONS, status="active")
    response = respond(session, survey, {"nps": 2, "why": ANGRY}, customer={"email": "new@x.vn"})
    run_text_jobs(session, settings)
    assert stored(session, workspace_id=workspace.id)[0].profile_id is None
    customer = make_customer(session, workspace, email="new@x.vn")
    surveys.link_profiles(session)
    assert response.profile_id == customer
    assert stored(session, workspace_id=workspace.id)[0].profile_id == customer
