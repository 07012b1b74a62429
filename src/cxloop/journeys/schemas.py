"""Funnels, retention, churn and paths over the event files; journey maps and touchpoints."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.analytics.funnels import MAX_STEPS, MAX_WINDOW_DAYS


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EventMatcher(Strict):
    """Which events: a track event by name (or a page/screen, by name or any), property
    filters (``{"plan": "pro"}``, ``{"revenue": {"gte": 100}}``, ``{"tier": ["a", "b"]}``)
    and a channel."""

    event: str | None = Field(None, max_length=200)
    type: Literal["track", "page", "screen"] = "track"
    where: dict[str, Any] = Field(default_factory=dict, max_length=20)
    channel: str | None = Field(None, max_length=100)


class Breakdown(Strict):
    by: Literal["property", "channel", "trait"]
    name: str = Field("", max_length=200, description="the property or trait")


class FunnelQuery(Strict):
    steps: list[EventMatcher] = Field(min_length=1, max_length=MAX_STEPS)
    window_days: float = Field(7, gt=0, le=MAX_WINDOW_DAYS)
    from_: date | None = Field(
        None, alias="from", description="First entry day (default: 30 days ago)"
    )
    to: date | None = Field(None, description="Last entry day, inclusive (default: today, UTC)")
    order: Literal["loose", "strict"] = "loose"
    breakdown: Breakdown | None = None
    dropped_sample: int = Field(20, ge=0, le=1000)


class FunnelStep(BaseModel):
    index: int
    name: str
    customers: int
    conversion: float | None = Field(description="share of the customers who entered")
    conversion_from_previous: float | None
    dropped: int = Field(description="reached the step before but not this one")
    median_seconds_to_convert: float | None
    p90_seconds_to_convert: float | None
    dropped_sample: list[str] = Field(description="ids of customers who dropped before it")


class FunnelGroup(BaseModel):
    value: str
    steps: list[FunnelStep]


class FunnelRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    window_days: float
    order: str
    steps: list[FunnelStep]
    breakdown: list[FunnelGroup] | None
    breakdown_truncated: bool


class RetentionQuery(Strict):
    period: Literal["week", "month"] = "week"
    from_: date | None = Field(None, alias="from", description="First cohort day")
    to: date | None = Field(None, description="Last cohort day, inclusive")
    periods: int = Field(12, ge=0, le=104)
    cohort: EventMatcher | None = Field(
        None, description="first event of this kind; default: first action"
    )
    returning: EventMatcher | None = Field(None, description="default: any action")


class RetentionCell(BaseModel):
    period: int
    customers: int | None
    rate: float | None


class RetentionCohort(BaseModel):
    start: date
    customers: int
    cells: list[RetentionCell]


class RetentionRead(BaseModel):
    period: str
    cohorts: list[RetentionCohort]
    average: list[RetentionCell]


class ChurnQuery(Strict):
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    inactive_days: int = Field(30, ge=1, le=3650)
    activity: EventMatcher | None = Field(None, description="default: any action")
    interval: Literal["week", "month"] | None = None
    sample: int = Field(20, ge=0, le=1000)


class ChurnFigure(BaseModel):
    start: date
    end: date = Field(description="exclusive")
    active_at_start: int
    churned: int
    rate: float | None


class ChurnRead(BaseModel):
    inactive_days: int
    overall: ChurnFigure
    series: list[ChurnFigure]
    churned_sample: list[str]
