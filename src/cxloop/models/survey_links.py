"""What the public faces of a survey need: personal links, and the page and widget settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, JSONType, TimestampMixin
from cxloop.core.time import utcnow


class SurveyLink(IdMixin, TimestampMixin, Base):
    """A personal, single-use link to a survey. The signed token carries only the id; the
    rest lives here, so a use or a revocation holds in every process at once. The link's id
    is also the key of its response, so each step of the page saves to the same response."""

    __tablename__ = "survey_link"
    __table_args__ = (Index("ix_survey_link_workspace_id_survey_id", "workspace_id", "survey_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    # the identifiers of the customer the link was made for: {"email": ..., "user_id": ...}
    customer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channel: Mapped[str] = mapped_column(String(40), default="email")
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    touchpoint: Mapped[str | None] = mapped_column(String(100), default=None)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class SurveyPage(IdMixin, TimestampMixin, Base):
    """How a survey looks and where its widget appears. Kept apart from the versions of its
    questions: a new colour or widget rule is not a new version of what was asked."""

    __tablename__ = "survey_page"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), unique=True
    )
    # {"brand_color": "#0b5cad", "logo_url": "https://..."}
    theme: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # offered to promoters on the thank-you page
    review_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    # {"url_contains" | "url_regex", "event", "delay_seconds", "sample_percent", ...}; null: off
    widget: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    # the public key a site embeds to show this survey's widget (not a secret)
    widget_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
