"""Business rules of workspaces, users, memberships, API keys and the audit log."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from cxloop.accounts import errors, signals
from cxloop.core.actors import Actor
from cxloop.core.errors import InvalidInput
from cxloop.core.i18n import LANGUAGES
from cxloop.core.security import (
    hash_password,
    new_api_key,
    password_needs_rehash,
    secret_matches,
    split_api_key,
    verify_password,
)
from cxloop.core.time import utcnow
from cxloop.models import ApiKey, AuditEvent, Membership, Role, Scope, User, Workspace

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@functools.cache
def _dummy_hash() -> str:
    """Made on first use: hashing costs a third of a second, which every CLI command would
    otherwise pay at start-up."""
    return hash_password("cxloop-timing-equaliser")


# Roles from least to most; a role includes every role before it.
ROLE_ORDER = (Role.VIEWER, Role.AGENT, Role.ANALYST, Role.ADMIN, Role.OWNER)


# -- audit ----------------------------------------------------------------------------------


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    *,
    workspace_id: uuid.UUID | None,
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit entry in the caller's transaction (it commits with the change)."""
    event = AuditEvent(
        workspace_id=workspace_id,
        actor_type=actor.kind,
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        ip=actor.ip,
        user_agent=actor.user_agent[:400],
        details=details or {},
    )
    session.add(event)
    session.flush()
    return event


def list_audit(
    session: Session, workspace_id: uuid.UUID, *, limit: int = 50, before: uuid.UUID | None = None
) -> Sequence[AuditEvent]:
    """Newest first; ``before`` is the id of the last entry of the previous page."""
    query = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
    if before is not None:
        # ids are time-ordered (UUIDv7), so the id alone is a stable cursor
        query = query.where(AuditEvent.id < before)
    return session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)).all()


# -- workspaces -----------------------------------------------------------------------------


def create_workspace(
    session: Session,
    name: str,
    actor: Actor,
    *,
    display_name: str | None = None,
    default_language: str = "en",
) -> Workspace:
    """Create a tenant. Names are short slugs because people type them in commands."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "name",
            "use 1-63 characters: lowercase letters, digits and '-', "
            "starting with a letter or digit",
        )
    if session.scalar(select(Workspace.id).where(Workspace.name == name)) is not None:
        raise errors.WorkspaceExists(f"a workspace called {name!r} already exists")
    workspace = Workspace(
        name=name, display_name=display_name or name, default_language=default_language
    )
    session.add(workspace)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise errors.WorkspaceExists(f"a workspace called {name!r} already exists") from None
    record_audit(
        session,
        actor,
        "workspace.created",
        workspace_id=workspace.id,
        target_type="workspace",
        target_id=str(workspace.id),
        details={"name": name},
    )
    signals.workspace_created.send(session=session, workspace=workspace)
    return workspace


def get_workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise errors.WorkspaceNotFound("no such workspace")
    return workspace


def get_workspace_by_name(session: Session, name: str) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    if workspace is None:
        raise errors.WorkspaceNotFound(f"no workspace called {name!r}")
    return workspace


def list_workspaces(session: Session) -> Sequence[Workspace]:
    return session.scalars(select(Workspace).order_by(Workspace.name)).all()


# -- API keys -------------------------------------------------------------------------------


def create_api_key(
    session: Session, workspace: Workspace, scope: Scope, actor: Actor, *, name: str = ""
) -> tuple[ApiKey, str]:
    """Make a key; the returned token is the only copy of the secret there will ever be."""
    made = new_api_key(scope.value)
    key = ApiKey(
        workspace_id=workspace.id,
        name=name,
        prefix=made.prefix,
        secret_hash=made.secret_hash,
        scope=scope,
        created_by=f"{actor.kind}:{actor.id}",
    )
    session.add(key)
    session.flush()
    record_audit(
        session,
        actor,
        "api_key.created",
        workspace_id=workspace.id,
        target_type="api_key",
        target_id=str(key.id),
        details={"scope": scope.value, "name": name, "prefix": made.prefix},
    )
    return key, made.token


def list_api_keys(
    session: Session, workspace_id: uuid.UUID, *, include_revoked: bool = True
) -> Sequence[ApiKey]:
    query = select(ApiKey).where(ApiKey.workspace_id == workspace_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return session.scalars(query.order_by(ApiKey.created_at)).all()


def find_api_key(session: Session, workspace_id: uuid.UUID, key_ref: str) -> ApiKey:
    """A key of this workspace by its id or its prefix (what `cxloop key list` shows)."""
    query = select(ApiKey).where(ApiKey.workspace_id == workspace_id)
    try:
        query = query.where(ApiKey.id == uuid.UUID(key_ref))
    except ValueError:
        query = query.where(ApiKey.prefix == key_ref)
    key = session.scalar(query)
    if key is None:
        raise errors.ApiKeyNotFound(f"no API key {key_ref!r} in this workspace")
    return key


def revoke_api_key(session: Session, workspace_id: uuid.UUID, key_ref: str, actor: Actor) -> ApiKey:
    """Revoke at once; revoking twice keeps the first time."""
    key = find_api_key(session, workspace_id, key_ref)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
        record_audit(
            session,
            actor,
            "api_key.revoked",
            workspace_id=workspace_id,
            target_type="api_key",
            target_id=str(key.id),
            details={"prefix": key.prefix},
        )
        signals.api_key_revoked.send(session=session, api_key=key)
    return key


def authenticate_key(
    session: Session, token: str, *, touch_interval: timedelta = timedelta(seconds=60)
) -> ApiKey:
    """The active key behind ``token``, or :class:`InvalidCredentials`.

    ``last_used_at`` is written at most once per ``touch_interval`` so that a busy key does
    not turn every request into a write.
    """
    parts = split_api_key(token)
    if parts is None:
        raise errors.InvalidCredentials("the API key is malformed")
    prefix, secret = parts
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not secret_matches(secret, key.secret_hash):
        raise errors.InvalidCredentials("the API key is not valid")
    if key.revoked_at is not None:
        raise errors.InvalidCredentials("the API key has been revoked")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= touch_interval:
        _touch_key(session, key, now)
    return key


def _touch_key(session: Session, key: ApiKey, now: datetime) -> None:
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(key, "last_used_at", now)  # already written; not dirty


# -- users and memberships ------------------------------------------------------------------


def create_user(
    session: Session,
    email: str,
    password: str,
    actor: Actor,
    *,
    name: str = "",
    language: str = "en",
) -> User:
    email = email.strip().lower()
    if len(password) < 10:
        raise InvalidInput("password", "use at least 10 characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise errors.UserExists(f"a user with email {email!r} already exists")
    user = User(email=email, name=name, password_hash=hash_password(password), language=language)
    session.add(user)
    session.flush()
    record_audit(
        session,
        actor,
        "user.created",
        workspace_id=None,
        target_type="user",
        target_id=str(user.id),
        details={"email": email},
    )
    return user


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise errors.UserNotFound(f"no user with email {email!r}")
    return user


def add_member(
    session: Session, workspace: Workspace, user: User, role: Role, actor: Actor
) -> Membership:
    """Give ``user`` a role in ``workspace`` (changing it if they already have one)."""
    membership = session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    )
    if membership is None:
        membership = Membership(workspace_id=workspace.id, user_id=user.id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    record_audit(
        session,
        actor,
        "member.role_set",
        workspace_id=workspace.id,
        target_type="user",
        target_id=str(user.id),
        details={"role": role.value},
    )
    return membership


def list_members(session: Session, workspace_id: uuid.UUID) -> Sequence[tuple[Membership, User]]:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(User.email)
    )
    return [(m, u) for m, u in rows]


def authenticate_user(session: Session, email: str, password: str) -> User:
    """The active user with these credentials; the same error for unknown email and bad password."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    # An unknown email still pays for one hash check, so timing does not tell which exist.
    stored = user.password_hash if user is not None else _dummy_hash()
    if not verify_password(stored, password) or user is None or not user.is_active:
        raise errors.InvalidCredentials("the email or password is not right")
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise errors.UserNotFound(f"no user {user_id}")
    return user


def user_workspaces(session: Session, user_id: uuid.UUID) -> list[tuple[Workspace, Role]]:
    """The workspaces a user belongs to, with their role in each, by display name."""
    rows = session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(Workspace.display_name, Workspace.name)
    )
    return [(workspace, role) for workspace, role in rows]


def set_user_language(session: Session, user: User, language: str) -> None:
    """The language the user's pages are shown in (en, vi or th)."""
    if language not in LANGUAGES:
        raise InvalidInput("lang", f"one of {', '.join(LANGUAGES)}, not {language!r}")
    if user.language != language:
        user.language = language
        session.flush()


def role_at_least(role: Role, minimum: Role) -> bool:
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(minimum)


def scope_allows(scope: Scope, needed: Scope) -> bool:
    """``admin`` includes ``read`` and ``write``; ``read`` and ``write`` are separate."""
    return scope == needed or scope == Scope.ADMIN
