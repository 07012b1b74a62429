"""Customer 360 API: find a customer, read their profile, their timeline and their merges."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Query

from cxloop.accounts.deps import AdminPrincipal, ReadPrincipal
from cxloop.analytics.events import TimelineFilter
from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.eventstore.service import events_root
from cxloop.profiles import schemas, service
from cxloop.profiles.rules import IdentityRules

router = APIRouter(prefix="/api/v1", tags=["customers"])


@router.get("/customers", response_model=schemas.CustomerList)
def list_customers(
    session: SessionDep,
    principal: ReadPrincipal,
    email: str | None = None,
    phone: str | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> object:
    """Customers holding all the identifiers given (normalised as on ingestion); with none
    given, the customers seen most recently."""
    lookups = {"email": email, "phone": phone, "user_id": user_id, "anonymous_id": anonymous_id}
    found = service.search(session, principal.workspace_id, lookups, limit)
    return {"items": service.customer_views(session, principal.workspace_id, found)}


@router.get("/customers/{customer_id}", response_model=schemas.CustomerDetail)
def read_customer(customer_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal) -> object:
    """A customer; an id that was merged away leads to the customer it became."""
    profile = service.get_profile(session, principal.workspace_id, customer_id)
    return service.customer_view(session, principal.workspace_id, profile)


@router.get("/customers/{customer_id}/timeline", response_model=schemas.Timeline)
def read_timeline(
    customer_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReadPrincipal,
    channel: list[str] = Query(default_factory=list, description="Only these channels"),
    type: list[str] = Query(default_factory=list, description="Only these message types"),
    event: list[str] = Query(default_factory=list, description="Only these track events"),
    since: datetime | None = Query(
        None,
        alias="from",
        description="From this time (inclusive; a day or a time without an offset is UTC)",
    ),
    until: datetime | None = Query(
        None,
        alias="to",
        description="Until this time (exclusive; a day or a time without an offset is UTC)",
    ),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
) -> object:
    """Every event of the customer across channels, newest first."""
    profile = service.get_profile(session, principal.workspace_id, customer_id)
    flt = TimelineFilter(
        profile_ids=(),
        channels=channel,
        types=type,
        events=event,
        since=_utc(since),
        until=_utc(until),
        before=service.decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    rows, next_cursor = service.timeline(
        session, principal.workspace_id, profile, events_root(settings), flt
    )
    return {"customer_id": profile.id, "items": rows, "next_cursor": next_cursor}


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@router.get("/identity-rules", response_model=IdentityRules)
def read_identity_rules(session: SessionDep, principal: ReadPrincipal) -> object:
    return service.get_rules(session, principal.workspace_id)


@router.put("/identity-rules", response_model=IdentityRules)
def replace_identity_rules(
    body: IdentityRules, session: SessionDep, principal: AdminPrincipal
) -> object:
    """Replace the workspace's identity rules; they apply to events loaded from now on."""
    return service.set_rules(session, principal.workspace_id, body, principal.actor)
