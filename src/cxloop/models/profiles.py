"""Customer profiles, the identifiers that point at them, merges between them, and the
per-workspace identity rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, TimestampMixin
from cxloop.core.time import utcnow


class Profile(IdMixin, TimestampMixin, Base):
    """One customer. A merged profile keeps its row and points at the one it became."""

    __tablename__ = "profile"
    __table_args__ = (
        Index("ix_profile_workspace_id_merged_into_id", "workspace_id", "merged_into_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    # Always the final survivor (merges compress the chain), so one hop finds the customer.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    merged_at: Mapped[datetime | None] = mapped_column(default=None)
    first_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    traits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # trait name -> ISO time of the event that set it; an older event never overwrites a newer one
    trait_times: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # channel -> number of events seen on it
    channels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # event type -> count (track, identify, page, ...)
    counters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_count: Mapped[int] = mapped_column(default=0)
    merge_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(IdMixin, TimestampMixin, Base):
    """One identifier (kind + normalised value) and the profile it belongs to."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "value"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(400))
    profile_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profile.id", ondelete="CASCADE"), index=True
    )
    first_seen_at: Mapped[datetime | None] = mapped_column(default=None)


class ProfileMerge(IdMixin, TimestampMixin, Base):
    """Why two profiles became one: the audit trail that explains a customer."""

    __tablename__ = "profile_merge"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    from_profile_id: Mapped[uuid.UUID] = mapped_column(index=True)
    into_profile_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(40))  # identify | alias | track | ...
    message_id: Mapped[str] = mapped_column(String(200), default="")
    # the identifiers of the message that linked the two profiles
    identifiers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # identifiers dropped from the message because a limit or the merge cap forbade them
    dropped: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IdentityRuleSet(Base):
    """A workspace's identity rules (priority, limits, blocked values, merge cap, region)."""

    __tablename__ = "identity_rule_set"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
