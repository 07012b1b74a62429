"""Getting surveys to customers: email invitations and their reminders, event triggers,
the suppression list, and what the contact-fatigue rules count."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, TimestampMixin
from cxloop.core.time import utcnow


class InvitationStatus(enum.StrEnum):
    """Where an invitation stands. ``skipped`` carries the reason in ``skip_reason``."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    ANSWERED = "answered"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    SKIPPED = "skipped"


def _values(members: type[enum.StrEnum]) -> list[str]:
    return [m.value for m in members]


class SurveyDistribution(Base):
    """How one survey is sent: its reminders and how often a customer may answer it."""

    __tablename__ = "survey_distribution"

    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    reminder_after_days: Mapped[int] = mapped_column(Integer, default=3)
    max_reminders: Mapped[int] = mapped_column(Integer, default=1)
    # a customer who answered this survey within these days is not invited again (null: never)
    answer_cooldown_days: Mapped[int | None] = mapped_column(Integer, default=90)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactPolicy(Base):
    """A workspace's cap on survey contacts across all its surveys."""

    __tablename__ = "contact_policy"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    # at most one survey invitation or display per customer within these days (0: no cap)
    days_between_surveys: Mapped[int] = mapped_column(Integer, default=30)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyInvitation(IdMixin, TimestampMixin, Base):
    """One customer invited to one survey by email, with its personal link and reminders."""

    __tablename__ = "survey_invitation"
    __table_args__ = (
        # a trigger's (customer, message) or a caller's key: invited once, however often asked
        UniqueConstraint("workspace_id", "dedupe_key"),
        Index("ix_survey_invitation_survey_id_id", "survey_id", "id"),
        Index("ix_survey_invitation_workspace_id_email", "workspace_id", "email"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    profile_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("profile.id", ondelete="SET NULL"), default=None
    )
    # the identifiers the customer was given by, normalised: {"email": ..., "user_id": ...}
    customer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(40), default="email")
    touchpoint: Mapped[str | None] = mapped_column(String(100), default=None)
    source: Mapped[str] = mapped_column(String(20), default="api")  # api | trigger
    trigger_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("survey_trigger.id", ondelete="SET NULL"), default=None
    )
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("survey_link.id", ondelete="SET NULL"), default=None
    )
    dedupe_key: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[InvitationStatus] = mapped_column(
        Enum(InvitationStatus, native_enum=False, length=16, values_callable=_values),
        default=InvitationStatus.QUEUED,
    )
    skip_reason: Mapped[str | None] = mapped_column(String(60), default=None)
    send_at: Mapped[datetime] = mapped_column(default=utcnow)
    # failed tries of the delivery in progress (reset once it is sent)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    message_id: Mapped[str | None] = mapped_column(String(300), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # emails sent: the invitation, then one per reminder
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    next_reminder_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Suppression(IdMixin, TimestampMixin, Base):
    """An address that is never sent a survey again: unsubscribed, bounced or added by hand."""

    __tablename__ = "suppression"
    __table_args__ = (UniqueConstraint("workspace_id", "channel", "address"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))  # email | phone
    address: Mapped[str] = mapped_column(String(320))  # normalised
    reason: Mapped[str] = mapped_column(String(40))  # unsubscribed | bounced | complaint | manual
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class SurveyTrigger(IdMixin, TimestampMixin, Base):
    """When a customer's event matches, invite them to the survey after a delay."""

    __tablename__ = "survey_trigger"
    __table_args__ = (
        Index("ix_survey_trigger_workspace_id_is_active", "workspace_id", "is_active"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(200))
    # property filters: {"shipping": "express", "total": {"gte": 100}}
    where: Mapped[dict[str, Any]] = mapped_column(default=dict)
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str] = mapped_column(String(40), default="email")
    touchpoint: Mapped[str | None] = mapped_column(String(100), default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TriggerCursor(Base):
    """How far the trigger scan of a workspace has read the event store's manifest."""

    __tablename__ = "survey_trigger_cursor"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    # the newest ``event_file.created_at`` scanned
    scanned_until: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyContact(IdMixin, Base):
    """A customer was shown or sent a survey: what the contact-fatigue cap counts."""

    __tablename__ = "survey_contact"
    __table_args__ = (
        Index("ix_survey_contact_workspace_id_profile_id", "workspace_id", "profile_id"),
        Index("ix_survey_contact_workspace_id_email", "workspace_id", "email"),
        Index("ix_survey_contact_workspace_id_user_id", "workspace_id", "user_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    profile_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    user_id: Mapped[str | None] = mapped_column(String(400), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    channel: Mapped[str] = mapped_column(String(40))
    contacted_at: Mapped[datetime] = mapped_column(default=utcnow)
