"""Enumerations the models store and the command line offers as choices.

They live apart from the ORM classes (and import nothing) because the command line needs
their members to build every command's options, `cxloop --help` included, and importing
``cxloop.models`` for them would load SQLAlchemy and every table with each command.
``cxloop.models`` exports them under the same names.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a person may do in a workspace, from most to least."""

    OWNER = "owner"
    ADMIN = "admin"
    ANALYST = "analyst"
    AGENT = "agent"
    VIEWER = "viewer"


class Scope(enum.StrEnum):
    """What an API key may do: ``write`` only sends events; ``admin`` includes ``read``."""

    WRITE = "write"
    READ = "read"
    ADMIN = "admin"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"  # gave up after max_attempts; kept for inspection and manual retry
