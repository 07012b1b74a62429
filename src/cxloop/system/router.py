"""Health probes and the jobs of a workspace."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from cxloop.accounts.deps import AdminPrincipal, ReadPrincipal
from cxloop.core.deps import SessionDep
from cxloop.models import JobStatus
from cxloop.system import schemas, service

router = APIRouter(tags=["system"])


@router.get("/healthz", response_model=schemas.Health)
def healthz() -> object:
    """Liveness: the process answers. Touches nothing else."""
    return {"status": "ok"}


@router.get("/readyz", response_model=schemas.Health, responses={503: {"model": schemas.Health}})
def readyz(session: SessionDep) -> object:
    """Readiness: the database answers and its schema is up to date."""
    checks = service.readiness(session)
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return body if ready else JSONResponse(body, status_code=503)


@router.get("/api/v1/jobs", response_model=schemas.JobList)
def list_jobs(
    session: SessionDep,
    principal: ReadPrincipal,
    status: JobStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> object:
    return {"items": service.list_jobs(session, principal.workspace_id, status=status, limit=limit)}


@router.get("/api/v1/jobs/{job_id}", response_model=schemas.JobRead)
def read_job(job_id: uuid.UUID, session: SessionDep, principal: ReadPrincipal) -> object:
    return service.get_job(session, principal.workspace_id, job_id)


@router.post("/api/v1/jobs/{job_id}/retry", response_model=schemas.JobRead)
def retry_job(job_id: uuid.UUID, session: SessionDep, principal: AdminPrincipal) -> object:
    """Put a dead job back in the queue."""
    return service.retry_job(session, principal.workspace_id, job_id, principal.actor)
