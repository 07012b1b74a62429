"""Shapes of the customer 360 API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
