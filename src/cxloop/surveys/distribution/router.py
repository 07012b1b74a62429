"""JSON API of survey distribution: invitations, reminders settings, triggers, the
suppression list and the workspace's contact policy.

Sending and configuring take a write (or admin) key, as creating surveys does; taking an
address off the suppression list and changing the contact policy take an admin key.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response
from fastapi import status as http

from cxloop.accounts.deps import AdminPrincipal, ReadPrincipal, WritePrincipal
from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.models import InvitationStatus
from cxloop.surveys import fatigue, triggers
from cxloop.surveys.distribution import invitations, schemas, suppressions

router = APIRouter(prefix="/api/v1", tags=["survey distribution"])


@router.post(
    "/surveys/{survey_id}/invitations",
    response_model=schemas.InvitationBatch,
    status_code=http.HTTP_201_CREATED,
)
def create_invitations(
    survey_id: uuid.UUID,
    body: schemas.InvitationCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: WritePrincipal,
) -> object:
    """Invite customers by email, each with a personal link; sent in the background."""
    batch = invitations.create_invitations(
        session, principal.workspace_id, survey_id, body, settings
    )
    return {"queued": batch.queued, "skipped": batch.skipped, "items": batch.items}


@router.get("/surveys/{survey_id}/invitations", response_model=schemas.InvitationList)
def list_invitations(
    survey_id: uuid.UUID,
    session: SessionDep,
    principal: ReadPrincipal,
    status: InvitationStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
    before: uuid.UUID | None = Query(None, description="`next_cursor` of the previous page"),
) -> object:
    items = invitations.list_invitations(
        session, principal.workspace_id, survey_id, status=status, limit=limit, before=before
    )
    return {"items": items, "next_cursor": str(items[-1].id) if len(items) == limit else None}


@router.get("/surveys/{survey_id}/distribution", response_model=schemas.DistributionRead)
def read_distribution(
    survey_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal
) -> object:
    """Reminders and answer cooldown of a survey."""
    return invitations.distribution(session, principal.workspace_id, survey_id)


@router.put("/surveys/{survey_id}/distribution", response_model=schemas.DistributionRead)
def update_distribution(
    survey_id: uuid.UUID,
    body: schemas.DistributionUpdate,
    session: SessionDep,
    principal: WritePrincipal,
) -> object:
    return invitations.update_distribution(session, principal.workspace_id, survey_id, body)


@router.post(
    "/surveys/{survey_id}/triggers",
    response_model=schemas.TriggerRead,
    status_code=http.HTTP_201_CREATED,
)
def create_trigger(
    survey_id: uuid.UUID,
    body: schemas.TriggerCreate,
    session: SessionDep,
    principal: WritePrincipal,
) -> object:
    """Invite each customer an event happens to, after a delay."""
    return triggers.create_trigger(session, principal.workspace_id, survey_id, body)


@router.get("/surveys/{survey_id}/triggers", response_model=schemas.TriggerList)
def list_triggers(survey_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal) -> object:
    return {"items": triggers.list_triggers(session, principal.workspace_id, survey_id)}


@router.delete("/surveys/{survey_id}/triggers/{trigger_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_trigger(
    survey_id: uuid.UUID, trigger_id: uuid.UUID, session: SessionDep, principal: WritePrincipal
) -> Response:
    triggers.delete_trigger(session, principal.workspace_id, survey_id, trigger_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/suppressions", response_model=schemas.SuppressionList)
def list_suppressions(
    session: SessionDep,
    principal: ReadPrincipal,
    address: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    before: uuid.UUID | None = Query(None, description="`next_cursor` of the previous page"),
) -> object:
    """Addresses that are sent no surveys, newest first."""
    items = suppressions.list_suppressions(
        session, principal.workspace_id, limit=limit, before=before, address=address
    )
    return {"items": items, "next_cursor": str(items[-1].id) if len(items) == limit else None}


@router.post(
    "/suppressions", response_model=schemas.SuppressionRead, status_code=http.HTTP_201_CREATED
)
def add_suppression(
    body: schemas.SuppressionCreate, session: SessionDep, principal: WritePrincipal
) -> object:
    return suppressions.add(
        session, principal.workspace_id, body.channel, body.address, body.reason
    )


@router.delete("/suppressions/{suppression_id}", status_code=http.HTTP_204_NO_CONTENT)
def remove_suppression(
    suppression_id: uuid.UUID, session: SessionDep, principal: AdminPrincipal
) -> Response:
    """Let an address receive surveys again."""
    suppressions.remove(session, principal.workspace_id, suppression_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/contact-policy", response_model=schemas.ContactPolicyRead)
def read_contact_policy(session: SessionDep, principal: ReadPrincipal) -> object:
    """How often one customer may be sent or shown a survey, across all surveys."""
    return fatigue.policy(session, principal.workspace_id)


@router.put("/contact-policy", response_model=schemas.ContactPolicyRead)
def update_contact_policy(
    body: schemas.ContactPolicyUpdate, session: SessionDep, principal: AdminPrincipal
) -> object:
    return fatigue.set_policy(session, principal.workspace_id, body.days_between_surveys)
