"""Shapes of the distribution API: invitations, reminders, triggers, suppressions and the
contact policy."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cxloop.models import InvitationStatus
from cxloop.surveys.schemas import Language


class InvitationCustomer(BaseModel):
    """A customer to invite: identifiers and/or a profile id; the language and name fall
    back to the profile's ``language``/``locale`` and ``first_name``/``name`` traits."""

    model_config = ConfigDict(extra="forbid")

    profile_id: uuid.UUID | None = None
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=40)
    user_id: str | None = Field(None, max_length=400)
    anonymous_id: str | None = Field(None, max_length=400)
    language: Language | None = None
    name: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if not any((self.profile_id, self.email, self.phone, self.user_id, self.anonymous_id)):
            raise ValueError("give an email, phone, user_id, anonymous_id or profile_id")
        return self

    def identifiers(self) -> dict[str, str]:
        kinds = ("email", "phone", "user_id", "anonymous_id")
        return {k: v for k in kinds if (v := getattr(self, k))}


class EventAudience(BaseModel):
    """Everyone who did ``event`` in ``[from, to)``, optionally with property filters."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    event: str = Field(min_length=1, max_length=200)
    since: datetime = Field(alias="from")
    until: datetime = Field(alias="to")
    where: dict[str, Any] = Field(default_factory=dict)
    limit: int = Field(1000, ge=1, le=10_000)


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers: list[InvitationCustomer] = Field(default_factory=list, max_length=1000)
    did_event: EventAudience | None = Field(
        None, description="Also invite every customer who did this event between two dates."
    )
    touchpoint: str | None = Field(None, max_length=100)
    send_at: datetime | None = Field(None, description="When to send (default: now).")
    expires_at: datetime | None = Field(None, description="When the links stop working.")

    @model_validator(mode="after")
    def _anyone(self) -> Self:
        if not self.customers and self.did_event is None:
            raise ValueError("give customers, did_event or both")
        return self


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    survey_id: uuid.UUID
    profile_id: uuid.UUID | None
    email: str | None
    language: str
    channel: str
    touchpoint: str | None
    source: str
    trigger_id: uuid.UUID | None
    status: InvitationStatus
    skip_reason: str | None
    send_at: datetime
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    message_id: str | None
    deliveries: int
    next_reminder_at: datetime | None
    answered_at: datetime | None
    unsubscribed_at: datetime | None
    created_at: datetime


class InvitationBatch(BaseModel):
    queued: int
    skipped: int
    items: list[InvitationRead]


class InvitationList(BaseModel):
    items: list[InvitationRead]
    next_cursor: str | None


class DistributionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminder_after_days: int = Field(3, ge=1, le=90)
    max_reminders: int = Field(1, ge=0, le=5)
    answer_cooldown_days: int | None = Field(
        90, ge=0, le=3650, description="Do not invite who answered within these days."
    )


class DistributionRead(DistributionUpdate):
    model_config = ConfigDict(from_attributes=True)

    survey_id: uuid.UUID
    updated_at: datetime


class ContactPolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days_between_surveys: int = Field(
        ge=0, le=365, description="At most one survey per customer within these days (0: no cap)."
    )


class ContactPolicyRead(ContactPolicyUpdate):
    model_config = ConfigDict(from_attributes=True)

    updated_at: datetime


class SuppressionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "phone"] = "email"
    address: str = Field(min_length=1, max_length=320)
    reason: Literal["manual", "unsubscribed", "bounced", "complaint"] = "manual"


class SuppressionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: str
    address: str
    reason: str
    invitation_id: uuid.UUID | None
    created_at: datetime


class SuppressionList(BaseModel):
    items: list[SuppressionRead]
    next_cursor: str | None


class TriggerCreate(BaseModel):
    """When ``event`` happens to a customer (and its properties pass ``where``), invite them
    after ``delay_minutes``."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=200, examples=["Order Delivered"])
    where: dict[str, Any] = Field(default_factory=dict, examples=[{"shipping": "express"}])
    delay_minutes: int = Field(0, ge=0, le=60 * 24 * 90)
    channel: Literal["email"] = "email"
    touchpoint: str | None = Field(None, max_length=100)
    is_active: bool = True


class TriggerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    survey_id: uuid.UUID
    event: str
    where: dict[str, Any]
    delay_minutes: int
    channel: str
    touchpoint: str | None
    is_active: bool
    created_at: datetime


class TriggerList(BaseModel):
    items: list[TriggerRead]
