"""Jobs the job system runs on itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from cxloop.core.time import utcnow
from cxloop.jobs.registry import JobContext, job, schedule
from cxloop.models import Job, JobStatus

FINISHED_JOB_RETENTION = timedelta(days=7)


@job("jobs.purge_finished")
def purge_finished(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete finished jobs past their retention; dead ones stay until someone looks."""
    days = int(payload.get("days", FINISHED_JOB_RETENTION.days))
    cutoff = utcnow() - timedelta(days=days)
    ctx.session.execute(
        delete(Job)
        .where(Job.status == JobStatus.DONE, Job.finished_at < cutoff)
        .execution_options(synchronize_session=False)
    )


schedule("jobs.purge_finished.hourly", "jobs.purge_finished", every=timedelta(hours=1))
