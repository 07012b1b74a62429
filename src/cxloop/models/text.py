"""What the text analysis read in customers' own words: one row per text of a source."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, JSONType
from cxloop.core.time import utcnow


class TextSource(enum.StrEnum):
    """Where an analysed text came from."""

    SURVEY_RESPONSE = "survey_response"
    REVIEW = "review"
    MESSAGE = "message"


class TextAnalysis(IdMixin, Base):
    """Language, sentiment, themes and aspects of one text of one source.

    ``source_id`` is text so that any source can be named: for a survey response it is the
    response key (the ``response_id`` of its event, which the metrics join on). ``field``
    tells the texts of one source apart (a question id). Analysing a text again replaces
    its row.
    """

    __tablename__ = "text_analysis"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source_kind", "source_id", "field"),
        Index("ix_text_analysis_workspace_id_profile_id", "workspace_id", "profile_id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    profile_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("profile.id", ondelete="SET NULL"), default=None
    )
    source_kind: Mapped[TextSource] = mapped_column(
        Enum(
            TextSource,
            native_enum=False,
            length=20,
            values_callable=lambda members: [m.value for m in members],
        )
    )
    source_id: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(8))
    sentiment: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    polarity: Mapped[float | None] = mapped_column(Float, default=None)
    themes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    aspects: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    model_version: Mapped[str] = mapped_column(String(100))
    analysed_at: Mapped[datetime] = mapped_column(default=utcnow)
