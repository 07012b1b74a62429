"""What every command shares: settings, a migrated database, one transaction, the acting user."""

from __future__ import annotations

import gc
import getpass
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from cxloop.core.actors import Actor
from cxloop.core.errors import CxloopError
from cxloop.core.lazy import deferred

# settings, the ORM and the migrations load with the first command that uses them: `cxloop
# --help` and `cxloop version` need none of them
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cxloop import config
    from cxloop.config import Settings
    from cxloop.core import db, migrate
else:
    config = deferred("cxloop.config")
    db = deferred("cxloop.core.db")
    migrate = deferred("cxloop.core.migrate")

# Piped output (scripts, tests) gets wide lines instead of cut-off table cells.
console = Console(width=None if sys.stdout.isatty() else 240)
err_console = Console(stderr=True)


def settings() -> Settings:
    return config.get_settings()


def tune_gc() -> None:
    """For a server or a bulk job. What is loaded at start (modules, the app, its routes)
    lives as long as the process: kept out of the collector's scans. Requests and imports make
    many short-lived objects: collect the youngest generation less often, each collection
    costing the same (with the defaults, an import of a million events spends a tenth of its
    time walking the identities it remembers)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(kind="cli", id=f"{who}@{socket.gethostname()}")


@contextmanager
def session_scope(migrate_first: bool = True) -> Iterator[Session]:
    """One transaction for one command; domain errors become a clean message and exit code 1."""
    url = settings().resolved_database_url
    if migrate_first:
        migrate.upgrade(url)
    engine = db.make_engine(url, pool_size=2)
    try:
        with db.transaction(db.make_sessionmaker(engine)) as session:
            yield session
    except CxloopError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
