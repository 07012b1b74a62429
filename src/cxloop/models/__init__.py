"""All ORM classes, one module per aggregate. Import from here so Alembic sees every table."""

from cxloop.core.db import Base
from cxloop.models.accounts import ApiKey, Membership, Role, Scope, User, Workspace
from cxloop.models.audit import AuditEvent
from cxloop.models.events import EventFile, InboxBatch, MessageKey
from cxloop.models.jobs import Job, JobSchedule, JobStatus, Lease
from cxloop.models.profiles import Identity, IdentityRuleSet, Profile, ProfileMerge

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "EventFile",
    "Identity",
    "IdentityRuleSet",
    "InboxBatch",
    "Job",
    "JobSchedule",
    "JobStatus",
    "Lease",
    "Membership",
    "MessageKey",
    "Profile",
    "ProfileMerge",
    "Role",
    "Scope",
    "User",
    "Workspace",
]
