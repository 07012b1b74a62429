"""JSON API of surveys: definitions, versions, status and responses.

Reading needs a read (or admin) key. Creating and changing surveys and posting responses
needs a write (or admin) key: what a business's back end holds to send events.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Query, Response
from fastapi import status as http

from cxloop.accounts.deps import ReadPrincipal, WritePrincipal
from cxloop.core.deps import SessionDep
from cxloop.models import ResponseSource, SurveyStatus
from cxloop.surveys import schemas, service, templates

router = APIRouter(prefix="/api/v1", tags=["surveys"])


@router.get("/surveys/templates", response_model=schemas.TemplateList)
def list_templates(principal: ReadPrincipal) -> object:
    """Ready-made surveys in vi, th and en: post one's `survey` to create it."""
    return {"items": templates.templates()}


@router.get("/surveys", response_model=schemas.SurveyList)
def list_surveys(
    session: SessionDep,
    principal: ReadPrincipal,
    status: SurveyStatus | None = None,
    limit: int = Query(50, ge=1, le=200),
    before: uuid.UUID | None = Query(None, description="`next_cursor` of the previous page"),
) -> object:
    items = service.list_surveys(
        session, principal.workspace_id, limit=limit, before=before, status=status
    )
    return {"items": items, "next_cursor": str(items[-1].id) if len(items) == limit else None}


@router.post("/surveys", response_model=schemas.SurveyRead, status_code=http.HTTP_201_CREATED)
def create_survey(
    body: schemas.SurveyCreate, session: SessionDep, principal: WritePrincipal
) -> object:
    """Create a survey. It takes responses at once unless `"status": "draft"` is given."""
    return service.create_survey(session, principal.workspace_id, body, principal.actor)


@router.get("/surveys/{survey_id}", response_model=schemas.SurveyDetail)
def read_survey(survey_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal) -> object:
    """A survey, its current questions and the number of responses to each version."""
    return service.survey_detail(session, principal.workspace_id, survey_id)


@router.patch("/surveys/{survey_id}", response_model=schemas.SurveyRead)
def update_survey(
    survey_id: uuid.UUID,
    body: schemas.SurveyUpdate,
    session: SessionDep,
    principal: WritePrincipal,
) -> object:
    """Change a survey; changed questions become a new version once it has responses."""
    return service.update_survey(session, principal.workspace_id, survey_id, body, principal.actor)


@router.delete("/surveys/{survey_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_survey(survey_id: uuid.UUID, session: SessionDep, principal: WritePrincipal) -> Response:
    """Delete a draft without responses; close any other survey instead."""
    service.delete_survey(session, principal.workspace_id, survey_id, principal.actor)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.post("/surveys/{survey_id}/status", response_model=schemas.SurveyRead)
def change_status(
    survey_id: uuid.UUID,
    body: schemas.StatusChange,
    session: SessionDep,
    principal: WritePrincipal,
) -> object:
    """Activate, pause or close a survey (draft -> active <-> paused -> closed)."""
    return service.change_status(
        session, principal.workspace_id, survey_id, body.status, principal.actor
    )


@router.get("/surveys/{survey_id}/versions/{version}", response_model=schemas.VersionRead)
def read_version(
    survey_id: uuid.UUID, version: int, session: SessionDep, principal: ReadPrincipal
) -> object:
    """The questions as version `version` asked them: what its responses answered."""
    row = service.get_version(session, principal.workspace_id, survey_id, version)
    return schemas.VersionRead(
        survey_id=row.survey_id,
        version=row.version,
        created_at=row.created_at,
        definition=service.definition_of(row),
    )


@router.post(
    "/surveys/{survey_id}/responses",
    response_model=schemas.ResponseRead,
    status_code=http.HTTP_201_CREATED,
)
def submit_response(
    survey_id: uuid.UUID,
    body: schemas.ResponseCreate,
    session: SessionDep,
    principal: WritePrincipal,
) -> object:
    """Record a customer's answers; they reach the customer's timeline as a
    `Survey Responded` event."""
    return service.submit_response(
        session, principal.workspace_id, survey_id, body, source=ResponseSource.API
    )


@router.get("/surveys/{survey_id}/responses", response_model=schemas.ResponseList)
def list_responses(
    survey_id: uuid.UUID,
    session: SessionDep,
    principal: ReadPrincipal,
    since: datetime | None = Query(None, alias="from", description="Submitted from (inclusive)"),
    until: datetime | None = Query(None, alias="to", description="Submitted before (exclusive)"),
    limit: int = Query(50, ge=1, le=500),
    before: uuid.UUID | None = Query(None, description="`next_cursor` of the previous page"),
) -> object:
    items = service.list_responses(
        session,
        principal.workspace_id,
        survey_id,
        limit=limit,
        before=before,
        since=since,
        until=until,
    )
    return {"items": items, "next_cursor": str(items[-1].id) if len(items) == limit else None}
