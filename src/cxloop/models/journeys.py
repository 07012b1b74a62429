"""Journey maps: stages with their touchpoints and rules, and custom milestones."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, JSONType, TimestampMixin
from cxloop.core.time import utcnow


class Journey(IdMixin, TimestampMixin, Base):
    """A journey map of a workspace.

    ``stages`` and ``milestones`` are documents checked by ``journeys.schemas`` (stage key,
    names in vi/th/en, the event matchers that place a customer in the stage, touchpoints);
    they are read and written whole, never queried inside.
    """

    __tablename__ = "journey"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
