"""Shapes of the customer 360 API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IdentityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str
    first_seen_at: datetime | None


class MergeRead(BaseModel):
    """Why two profiles became one customer."""

    model_config = ConfigDict(from_attributes=True)

    from_profile_id: uuid.UUID
    into_profile_id: uuid.UUID
    reason: str
    message_id: str
    identifiers: dict[str, Any]
    dropped: dict[str, Any]
    created_at: datetime


class CustomerRead(BaseModel):
    id: uuid.UUID
    merged_ids: list[uuid.UUID]
    identities: list[IdentityRead]
    traits: dict[str, Any]
    trait_times: dict[str, Any]
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    channels: dict[str, Any]
    counters: dict[str, Any]
    event_count: int
    merges: list[MergeRead]


class TextAnalysisRead(BaseModel):
    """What the text analysis read in one of the customer's texts."""

    model_config = ConfigDict(from_attributes=True)

    source_kind: str = Field(description="survey_response, review or message")
    source_id: str = Field(description="For a survey response: its response id.")
    field: str = Field(description="Which text of the source (a question id).")
    language: str
    sentiment: str
    score: float = Field(description="Probability of the sentiment label, 0..1.")
    themes: list[str]
    analysed_at: datetime


class CustomerDetail(CustomerRead):
    text_analyses: list[TextAnalysisRead] = Field(
        description="The latest analyses of the customer's texts, newest first."
    )


class CustomerList(BaseModel):
    items: list[CustomerRead]


class TimelineItem(BaseModel):
    message_id: str
    type: str
    event: str | None
    name: str | None
    channel: str
    timestamp: datetime
    received_at: datetime
    profile_id: uuid.UUID
    user_id: str | None
    anonymous_id: str | None
    properties: dict[str, Any] | None
    traits: dict[str, Any] | None
    context: dict[str, Any] | None


class Timeline(BaseModel):
    customer_id: uuid.UUID
    items: list[TimelineItem]
    next_cursor: str | None
