"""The ingest inbox, the message-id register, and the manifest of event files."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, TimestampMixin
from cxloop.core.time import utcnow

# SQLite makes INTEGER PRIMARY KEY the rowid (auto-increment); PostgreSQL needs BIGINT.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class InboxBatch(Base):
    """Events acknowledged by the API and not yet in the event store (one row per request).

    The payload is deflated JSON lines: a request's checked messages as sent after a receipt
    line (the API), or normalised events (``ingest.service.record``). The hot path writes one
    row per request, never one per event.
    """

    __tablename__ = "ingest_inbox"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    event_count: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class MessageKey(Base):
    """A message id already loaded: 16 bytes of a hash of workspace and ``messageId``."""

    __tablename__ = "ingest_message"
    # on SQLite the key is the table: one B-tree to insert into instead of two
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    key: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    seen_on: Mapped[date] = mapped_column(Date)


class EventFile(IdMixin, TimestampMixin, Base):
    """One Parquet file of the event store. Readers take the files whose ``replaced_at`` is
    null: a file becomes visible, or is swapped for a compacted one, in one commit."""

    __tablename__ = "event_file"
    __table_args__ = (
        Index("ix_event_file_workspace_id_replaced_at", "workspace_id", "replaced_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    # the partition: first day of the month the file's events happened in
    period: Mapped[date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(String(400), unique=True)  # relative to the events root
    row_count: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    min_timestamp: Mapped[datetime]
    max_timestamp: Mapped[datetime]
    replaced_at: Mapped[datetime | None] = mapped_column(default=None)
    # the customer-event index that holds this file's events (compaction keeps it: it merges
    # only files held by the same index, or by none)
    index_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class EventIndex(IdMixin, TimestampMixin, Base):
    """A customer-event index of a workspace (``analytics.events.write_index``): the events of
    the files whose ``index_id`` is its id. The current one has no ``replaced_at``."""

    __tablename__ = "event_index"
    __table_args__ = (
        Index("ix_event_index_workspace_id_replaced_at", "workspace_id", "replaced_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(400), unique=True)  # relative to the events root
    event_count: Mapped[int] = mapped_column(BigInteger)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    min_timestamp: Mapped[datetime | None] = mapped_column(default=None)
    max_timestamp: Mapped[datetime | None] = mapped_column(default=None)
    replaced_at: Mapped[datetime | None] = mapped_column(default=None)
