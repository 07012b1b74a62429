"""Which job names exist, the function that runs each, and the periodic schedules."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload. ``session`` is the job's transaction."""

    session: Session
    job_id: uuid.UUID
    name: str
    attempt: int
    workspace_id: uuid.UUID | None
    settings: Settings


@dataclass(frozen=True)
class LoopContext:
    """What a long-running loop gets: its own transactions, the settings, and a stop flag."""

    factory: sessionmaker[Session]
    settings: Settings
    stop: threading.Event
    worker_id: str


Handler = Callable[[JobContext, dict[str, Any]], None]
Loop = Callable[[LoopContext], None]


@dataclass(frozen=True)
class JobDefinition:
    name: str
    handler: Handler
    max_attempts: int | None = None


@dataclass(frozen=True)
class ScheduleDefinition:
    name: str
    job_name: str
    every: timedelta
    payload: dict[str, Any] = field(default_factory=dict)


class Registry:
    def __init__(self) -> None:
        self.jobs: dict[str, JobDefinition] = {}
        self.schedules: dict[str, ScheduleDefinition] = {}
        self.loops: dict[str, Loop] = {}

    def add_job(self, definition: JobDefinition) -> None:
        existing = self.jobs.get(definition.name)
        if existing is not None and existing.handler is not definition.handler:
            raise ValueError(f"job {definition.name!r} is registered twice")
        self.jobs[definition.name] = definition

    def add_schedule(self, definition: ScheduleDefinition) -> None:
        self.schedules[definition.name] = definition

    def add_loop(self, name: str, loop: Loop) -> None:
        existing = self.loops.get(name)
        if existing is not None and existing is not loop:
            raise ValueError(f"loop {name!r} is registered twice")
        self.loops[name] = loop

    def get(self, name: str) -> JobDefinition:
        try:
            return self.jobs[name]
        except KeyError:
            raise LookupError(f"no job called {name!r} is registered") from None


registry = Registry()


def job(name: str, *, max_attempts: int | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of jobs called ``name``.

    Names follow ``"<domain>.<verb_object>"``. A handler must be idempotent: after a crash
    between its work and the commit it runs again.
    """
    if "." not in name:
        raise ValueError(f"job name {name!r} must look like '<domain>.<verb_object>'")

    def decorator(handler: Handler) -> Handler:
        registry.add_job(JobDefinition(name=name, handler=handler, max_attempts=max_attempts))
        return handler

    return decorator


def schedule(
    name: str, job_name: str, every: timedelta, payload: dict[str, Any] | None = None
) -> None:
    """Run ``job_name`` every ``every``, once across all workers."""
    if every.total_seconds() < 1:
        raise ValueError("a schedule's interval must be at least one second")
    registry.add_schedule(
        ScheduleDefinition(name=name, job_name=job_name, every=every, payload=payload or {})
    )


def loop(name: str) -> Callable[[Loop], Loop]:
    """Run the decorated function in its own thread of every worker until the worker stops.

    For work that must react within a second (the event loader); it should return promptly
    once ``ctx.stop`` is set, and coordinate with other workers itself (e.g. a lease).
    """

    def decorator(fn: Loop) -> Loop:
        registry.add_loop(name, fn)
        return fn

    return decorator
