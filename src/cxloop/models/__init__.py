"""All ORM classes, one module per aggregate. Import from here so Alembic sees every table."""

from cxloop.core.db import Base
from cxloop.models.accounts import ApiKey, Membership, Role, Scope, User, Workspace
from cxloop.models.audit import AuditEvent
from cxloop.models.jobs import Job, JobSchedule, JobStatus

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Job",
    "JobSchedule",
    "JobStatus",
    "Membership",
    "Role",
    "Scope",
    "User",
    "Workspace",
]
