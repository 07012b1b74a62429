"""`cxloop demo`: load a simulated shop into a demo workspace and serve the dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cxloop.cli import system
from cxloop.cli.common import cli_actor, console, err_console, settings
from cxloop.core.errors import CxloopError
from cxloop.core.lazy import deferred
from cxloop.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_DAYS, DEFAULT_SEED, WORKSPACE

# the loader imports every domain (and the simulation NumPy): loaded when the demo runs
if TYPE_CHECKING:
    from cxloop.demo import load
else:
    load = deferred("cxloop.demo.load")


class RichReporter:
    """One progress bar per loading phase, on stderr."""

    def __init__(self) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=False,
        )
        self.task: TaskID | None = None

    def begin(self, label: str, total: int | None) -> None:
        self.progress.start()
        self.task = self.progress.add_task(label, total=total)

    def update(self, done: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done)

    def end(self) -> None:
        if self.task is not None:
            task = self.progress.tasks[-1]
            self.progress.update(self.task, total=task.total or 1, completed=task.total or 1)
        self.task = None

    def close(self) -> None:
        self.progress.stop()


def demo(
    customers: Annotated[
        int, typer.Option(min=50, max=500_000, help="Customers of the simulated shop.")
    ] = DEFAULT_CUSTOMERS,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same shop.")] = (
        DEFAULT_SEED
    ),
    days: Annotated[
        int, typer.Option(min=30, max=1000, help="Days of history, ending now.")
    ] = DEFAULT_DAYS,
    workspace: Annotated[str, typer.Option(help="Workspace to load it into.")] = WORKSPACE,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards.")
    ] = True,
    host: Annotated[str | None, typer.Option(help="Address to listen on [CXLOOP_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [CXLOOP_PORT].")] = None,
) -> None:
    """Load a demo workspace: a simulated online shop in Vietnam and Thailand (see
    docs/demo.md), through the real ingestion path. Running it again loads nothing twice."""
    config = settings()
    reporter = RichReporter()
    try:
        outcome = load.run(
            config,
            cli_actor(),
            customers=customers,
            seed=seed,
            days=days,
            workspace=workspace,
            reporter=reporter,
        )
    except CxloopError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None
    finally:
        reporter.close()
    counts = outcome.counts
    if outcome.loaded_now:
        console.print(
            f"Loaded the demo shop into workspace '{outcome.workspace}': "
            f"{counts.get('customers', 0):,} customers, {counts.get('events', 0):,} events "
            f"({counts.get('events_new', 0):,} new), {counts.get('responses', 0):,} survey "
            f"responses ({counts.get('responses_new', 0):,} new), "
            f"{counts.get('texts_analysed', 0):,} texts analysed."
        )
    else:
        console.print(f"The demo shop is already loaded in workspace '{outcome.workspace}'.")
    url = f"http://{host or config.host}:{port or config.port}"
    console.print(f"Dashboard: {url}/app (sign in at {url}/login)")
    console.print(f"Sign in:   {outcome.email}")
    if outcome.password is not None:
        console.print(f"Password:  {outcome.password}")
    else:
        console.print("Password:  unchanged (this user existed before the demo)")
    console.print(f"API key:   {outcome.api_key}")
    if serve:
        system.serve(host=host, port=port, workers=1, with_worker=None)
