"""`cxloop import responses FILE`: historical survey responses from CSV."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from cxloop.cli.common import console, err_console, session_scope, settings, tune_gc
from cxloop.core.errors import CxloopError
from cxloop.core.lazy import deferred

# the surveys domain (and every other) loads when an import starts
if TYPE_CHECKING:
    from cxloop import bootstrap
    from cxloop.accounts import service as accounts
    from cxloop.core import db
    from cxloop.surveys import importer
else:
    bootstrap = deferred("cxloop.bootstrap")
    accounts = deferred("cxloop.accounts.service")
    db = deferred("cxloop.core.db")
    importer = deferred("cxloop.surveys.importer")


def import_responses(
    file: Annotated[Path, typer.Argument(help="CSV file, one response per row.", exists=True)],
    survey: Annotated[uuid.UUID, typer.Option("--survey", "-s", help="Survey id.")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD, repeatable. FIELD is a question id (or answers.ID), "
            "customer.KIND (email, phone, user_id, anonymous_id, line_id, ...), one of "
            "submitted_at, started_at, touchpoint, channel, language, response_id, or - to "
            "leave the column out. Columns named like these need no mapping.",
        ),
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="Survey version the rows answer (default: the current).")
    ] = None,
    rejected: Annotated[
        Path | None,
        typer.Option(help="Where rejected rows go (default: FILE.rejected.jsonl)."),
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Responses per transaction.", min=1)] = 500,
) -> None:
    """Import survey responses. Re-running the same file adds nothing."""
    try:
        columns = importer.parse_mapping(mapping or [])
    except CxloopError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from None
    # comments among the answers are analysed by a job of the text domain: every domain's
    # jobs are registered before the import records one
    bootstrap.load_domains()
    tune_gc()
    with session_scope() as session:
        workspace_id = accounts.get_workspace_by_name(session, workspace).id
    engine = db.make_engine(settings().resolved_database_url, pool_size=2)
    rejected_path = rejected or file.with_name(file.name + ".rejected.jsonl")
    size = file.stat().st_size
    try:
        with file.open("rb") as handle, _progress() as bar:
            task = bar.add_task("importing", total=size)

            def advance(rows: int) -> None:
                bar.update(task, completed=handle.tell(), description=f"{rows:,} rows")

            report = importer.run(
                db.make_sessionmaker(engine),
                workspace_id,
                survey,
                handle,
                mapping=columns,
                rejected_path=rejected_path,
                version=version,
                chunk_size=chunk_size,
                progress=advance,
            )
            bar.update(task, completed=size)
    except CxloopError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(
        f"{report.imported:,} responses imported, {report.duplicates:,} already present, "
        f"{report.rejected:,} rejected ({report.rows:,} rows read)"
    )
    if report.rejected_path is not None:
        err_console.print(f"[yellow]rejected rows and reasons: {report.rejected_path}[/yellow]")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
