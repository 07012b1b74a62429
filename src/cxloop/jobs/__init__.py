"""Durable background jobs: an outbox table, a registry of handlers, a worker and schedules.

See docs/adr/0002-job-runner.md for why cxloop runs its own small table-backed runner.
"""

from cxloop.jobs import builtin as _builtin  # noqa: F401  (registers built-in jobs)
from cxloop.jobs.queue import enqueue, retry_dead
from cxloop.jobs.registry import (
    JobContext,
    JobDefinition,
    ScheduleDefinition,
    job,
    registry,
    schedule,
)
from cxloop.jobs.worker import Worker

__all__ = [
    "JobContext",
    "JobDefinition",
    "ScheduleDefinition",
    "Worker",
    "enqueue",
    "job",
    "registry",
    "retry_dead",
    "schedule",
]
