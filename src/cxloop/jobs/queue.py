"""Putting jobs into the outbox table and taking them out again."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.core.time import utcnow
from cxloop.jobs.registry import registry
from cxloop.models import Job, JobStatus


def enqueue(
    session: Session,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    workspace_id: uuid.UUID | None = None,
    delay: timedelta | None = None,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Record a job in the caller's transaction, so it exists exactly when the change does.

    With ``dedupe_key``, a job already recorded under that key is returned instead.
    """
    definition = registry.get(name)
    when = run_at or utcnow()
    if delay is not None:
        when = when + delay
    job = Job(
        name=name,
        payload=payload or {},
        workspace_id=workspace_id,
        run_at=when,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts or definition.max_attempts or 5,
    )
    if dedupe_key is None:
        session.add(job)
        session.flush()
        return job
    existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # Another transaction recorded the same key between our look and our insert.
        found = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if found is None:
            raise
        return found
    return job


def claim(session: Session, worker_id: str, lease: timedelta, limit: int = 1) -> Sequence[Job]:
    """Mark up to ``limit`` due jobs as running by ``worker_id`` and return them.

    First the due rows are locked with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so that many
    workers claim side by side without waiting for or double-claiming each other; then only
    those rows are updated. (A single ``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE
    SKIP LOCKED)`` is not safe: PostgreSQL may run the sub-select once per row and update more
    than ``n``.) The ``status`` guard keeps SQLite, which ignores row locks, from double-claiming.
    """
    now = utcnow()
    due = session.scalars(
        select(Job.id)
        .where(Job.status == JobStatus.QUEUED, Job.run_at <= now)
        .order_by(Job.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return []
    return session.scalars(
        update(Job)
        .where(Job.id.in_(due), Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            locked_by=worker_id,
            locked_until=now + lease,
            attempts=Job.attempts + 1,
            started_at=now,
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    ).all()


def backoff(attempt: int, base_seconds: float, cap_seconds: float = 3600.0) -> timedelta:
    """Exponential backoff with jitter: ``base * 2**(attempt-1)``, up to a quarter more."""
    delay = min(cap_seconds, base_seconds * (2 ** max(0, attempt - 1)))
    return timedelta(seconds=delay * (1 + random.random() / 4))  # noqa: S311 (jitter, not crypto)


def record_failure(
    session: Session, job_id: uuid.UUID, worker_id: str, error: str, base_seconds: float
) -> JobStatus | None:
    """After a failed attempt: queue a retry with backoff, or move the job to dead letters."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.locked_by != worker_id or job.status != JobStatus.RUNNING:
        return None  # the lease was lost: whoever holds the job now decides
    job.last_error = error[-4000:]
    job.locked_by = None
    job.locked_until = None
    if job.attempts >= job.max_attempts:
        job.status = JobStatus.DEAD
        job.finished_at = utcnow()
    else:
        job.status = JobStatus.QUEUED
        job.run_at = utcnow() + backoff(job.attempts, base_seconds)
    session.flush()
    return job.status


def requeue_expired(session: Session) -> int:
    """Give jobs whose worker vanished (lease expired) back to the queue, or to dead letters."""
    now = utcnow()
    expired = (Job.status == JobStatus.RUNNING) & (Job.locked_until < now)
    dead = session.execute(
        update(Job)
        .where(expired, Job.attempts >= Job.max_attempts)
        .values(
            status=JobStatus.DEAD,
            finished_at=now,
            locked_by=None,
            locked_until=None,
            last_error="lease expired: the worker stopped while running this job",
        )
        .execution_options(synchronize_session=False)
    )
    back = session.execute(
        update(Job)
        .where(expired)
        .values(status=JobStatus.QUEUED, run_at=now, locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(dead.rowcount or 0) + int(back.rowcount or 0)  # type: ignore[attr-defined]


def extend_leases(session: Session, worker_id: str, lease: timedelta) -> None:
    session.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING, Job.locked_by == worker_id)
        .values(locked_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )


def retry_dead(session: Session, job_id: uuid.UUID) -> Job | None:
    """Put a dead job back in the queue with a fresh set of attempts."""
    job = session.get(Job, job_id)
    if job is None or job.status != JobStatus.DEAD:
        return None
    job.status = JobStatus.QUEUED
    job.attempts = 0
    job.run_at = utcnow()
    job.finished_at = None
    session.flush()
    return job
