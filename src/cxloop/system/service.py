"""Jobs as the API shows them, and the readiness checks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cxloop.accounts.service import record_audit
from cxloop.core.actors import Actor
from cxloop.core.migrate import script_directory
from cxloop.jobs import retry_dead
from cxloop.models import Job, JobStatus
from cxloop.system import errors


def list_jobs(
    session: Session, workspace_id: uuid.UUID, *, status: JobStatus | None, limit: int
) -> Sequence[Job]:
    query = select(Job).where(Job.workspace_id == workspace_id)
    if status is not None:
        query = query.where(Job.status == status)
    return session.scalars(query.order_by(Job.created_at.desc()).limit(limit)).all()


def get_job(session: Session, workspace_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    job = session.scalar(select(Job).where(Job.id == job_id, Job.workspace_id == workspace_id))
    if job is None:
        raise errors.JobNotFound("no such job in this workspace")
    return job


def list_all_jobs(session: Session, *, status: JobStatus | None, limit: int) -> Sequence[Job]:
    """Jobs of every workspace, newest first (operators, from the command line)."""
    query = select(Job)
    if status is not None:
        query = query.where(Job.status == status)
    return session.scalars(query.order_by(Job.created_at.desc()).limit(limit)).all()


def retry_job(
    session: Session, workspace_id: uuid.UUID | None, job_id: uuid.UUID, actor: Actor
) -> Job:
    """Requeue a dead job; ``workspace_id`` None means any workspace (operators only)."""
    job = session.get(Job, job_id)
    if job is None or (workspace_id is not None and job.workspace_id != workspace_id):
        raise errors.JobNotFound("no such job in this workspace")
    retried = retry_dead(session, job.id)
    if retried is None:
        raise errors.JobNotDead(f"only dead jobs can be retried; this one is {job.status.value}")
    record_audit(
        session,
        actor,
        "job.retried",
        workspace_id=job.workspace_id,
        target_type="job",
        target_id=str(job.id),
        details={"name": job.name},
    )
    return retried


def readiness(session: Session) -> dict[str, str]:
    """Each check's state: the database answers and its schema is at the newest migration."""
    checks: dict[str, str] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # a readiness probe reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}"
        return checks
    current = MigrationContext.configure(session.connection()).get_current_heads()
    script: ScriptDirectory = script_directory()
    heads = script.get_heads()
    checks["migrations"] = "ok" if set(current) == set(heads) else "pending"
    return checks
