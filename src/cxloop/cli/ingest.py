"""`cxloop import events FILE`: bulk import of historical events; `cxloop events index`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from cxloop.cli.common import console, err_console, session_scope, settings, tune_gc
from cxloop.core.errors import CxloopError, InvalidInput
from cxloop.core.lazy import deferred

# the importer (Arrow, DuckDB, the event store) and the domains load when an import starts
if TYPE_CHECKING:
    from cxloop import bootstrap
    from cxloop.accounts import service as accounts
    from cxloop.core import db
    from cxloop.eventstore import index as event_index
    from cxloop.eventstore import service as eventstore
    from cxloop.ingest import importer
else:
    event_index = deferred("cxloop.eventstore.index")
    bootstrap = deferred("cxloop.bootstrap")
    accounts = deferred("cxloop.accounts.service")
    db = deferred("cxloop.core.db")
    eventstore = deferred("cxloop.eventstore.service")
    importer = deferred("cxloop.ingest.importer")

import_app = typer.Typer(help="Bulk import of historical data.", no_args_is_help=True)
events_app = typer.Typer(help="The event store.", no_args_is_help=True)
STAGES: dict[importer.Stage, str] = {
    "last chunk": "loading the last rows",
    "statistics": "recounting customer statistics",
}


@import_app.command("events")
def import_events(
    file: Annotated[Path, typer.Argument(help="JSON lines, CSV or Parquet file.", exists=True)],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, csv or parquet (default: from the file name)."),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD for CSV/Parquet, e.g. email=traits.email or ts=timestamp; "
            "repeatable. Unmapped columns named like Segment fields are used as they are; "
            "other columns become properties.",
        ),
    ] = None,
    message_type: Annotated[
        str, typer.Option("--type", help="Message type of rows without a type column.")
    ] = "track",
    event: Annotated[
        str | None,
        typer.Option("--event", help="Event name of track rows without an event column."),
    ] = None,
    rejected: Annotated[
        Path | None,
        typer.Option(help="Where rejected rows go (default: FILE.rejected.jsonl)."),
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Events per transaction.", min=1000)] = 100_000,
) -> None:
    """Import events. Re-running the same import adds nothing (messageId)."""
    config = settings()
    try:
        kind = importer.detect_format(file) if fmt is None else fmt
        if kind not in ("jsonl", "csv", "parquet"):
            raise InvalidInput("format", "use jsonl, csv or parquet")
        columns = importer.parse_mapping(mapping or [])
    except CxloopError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from None
    # reviews and messages among the events are analysed by a job of the text domain, recorded
    # by its name: every domain's jobs are registered before the import records one
    bootstrap.load_domains()
    tune_gc()
    with session_scope() as session:
        workspace_id = accounts.get_workspace_by_name(session, workspace).id
    engine = db.make_engine(config.resolved_database_url, pool_size=2)
    rejected_path = rejected or file.with_name(file.name + ".rejected.jsonl")
    by_rows = kind == "parquet"
    size = importer.parquet_rows(file) if by_rows else file.stat().st_size
    try:
        with file.open("rb") as handle, _progress(by_rows) as bar:
            task = bar.add_task("importing", total=size)
            if kind == "jsonl":
                rows = importer.read_jsonl(handle)
            elif kind == "csv":
                rows = importer.read_csv(handle, columns, message_type, event)
            else:
                rows = importer.read_parquet(file, columns, message_type, event)

            def advance(n: int) -> None:
                done = n if by_rows else handle.tell()
                bar.update(task, completed=done, description=f"{n:,} rows")

            stages: list[TaskID] = []

            def show_stage(stage: importer.Stage) -> None:
                # the file is read (its task stops its clock); what is left can take a while
                # on a big import, so it gets a task of its own whose clock keeps running
                if stages:
                    bar.update(stages[0], description=STAGES[stage])
                else:
                    stages.append(bar.add_task(STAGES[stage], total=None, stage=True))

            report = importer.run(
                db.make_sessionmaker(engine),
                workspace_id,
                rows,
                eventstore.events_root(config),
                rejected_path=rejected_path,
                temp_dir=config.data_dir / "tmp",
                register_days=config.message_id_retention_days,
                chunk_size=chunk_size,
                progress=advance,
                stage=show_stage,
            )
            bar.update(task, completed=size, description=f"{report.rows:,} rows")
            for stage_task in stages:
                bar.update(stage_task, total=1, completed=1, description="loaded")
    finally:
        engine.dispose()
    console.print(
        f"{report.loaded:,} events imported, {report.duplicates:,} already present, "
        f"{report.rejected:,} rejected ({report.rows:,} rows read)"
    )
    if report.rejected_path is not None:
        err_console.print(f"[yellow]rejected rows and reasons: {report.rejected_path}[/yellow]")


@events_app.command("index")
def index_events(
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")],
) -> None:
    """Build the workspace's customer-event index now (funnels read it; the worker rebuilds it
    once new events reach a fifth of it): after a bulk import, say."""
    config = settings()
    with session_scope() as session:
        workspace_id = accounts.get_workspace_by_name(session, workspace).id
    engine = db.make_engine(config.resolved_database_url, pool_size=2)
    try:
        with console.status("indexing each customer's events"):
            built = event_index.build(
                db.make_sessionmaker(engine), workspace_id, eventstore.events_root(config)
            )
    except event_index.IndexConflict:
        err_console.print("[red]error:[/red] files were compacted meanwhile; run it again")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if built is None:
        console.print(f"workspace {workspace!r} has no events to index")
    else:
        console.print(f"indexed {built.event_count:,} events ({built.byte_size / 2**20:,.1f} MiB)")


class _AmountColumn(ProgressColumn):
    """Rows or bytes read for the file's task; nothing for a stage, which counts neither."""

    def __init__(self, inner: ProgressColumn) -> None:
        super().__init__()
        self.inner = inner

    def render(self, task: Task) -> RenderableType:
        return Text("") if task.fields.get("stage") else self.inner.render(task)


def _progress(by_rows: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        _AmountColumn(MofNCompleteColumn() if by_rows else DownloadColumn()),
        TimeElapsedColumn(),
        _AmountColumn(TimeRemainingColumn()),
        console=err_console,
        transient=False,
    )
