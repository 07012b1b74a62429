"""The CLI against the test database, with real commits (wiped afterwards)."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cxloop.cli.main import app
from cxloop.core.db import transaction
from cxloop.core.security import split_api_key
from cxloop.models import (
    ApiKey,
    AuditEvent,
    EventIndex,
    Membership,
    Role,
    Scope,
    User,
    Workspace,
)

runner = CliRunner()


@pytest.fixture
def cli_env(
    committing: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("CXLOOP_DATABASE_URL", database_url)
    return committing


def run(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_workspace_create_prints_the_id(cli_env: sessionmaker[Session]) -> None:
    workspace_id = uuid.UUID(run("workspace", "create", "acme").strip())
    with transaction(cli_env) as s:
        workspace = s.get(Workspace, workspace_id)
        assert workspace is not None
        assert workspace.name == "acme"
        actions = s.scalars(select(AuditEvent.actor_type)).all()
    assert actions == ["cli"]
    assert "acme" in run("workspace", "list")


def test_workspace_errors_are_clean_messages(cli_env: sessionmaker[Session]) -> None:
    run("workspace", "create", "acme")
    result = runner.invoke(app, ["workspace", "create", "acme"])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["workspace", "create", "Not Valid"])
    assert result.exit_code == 1
    assert "name" in result.output


def test_key_create_list_revoke(cli_env: sessionmaker[Session]) -> None:
    run("workspace", "create", "acme")
    token = run("key", "create", "--workspace", "acme", "--scope", "read").strip()
    parts = split_api_key(token)
    assert parts is not None
    prefix, secret = parts
    listing = run("key", "list", "--workspace", "acme")
    assert prefix in listing
    assert secret not in listing
    assert "active" in listing
    assert f"revoked {prefix}" in run("key", "revoke", "--workspace", "acme", prefix)
    assert "revoked" in run("key", "list", "--workspace", "acme")
    with transaction(cli_env) as s:
        key = s.scalars(select(ApiKey)).one()
        assert key.scope == Scope.READ
        assert key.revoked_at is not None


def test_key_create_for_a_missing_workspace(cli_env: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["key", "create", "--workspace", "nope", "--scope", "admin"])
    assert result.exit_code == 1
    assert "no workspace called 'nope'" in result.output


def test_key_create_rejects_an_unknown_scope(cli_env: sessionmaker[Session]) -> None:
    run("workspace", "create", "acme")
    result = runner.invoke(app, ["key", "create", "--workspace", "acme", "--scope", "root"])
    assert result.exit_code == 2
    assert "root" in result.output


def test_user_create_with_prompted_password(cli_env: sessionmaker[Session]) -> None:
    run("workspace", "create", "acme")
    password = "a long enough password"
    run(
        "user",
        "create",
        "--email",
        "Lan@Example.com",
        "--workspace",
        "acme",
        "--role",
        "analyst",
        input=f"{password}\n{password}\n",
    )
    with transaction(cli_env) as s:
        user = s.scalars(select(User)).one()
        membership = s.scalars(select(Membership)).one()
    assert user.email == "lan@example.com"
    assert password not in user.password_hash
    assert membership.role == Role.ANALYST


def test_db_commands(cli_env: sessionmaker[Session]) -> None:
    assert "no drift" in run("db", "check")
    assert "head" in run("db", "upgrade")


def test_events_index_builds_the_customer_event_index(
    cli_env: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(tmp_path / "data"))
    run("workspace", "create", "acme")
    assert "has no events to index" in run("events", "index", "-w", "acme")
    lines = [
        orjson.dumps(
            {
                "type": "track",
                "event": "Viewed",
                "userId": f"u{i % 3}",
                "messageId": f"m{i}",
                "timestamp": "2026-10-05T10:00:00Z",
            }
        ).decode()
        for i in range(5)
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    run("import", "events", str(events), "-w", "acme")
    assert "indexed 5 events" in run("events", "index", "-w", "acme")
    with transaction(cli_env) as s:
        assert s.scalar(select(func.count()).select_from(EventIndex)) == 1
    missing = runner.invoke(app, ["events", "index", "-w", "nobody"])
    assert missing.exit_code == 1
    assert "no workspace called 'nobody'" in missing.output
