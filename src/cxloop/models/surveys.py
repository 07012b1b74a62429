"""Surveys, the versions of their questions, and the responses to them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, JSONType, TimestampMixin
from cxloop.core.time import utcnow


class SurveyStatus(enum.StrEnum):
    """Only an active survey takes responses; a closed one never opens again."""

    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


class ResponseSource(enum.StrEnum):
    """Where a response came in."""

    API = "api"
    PAGE = "page"
    WIDGET = "widget"
    EMAIL = "email"
    IMPORT = "import"


def _values(members: type[enum.StrEnum]) -> list[str]:
    return [m.value for m in members]


class Survey(IdMixin, TimestampMixin, Base):
    """A survey of one workspace. Its questions live in :class:`SurveyVersion` rows."""

    __tablename__ = "survey"
    __table_args__ = (Index("ix_survey_workspace_id_status", "workspace_id", "status"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[SurveyStatus] = mapped_column(
        Enum(SurveyStatus, native_enum=False, length=16, values_callable=_values),
        default=SurveyStatus.DRAFT,
    )
    touchpoint: Mapped[str | None] = mapped_column(String(100), default=None)
    # journey stage: awareness, consideration, purchase, onboarding, retention, expansion, advocacy
    stage: Mapped[str | None] = mapped_column(String(20), default=None)
    default_language: Mapped[str] = mapped_column(String(8), default="en")
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    response_limit: Mapped[int | None] = mapped_column(Integer, default=None)
    # complete responses so far: kept here so the limit is checked without counting rows
    response_count: Mapped[int] = mapped_column(Integer, default=0)
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyVersion(IdMixin, TimestampMixin, Base):
    """The questions of a survey as they were asked. A response names the version it
    answered, so an edit after the first response makes a new version instead."""

    __tablename__ = "survey_version"
    __table_args__ = (UniqueConstraint("survey_id", "version"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    # the SurveyDefinition: questions, intro and thank-you texts
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SurveyResponse(IdMixin, TimestampMixin, Base):
    """One customer's answers to one version of a survey, complete or saved part way."""

    __tablename__ = "survey_response"
    __table_args__ = (
        # the response key is the client's idempotency key and the event's response_id
        UniqueConstraint("workspace_id", "response_key"),
        Index("ix_survey_response_survey_id_id", "survey_id", "id"),
        Index("ix_survey_response_survey_id_submitted_at", "survey_id", "submitted_at"),
        Index("ix_survey_response_workspace_id_profile_id", "workspace_id", "profile_id"),
        # responses still waiting for their profile: few, whatever the size of the table
        Index(
            "ix_survey_response_unlinked",
            "created_at",
            postgresql_where=text("profile_id IS NULL"),
            sqlite_where=text("profile_id IS NULL"),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    response_key: Mapped[uuid.UUID]
    # the identifiers the customer was given by, normalised: {"email": ..., "user_id": ...}
    customer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the identifiers the response's event carries (the loader resolves the profile from them)
    user_id: Mapped[str | None] = mapped_column(String(400), default=None)
    anonymous_id: Mapped[str | None] = mapped_column(String(400), default=None)
    # known at once when the customer was seen before, else once the event is loaded
    profile_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("profile.id", ondelete="SET NULL"), default=None
    )
    touchpoint: Mapped[str | None] = mapped_column(String(100), default=None)
    channel: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_complete: Mapped[bool] = mapped_column(default=True)
    source: Mapped[ResponseSource] = mapped_column(
        Enum(ResponseSource, native_enum=False, length=16, values_callable=_values),
        default=ResponseSource.API,
    )
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    # null while the response is partial
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
