"""Journey maps API: the maps themselves, customers per stage, milestones, one customer's
journey.

Reading needs a read (or admin) key; creating, replacing and deleting a map needs a write
(or admin) key. Figures settle the caller's inbox first, so events just sent count.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi import status as http

from cxloop.accounts.deps import ReadPrincipal, WritePrincipal
from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.eventstore.service import events_root
from cxloop.ingest.deps import Settled
from cxloop.journeys import map_schemas as schemas
from cxloop.journeys import maps, templates
from cxloop.journeys.documents import JourneyDoc
from cxloop.journeys.service import Reader

router = APIRouter(prefix="/api/v1", tags=["journeys"])


def get_reader(
    _: Settled, session: SessionDep, settings: SettingsDep, principal: ReadPrincipal
) -> Reader:
    return Reader(session, events_root(settings), principal.workspace_id)


ReaderDep = Annotated[Reader, Depends(get_reader)]
From = Annotated[date | None, Query(alias="from", description="first day (UTC)")]
To = Annotated[date | None, Query(description="last day, inclusive (default: today, UTC)")]


@router.get("/journeys/templates", response_model=schemas.TemplateList)
def list_templates(principal: ReadPrincipal) -> object:
    """Ready-made journey maps: post `{"template": KEY, "name": ...}` to create one."""
    return {
        "items": [
            {"key": key, "name": name, "description": description, "journey": doc}
            for key, name, description, doc in templates.templates()
        ]
    }


@router.get("/journeys", response_model=schemas.JourneyList)
def list_journeys(
    session: SessionDep,
    principal: ReadPrincipal,
    limit: int = Query(50, ge=1, le=200),
    after: uuid.UUID | None = Query(None, description="`next_cursor` of the previous page"),
) -> object:
    """The workspace's journey maps, oldest first: the first is the default one."""
    items = maps.list_journeys(session, principal.workspace_id, limit=limit, after=after)
    return {
        "items": [maps.read_journey(j) for j in items],
        "next_cursor": str(items[-1].id) if len(items) == limit else None,
    }


@router.post("/journeys", response_model=schemas.JourneyRead, status_code=http.HTTP_201_CREATED)
def create_journey(
    body: schemas.JourneyCreate, session: SessionDep, principal: WritePrincipal
) -> object:
    """Create a journey map from its stages and milestones, or from a template."""
    journey = maps.create_journey(session, principal.workspace_id, body, principal.actor)
    return maps.read_journey(journey)


@router.get("/journeys/{journey_id}", response_model=schemas.JourneyRead)
def read_journey(journey_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal) -> object:
    return maps.read_journey(maps.get_journey(session, principal.workspace_id, journey_id))


@router.put("/journeys/{journey_id}", response_model=schemas.JourneyRead)
def replace_journey(
    journey_id: uuid.UUID, body: JourneyDoc, session: SessionDep, principal: WritePrincipal
) -> object:
    """Replace a journey map whole: name, description, stages and milestones."""
    journey = maps.update_journey(
        session, principal.workspace_id, journey_id, body, principal.actor
    )
    return maps.read_journey(journey)


@router.delete("/journeys/{journey_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_journey(
    journey_id: uuid.UUID, session: SessionDep, principal: WritePrincipal
) -> Response:
    maps.delete_journey(session, principal.workspace_id, journey_id, principal.actor)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/journeys/{journey_id}/stages", response_model=schemas.StageDistributionRead)
def stage_distribution(
    journey_id: uuid.UUID,
    reader: ReaderDep,
    from_: From = None,
    to: To = None,
    interval: schemas.Interval = "week",
) -> object:
    """Customers per current stage now and at the end of each day, week or month, with the
    customers who entered each stage in each period."""
    journey = maps.get_journey(reader.session, reader.workspace_id, journey_id)
    return maps.stage_distribution(reader, journey, from_, to, interval)


@router.get("/journeys/{journey_id}/milestones", response_model=schemas.MilestonesRead)
def milestone_figures(
    journey_id: uuid.UUID,
    reader: ReaderDep,
    from_: From = None,
    to: To = None,
    interval: schemas.Interval = "week",
) -> object:
    """Customers who reached each milestone, per day, week or month."""
    journey = maps.get_journey(reader.session, reader.workspace_id, journey_id)
    return maps.milestone_figures(reader, journey, from_, to, interval)


@router.get("/customers/{customer_id}/journey", response_model=schemas.CustomerJourneyRead)
def customer_journey(
    customer_id: uuid.UUID,
    reader: ReaderDep,
    journey_id: uuid.UUID | None = Query(None, description="default: the first journey"),
) -> object:
    """Where a customer is on a journey: current stage, stages entered, milestones reached.
    A merged-away id answers for the customer it became."""
    return maps.customer_journey(reader, customer_id, journey_id)
