"""What every command shares: settings, a migrated database, one transaction, the acting user."""

from __future__ import annotations

import getpass
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from cxloop.config import Settings, get_settings
from cxloop.core import migrate
from cxloop.core.actors import Actor
from cxloop.core.db import make_engine, make_sessionmaker, transaction
from cxloop.core.errors import CxloopError

# Piped output (scripts, tests) gets wide lines instead of cut-off table cells.
console = Console(width=None if sys.stdout.isatty() else 240)
err_console = Console(stderr=True)


def settings() -> Settings:
    return get_settings()


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(kind="cli", id=f"{who}@{socket.gethostname()}")


@contextmanager
def session_scope(migrate_first: bool = True) -> Iterator[Session]:
    """One transaction for one command; domain errors become a clean message and exit code 1."""
    config = settings()
    url = config.resolved_database_url
    if migrate_first:
        migrate.upgrade(url)
    engine = make_engine(url, pool_size=2)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    except CxloopError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
