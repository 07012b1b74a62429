"""Durable background jobs and their periodic schedules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, TimestampMixin
from cxloop.core.enums import JobStatus
from cxloop.core.time import utcnow


class Job(IdMixin, TimestampMixin, Base):
    __tablename__ = "job"
    __table_args__ = (
        # The worker's claim query: queued jobs due now, oldest first.
        Index("ix_job_status_run_at", "status", "run_at"),
    )

    workspace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[JobStatus] = mapped_column(
        Enum(
            JobStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        ),
        default=JobStatus.QUEUED,
    )
    # Unique while set: a second enqueue with the same key is dropped (schedules, idempotency).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    locked_by: Mapped[str | None] = mapped_column(String(100), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class JobSchedule(Base):
    """A periodic job. Workers race to advance ``next_run_at``; the winner enqueues the run."""

    __tablename__ = "job_schedule"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    job_name: Mapped[str] = mapped_column(String(100))
    interval_seconds: Mapped[int]
    next_run_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)


class Lease(Base):
    """A named lock with an expiry, held by one process at a time (the single loader)."""

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
