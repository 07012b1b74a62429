"""All ORM classes, one module per aggregate. Import from here so Alembic sees every table."""

from cxloop.core.db import Base
from cxloop.core.enums import JobStatus, Role, Scope
from cxloop.models.accounts import ApiKey, Membership, User, Workspace
from cxloop.models.audit import AuditEvent
from cxloop.models.events import EventFile, EventIndex, InboxBatch, MessageKey
from cxloop.models.jobs import Job, JobSchedule, Lease
from cxloop.models.journeys import Journey
from cxloop.models.kpis import KpiSetting, MarketingSpend
from cxloop.models.profiles import Identity, IdentityRuleSet, Profile, ProfileMerge
from cxloop.models.survey_distribution import (
    ContactPolicy,
    InvitationStatus,
    Suppression,
    SurveyContact,
    SurveyDistribution,
    SurveyInvitation,
    SurveyTrigger,
    TriggerCursor,
)
from cxloop.models.survey_links import SurveyLink, SurveyPage
from cxloop.models.surveys import (
    ResponseSource,
    Survey,
    SurveyResponse,
    SurveyStatus,
    SurveyVersion,
)
from cxloop.models.text import TextAnalysis, TextSource

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "ContactPolicy",
    "EventFile",
    "EventIndex",
    "Identity",
    "IdentityRuleSet",
    "InboxBatch",
    "InvitationStatus",
    "Job",
    "JobSchedule",
    "JobStatus",
    "Journey",
    "KpiSetting",
    "Lease",
    "MarketingSpend",
    "Membership",
    "MessageKey",
    "Profile",
    "ProfileMerge",
    "ResponseSource",
    "Role",
    "Scope",
    "Suppression",
    "Survey",
    "SurveyContact",
    "SurveyDistribution",
    "SurveyInvitation",
    "SurveyLink",
    "SurveyPage",
    "SurveyResponse",
    "SurveyStatus",
    "SurveyTrigger",
    "SurveyVersion",
    "TextAnalysis",
    "TextSource",
    "TriggerCursor",
    "User",
    "Workspace",
]
