"""Request and response shapes of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from cxloop.models import Role, Scope

WORKSPACE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class WorkspaceCreate(BaseModel):
    name: str = Field(pattern=WORKSPACE_NAME_PATTERN, description="Short unique name: a-z, 0-9, -")
    display_name: str | None = Field(default=None, max_length=200)
    default_language: str = Field(default="en", pattern=r"^(en|vi|th)$")


class WorkspaceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    display_name: str
    default_language: str
    timezone: str
    created_at: datetime


class ApiKeyCreate(BaseModel):
    scope: Scope
    name: str = Field(default="", max_length=200)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    scope: Scope
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret key. It is shown this once and never again.")


class ApiKeyList(BaseModel):
    items: list[ApiKeyRead]


class UserCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=10, max_length=200)
    name: str = Field(default="", max_length=200)
    role: Role = Role.VIEWER
    language: str = Field(default="en", pattern=r"^(en|vi|th)$")


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime


class MemberList(BaseModel):
    items: list[MemberRead]


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    actor_type: str
    actor_id: str
    action: str
    target_type: str
    target_id: str
    ip: str
    user_agent: str
    details: dict[str, Any]


class AuditEventList(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None = Field(description="Pass as `before` to get the next page.")
