"""`cxloop workspace ...`, `cxloop key ...` and `cxloop user ...`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.accounts import errors
from cxloop.cli.common import cli_actor, console, err_console, session_scope
from cxloop.core.enums import Role, Scope
from cxloop.core.lazy import deferred

# the accounts service (the ORM, password hashing) loads with the command that uses it
if TYPE_CHECKING:
    from cxloop.accounts import service
else:
    service = deferred("cxloop.accounts.service")

workspace_app = typer.Typer(help="Workspaces: one per business (tenant).", no_args_is_help=True)
key_app = typer.Typer(help="API keys of a workspace.", no_args_is_help=True)
user_app = typer.Typer(help="People who sign in to the dashboard.", no_args_is_help=True)

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")]


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Argument(help="Short name: a-z, 0-9 and '-'.")],
    display_name: Annotated[str | None, typer.Option(help="Name shown in the dashboard.")] = None,
    language: Annotated[str, typer.Option(help="Default language: en, vi or th.")] = "en",
) -> None:
    """Create a workspace and print its id."""
    with session_scope() as session:
        workspace = service.create_workspace(
            session, name, cli_actor(), display_name=display_name, default_language=language
        )
        typer.echo(str(workspace.id))


@workspace_app.command("list")
def workspace_list() -> None:
    """List workspaces."""
    with session_scope() as session:
        table = Table("id", "name", "display name", "created")
        for ws in service.list_workspaces(session):
            table.add_row(
                str(ws.id), ws.name, ws.display_name, ws.created_at.isoformat(timespec="seconds")
            )
        console.print(table)


@key_app.command("create")
def key_create(
    workspace: WorkspaceOpt,
    scope: Annotated[Scope, typer.Option(help="write (ingestion only), read or admin.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
) -> None:
    """Create an API key and print it. It is shown this once only."""
    with session_scope() as session:
        ws = service.get_workspace_by_name(session, workspace)
        _, token = service.create_api_key(session, ws, scope, cli_actor(), name=name)
        typer.echo(token)
    err_console.print("[yellow]Store this key now: it cannot be shown again.[/yellow]")


@key_app.command("list")
def key_list(workspace: WorkspaceOpt) -> None:
    """List the keys of a workspace (never their secrets)."""
    with session_scope() as session:
        ws = service.get_workspace_by_name(session, workspace)
        table = Table("prefix", "scope", "name", "created", "last used", "state")
        for key in service.list_api_keys(session, ws.id):
            table.add_row(
                key.prefix,
                key.scope.value,
                key.name,
                key.created_at.isoformat(timespec="seconds"),
                key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never",
                "revoked" if key.revoked_at else "active",
            )
        console.print(table)


@key_app.command("revoke")
def key_revoke(
    workspace: WorkspaceOpt,
    key: Annotated[str, typer.Argument(help="The key's prefix (from `key list`) or id.")],
) -> None:
    """Revoke a key at once."""
    with session_scope() as session:
        ws = service.get_workspace_by_name(session, workspace)
        revoked = service.revoke_api_key(session, ws.id, key, cli_actor())
        typer.echo(f"revoked {revoked.prefix}")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    workspace: WorkspaceOpt,
    role: Annotated[
        Role, typer.Option(help="owner, admin, analyst, agent or viewer.")
    ] = Role.VIEWER,
    name: Annotated[str, typer.Option(help="Full name.")] = "",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="CXLOOP_NEW_USER_PASSWORD",
            help="At least 10 characters (prompted when not given).",
        ),
    ] = "",
) -> None:
    """Create a user with a role in a workspace (or give an existing user the role)."""
    with session_scope() as session:
        ws = service.get_workspace_by_name(session, workspace)
        try:
            user = service.get_user_by_email(session, email)
        except errors.UserNotFound:
            user = service.create_user(session, email, password, cli_actor(), name=name)
        service.add_member(session, ws, user, role, cli_actor())
        typer.echo(str(user.id))
