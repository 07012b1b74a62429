"""JSON API of the accounts domain: the current workspace, its keys, members and audit log."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from cxloop.accounts import schemas, service
from cxloop.accounts.deps import AdminPrincipal, ReadPrincipal
from cxloop.core.deps import SessionDep
from cxloop.models import Membership, User

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/workspace", response_model=schemas.WorkspaceRead)
def read_workspace(session: SessionDep, principal: ReadPrincipal) -> object:
    """The workspace the API key belongs to."""
    return service.get_workspace(session, principal.workspace_id)


@router.get("/keys", response_model=schemas.ApiKeyList)
def list_keys(session: SessionDep, principal: AdminPrincipal) -> object:
    return {"items": service.list_api_keys(session, principal.workspace_id)}


@router.post("/keys", response_model=schemas.ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(
    body: schemas.ApiKeyCreate, session: SessionDep, principal: AdminPrincipal
) -> object:
    """Make a key. The response holds the secret once; store it now."""
    workspace = service.get_workspace(session, principal.workspace_id)
    key, token = service.create_api_key(
        session, workspace, body.scope, principal.actor, name=body.name
    )
    read = schemas.ApiKeyRead.model_validate(key)
    return schemas.ApiKeyCreated(**read.model_dump(), key=token)


@router.delete("/keys/{key_id}", response_model=schemas.ApiKeyRead)
def revoke_key(key_id: uuid.UUID, session: SessionDep, principal: AdminPrincipal) -> object:
    return service.revoke_api_key(session, principal.workspace_id, str(key_id), principal.actor)


@router.get("/members", response_model=schemas.MemberList)
def list_members(session: SessionDep, principal: AdminPrincipal) -> object:
    rows = service.list_members(session, principal.workspace_id)
    return {"items": [_member(m, u) for m, u in rows]}


@router.post("/members", response_model=schemas.MemberRead, status_code=status.HTTP_201_CREATED)
def create_member(
    body: schemas.UserCreate, session: SessionDep, principal: AdminPrincipal
) -> object:
    """Create a user and give them a role in this workspace."""
    workspace = service.get_workspace(session, principal.workspace_id)
    user = service.create_user(
        session, body.email, body.password, principal.actor, name=body.name, language=body.language
    )
    membership = service.add_member(session, workspace, user, body.role, principal.actor)
    return _member(membership, user)


@router.get("/audit-events", response_model=schemas.AuditEventList)
def list_audit_events(
    session: SessionDep,
    principal: AdminPrincipal,
    limit: int = Query(50, ge=1, le=500),
    before: uuid.UUID | None = Query(None, description="`next_cursor` of the previous page"),
) -> object:
    items = service.list_audit(session, principal.workspace_id, limit=limit, before=before)
    cursor = str(items[-1].id) if len(items) == limit else None
    return {"items": items, "next_cursor": cursor}


def _member(membership: Membership, user: User) -> schemas.MemberRead:
    return schemas.MemberRead(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=membership.role,
        is_active=user.is_active,
        created_at=membership.created_at,
    )
