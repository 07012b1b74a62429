"""Authentication and authorization for the management API (bearer API keys)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cxloop.accounts import errors, service
from cxloop.core.actors import Actor
from cxloop.core.deps import SessionDep, SettingsDep, client_ip
from cxloop.models import Scope


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request, bound to exactly one workspace."""

    workspace_id: uuid.UUID
    key_id: uuid.UUID
    scope: Scope
    actor: Actor


# Declares the scheme in OpenAPI; the header is read below to give precise error messages.
bearer_scheme = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer KEY`")


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    if not header:
        raise errors.InvalidCredentials("send your API key as 'Authorization: Bearer KEY'")
    if kind.lower() != "bearer" or not token.strip():
        raise errors.InvalidCredentials("the Authorization header must be 'Bearer KEY'")
    key = service.authenticate_key(
        session,
        token.strip(),
        touch_interval=timedelta(seconds=settings.key_touch_interval_seconds),
    )
    actor = Actor(
        kind="api_key",
        id=key.prefix,
        ip=client_ip(request, settings.trusted_proxies),
        user_agent=request.headers.get("user-agent", ""),
    )
    return Principal(workspace_id=key.workspace_id, key_id=key.id, scope=key.scope, actor=actor)


def require(scope: Scope) -> Callable[..., Principal]:
    """A dependency that admits keys whose scope covers ``scope``."""

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not service.scope_allows(principal.scope, scope):
            raise errors.InsufficientScope(
                f"this needs a key with scope '{scope.value}'"
                + (" or 'admin'" if scope != Scope.ADMIN else "")
                + f"; this key has scope '{principal.scope.value}'"
            )
        return principal

    return dependency


ReadPrincipal = Annotated[Principal, Depends(require(Scope.READ))]
AdminPrincipal = Annotated[Principal, Depends(require(Scope.ADMIN))]
WritePrincipal = Annotated[Principal, Depends(require(Scope.WRITE))]
