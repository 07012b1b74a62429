"""The `cxloop` command. Commands stay thin: parse, call a service, print."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cxloop import __version__
from cxloop.cli import accounts, demo, ingest, surveys, system
from cxloop.cli import text as text_cli
from cxloop.core.lazy import deferred

# the references read the settings' fields: loaded for `cxloop reference` only
if TYPE_CHECKING:
    from cxloop.cli import reference
else:
    reference = deferred("cxloop.cli.reference")

app = typer.Typer(
    name="cxloop",
    help="cxloop: self-hostable customer-experience management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(system.serve)
app.command("worker")(system.worker)
app.command("demo")(demo.demo)
app.add_typer(accounts.workspace_app, name="workspace")
app.add_typer(accounts.key_app, name="key")
app.add_typer(accounts.user_app, name="user")
app.add_typer(system.db_app, name="db")
app.add_typer(system.jobs_app, name="jobs")
app.add_typer(ingest.import_app, name="import")
app.add_typer(ingest.events_app, name="events")
app.add_typer(text_cli.text_app, name="text")
ingest.import_app.command("responses")(surveys.import_responses)


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command("reference")
def write_reference(
    write: Annotated[bool, typer.Option("--write", help="Write into docs/reference/.")] = False,
) -> None:
    """Print (or write) the CLI and settings references generated from the code."""
    root = typer.main.get_command(app)
    if write:
        for path in reference.write_documents(root):
            typer.echo(f"wrote {path}")
        return
    for text in reference.documents(root).values():
        typer.echo(text)
