"""KPI settings of a workspace (pack, event mapping, the one metric that matters) and the
marketing spend imported for customer acquisition cost."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.core.db import Base, IdMixin, JSONType, TimestampMixin
from cxloop.core.time import utcnow


class KpiSetting(Base):
    """One row per workspace, made on first change; absent means the defaults."""

    __tablename__ = "kpi_setting"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    pack: Mapped[str] = mapped_column(String(40), default="ecommerce")
    # the one metric that matters: a KPI id of ``omtm_pack``
    omtm_pack: Mapped[str | None] = mapped_column(String(40), default=None)
    omtm: Mapped[str | None] = mapped_column(String(60), default=None)
    # role -> list of event matchers, laid over the Segment-spec defaults
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    churn_days: Mapped[int] = mapped_column(default=30)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MarketingSpend(IdMixin, TimestampMixin, Base):
    """Money spent on acquiring customers on one day, channel and campaign."""

    __tablename__ = "marketing_spend"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id",
            "spent_on",
            "channel",
            "campaign",
            "currency",
            name="uq_marketing_spend_day_channel_campaign",
        ),
        Index("ix_marketing_spend_workspace_id_spent_on", "workspace_id", "spent_on"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    spent_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(100))
    campaign: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
