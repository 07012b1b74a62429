"""Many responses written at once (the hosted pages' path through the group committer): the
same outcome, item by item, as one at a time."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.models import InboxBatch, ResponseSource, SurveyResponse, SurveyStatus
from cxloop.surveys import errors, service
from cxloop.surveys.schemas import ResponseCreate
from tests.fixtures.factories import make_workspace
from tests.fixtures.surveys import make_survey, nps_with_follow_ups, respond


def item(survey: Any, answers: dict[str, Any], **extra: Any) -> service.Submission:
    payload = ResponseCreate.model_validate({"answers": answers, **extra})
    return service.Submission(survey.workspace_id, survey.id, payload, ResponseSource.PAGE)


def stored(session: Session, survey: Any) -> list[SurveyResponse]:
    query = select(SurveyResponse).where(SurveyResponse.survey_id == survey.id)
    return list(session.scalars(query.order_by(SurveyResponse.id)))


def test_a_batch_stores_every_response_counts_once_and_records_one_inbox_batch(
    session: Session,
) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    items = [item(survey, {"nps": n}, response_id=str(uuid.uuid4())) for n in range(11)]
    outcomes = service.submit_many(session, items)
    assert all(isinstance(o, SurveyResponse) for o in outcomes)
    assert [r.answers["nps"] for r in stored(session, survey)] == list(range(11))
    session.refresh(survey)
    assert survey.response_count == 11
    batches = session.scalars(
        select(InboxBatch.event_count).where(InboxBatch.workspace_id == workspace.id)
    ).all()
    assert batches == [11]  # every Survey Responded event, in one batch


def test_a_refused_item_leaves_nothing_and_the_others_are_stored(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace, questions=nps_with_follow_ups())
    key = uuid.uuid4()
    partial = respond(session, survey, {"nps": 2}, response_id=str(key), is_complete=False)
    closed = make_survey(session, workspace, status="draft")
    items = [
        item(survey, {"nps": 9}),
        item(survey, {"nps": 11}),  # out of range
        # completing a stored partial response with a bad answer: the partial stays as it was
        item(survey, {"nps": 2, "what_went_wrong": 5}, response_id=str(key)),
        item(closed, {"nps": 3}),  # a draft takes no responses
        service.Submission(workspace.id, uuid.uuid4(), ResponseCreate(answers={"nps": 1})),
        item(survey, {"nps": 10}),
    ]
    outcomes = service.submit_many(session, items)
    assert isinstance(outcomes[1], errors.InvalidResponse)
    assert ["answers", "nps"] in [loc for loc, _ in outcomes[1].problems]
    assert isinstance(outcomes[2], errors.InvalidResponse)
    assert isinstance(outcomes[3], errors.SurveyNotOpen)
    assert isinstance(outcomes[4], errors.SurveyNotFound)
    assert [type(outcomes[i]) for i in (0, 5)] == [SurveyResponse, SurveyResponse]
    session.expire_all()
    assert partial.answers == {"nps": 2}
    assert partial.is_complete is False
    scores = sorted(r.answers["nps"] for r in stored(session, survey))
    assert scores == [2, 9, 10]
    assert survey.response_count == 2


def test_a_limited_survey_and_a_key_sent_twice_keep_their_exact_rules(session: Session) -> None:
    workspace = make_workspace(session)
    limited = make_survey(session, workspace, response_limit=2)
    open_survey = make_survey(session, workspace, questions=nps_with_follow_ups())
    key = str(uuid.uuid4())
    items = [
        item(limited, {"nps": 1}),
        item(limited, {"nps": 2}),
        item(limited, {"nps": 3}),  # one too many
        item(open_survey, {"nps": 4}, response_id=key, is_complete=False),
        item(open_survey, {"nps": 4, "what_went_wrong": "Late"}, response_id=key),
    ]
    outcomes = service.submit_many(session, items)
    assert [type(o).__name__ for o in outcomes] == [
        "SurveyResponse",
        "SurveyResponse",
        "SurveyNotOpen",
        "SurveyResponse",
        "SurveyResponse",
    ]
    session.refresh(limited)
    assert (limited.response_count, limited.status) == (2, SurveyStatus.CLOSED)
    [answered] = stored(session, open_survey)
    assert answered.is_complete
    assert answered.answers["what_went_wrong"] == "Late"
    assert open_survey.response_count == 1
    total = session.scalar(
        select(func.sum(InboxBatch.event_count)).where(InboxBatch.workspace_id == workspace.id)
    )
    assert total == 4  # two limited, the partial and its completion


def test_a_resend_in_a_batch_changes_nothing(session: Session) -> None:
    workspace = make_workspace(session)
    survey = make_survey(session, workspace)
    key = str(uuid.uuid4())
    first = respond(session, survey, {"nps": 7}, response_id=key)
    [again] = service.submit_many(session, [item(survey, {"nps": 7}, response_id=key)])
    assert isinstance(again, SurveyResponse)
    assert again.id == first.id
    session.refresh(survey)
    assert survey.response_count == 1
