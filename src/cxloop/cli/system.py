"""`cxloop serve`, `cxloop worker`, `cxloop db ...` and `cxloop jobs ...`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cxloop.cli.common import cli_actor, console, err_console, session_scope, settings, tune_gc
from cxloop.core.enums import JobStatus
from cxloop.core.lazy import deferred

# the server's modules (the app with every route, uvicorn) load only for serve and worker:
# every other command starts about a second sooner; the domains, the job runner and the
# migrations load with the command that uses them
if TYPE_CHECKING:
    import uvicorn as _uvicorn

    from cxloop import app as _app
    from cxloop import bootstrap, jobs
    from cxloop.core import db, migrate
    from cxloop.system import service
else:
    _uvicorn = deferred("uvicorn")
    _app = deferred("cxloop.app")
    bootstrap = deferred("cxloop.bootstrap")
    jobs = deferred("cxloop.jobs")
    db = deferred("cxloop.core.db")
    migrate = deferred("cxloop.core.migrate")
    service = deferred("cxloop.system.service")

db_app = typer.Typer(help="The operational database and its migrations.", no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [CXLOOP_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [CXLOOP_PORT].")] = None,
    workers: Annotated[int, typer.Option(help="API processes (needs PostgreSQL when > 1).")] = 1,
    with_worker: Annotated[
        bool | None,
        typer.Option(
            "--with-worker/--no-worker",
            help="Start a worker process beside the API [CXLOOP_RUN_WORKER_IN_SERVER].",
        ),
    ] = None,
) -> None:
    """Run pending migrations, then serve the API and the dashboard.

    The worker (loader, jobs, schedules) runs in a child process of its own, so the API and
    the loader each get a core instead of sharing one interpreter lock; the child stops when
    this process ends, however it ends.
    """
    config = settings()
    logging.basicConfig(
        level=config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    migrate.upgrade(config.resolved_database_url)
    listen_host, listen_port = host or config.host, port or config.port
    run_worker = config.run_worker_in_server if with_worker is None else with_worker
    if workers > 1 and config.is_sqlite:
        err_console.print(
            "[red]error:[/red] several API processes need PostgreSQL (set CXLOOP_DATABASE_URL)"
        )
        raise typer.Exit(2)
    child = _start_worker_process(config.worker_nice) if run_worker else None
    try:
        if workers > 1:
            _uvicorn.run(
                "cxloop.app:create_app_from_env",
                factory=True,
                host=listen_host,
                port=listen_port,
                workers=workers,
                log_level=config.log_level,
            )
            return
        app = _app.create_app(config)
        err_console.print(f"cxloop listening on http://{listen_host}:{listen_port}/")
        sys.setswitchinterval(0.0005)
        tune_gc()
        _uvicorn.run(app, host=listen_host, port=listen_port, log_level=config.log_level)
    finally:
        if child is not None:
            _stop_worker_process(child)


def _start_worker_process(nice: int) -> subprocess.Popen[bytes]:
    """``cxloop worker`` as a child that watches its stdin: end of file means we are gone."""
    command = [sys.executable, "-m", "cxloop.cli", "worker", "--stop-with-parent"]
    if nice:
        command += ["--nice", str(int(nice))]
    return subprocess.Popen(command, stdin=subprocess.PIPE)  # noqa: S603 (our own arguments)


def _stop_worker_process(child: subprocess.Popen[bytes]) -> None:
    if child.stdin is not None:
        child.stdin.close()  # the child finishes its running jobs and exits
    try:
        child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _watch_parent(stop: threading.Event) -> None:
    """Set ``stop`` when stdin reaches end of file: the parent closed it, or died."""
    while sys.stdin.buffer.read(1):
        pass
    stop.set()


def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once [CXLOOP_WORKER_CONCURRENCY].")
    ] = None,
    stop_with_parent: Annotated[
        bool,
        typer.Option(
            "--stop-with-parent", hidden=True, help="Stop when stdin closes (run by serve)."
        ),
    ] = False,
    nice: Annotated[
        int, typer.Option(min=0, max=19, help="Lower this process's CPU priority by this much.")
    ] = 0,
) -> None:
    """Run background jobs and schedules until stopped (SIGINT/SIGTERM finish running jobs)."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    config = settings()
    logging.basicConfig(
        level=config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    migrate.upgrade(config.resolved_database_url)
    bootstrap.load_domains()
    if concurrency is not None:
        config = config.model_copy(update={"worker_concurrency": concurrency})
    engine = db.make_engine(config.resolved_database_url, pool_size=config.worker_concurrency + 2)
    runner = jobs.Worker(db.make_sessionmaker(engine), _app.worker_options(config), settings=config)
    tune_gc()  # the loader and the jobs make many short-lived objects, as requests do
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if stop_with_parent:
        threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    runner.start()
    err_console.print(f"worker {runner.worker_id} running; Ctrl+C to stop")
    try:
        stop.wait()
    finally:
        runner.stop()
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(settings().resolved_database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. -1 or base.")]) -> None:
    """Revert migrations down to REVISION."""
    migrate.downgrade(settings().resolved_database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    migrate.check(settings().resolved_database_url)
    typer.echo("no drift between models and migrations")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
) -> None:
    """List recent jobs of every workspace."""
    with session_scope() as session:
        table = Table("id", "name", "status", "attempts", "run at", "last error")
        for job in service.list_all_jobs(session, status=status, limit=limit):
            table.add_row(
                str(job.id),
                job.name,
                job.status.value,
                f"{job.attempts}/{job.max_attempts}",
                job.run_at.isoformat(timespec="seconds"),
                (job.last_error or "")[:60],
            )
        console.print(table)


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[uuid.UUID, typer.Argument(help="Id of a dead job.")]) -> None:
    """Put a dead job back in the queue."""
    bootstrap.load_domains()
    with session_scope() as session:
        job = service.retry_job(session, None, job_id, cli_actor())
        typer.echo(f"requeued {job.id}")
