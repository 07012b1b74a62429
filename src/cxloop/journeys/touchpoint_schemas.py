"""Shapes of the touchpoint API: scorecards, the weakest-touchpoint ranking and paths."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.analytics.paths import MAX_STEPS, MAX_TOP
from cxloop.analytics.touchpoints import MAX_WINDOW_DAYS
from cxloop.journeys.schemas import EventMatcher, Strict
from cxloop.surveys.metrics_schemas import CesFigure, CsatFigure, Difference, NpsFigure

Lang = Literal["en", "vi", "th"]

# -- queries --------------------------------------------------------------------------------


class ScorecardQuery(Strict):
    journey_id: uuid.UUID | None = Field(
        None,
        description="The journey map whose touchpoints to score. Without it, the touchpoints "
        "are the values of the survey responses' `touchpoint` field.",
    )
    from_: date | None = Field(None, alias="from", description="First day (default: 30 days ago)")
    to: date | None = Field(None, description="Last day, inclusive (default: today, UTC)")
    window_days: float = Field(
        30, gt=0, le=MAX_WINDOW_DAYS, description="Conversion window to the next stage."
    )
    min_responses: int = Field(
        30, ge=1, le=1_000_000, description="Fewer scored responses than this: small sample."
    )
    lang: Lang = Field("en", description="Language of names and sentences.")


class RankingQuery(ScorecardQuery):
    metric: Literal["nps", "csat", "ces"] = Field("nps", description="The score to rank by.")


class PathQuery(Strict):
    journey_id: uuid.UUID | None = Field(
        None, description="Paths between this journey's touchpoints; without it, event names."
    )
    anchor: str | EventMatcher = Field(
        description="A touchpoint key of the journey, or an event matcher."
    )
    direction: Literal["next", "previous"] = "next"
    steps: int = Field(3, ge=1, le=MAX_STEPS)
    top: int = Field(5, ge=1, le=MAX_TOP, description="Nodes kept per step; the rest: (other)")
    from_: date | None = Field(None, alias="from", description="First day (default: 30 days ago)")
    to: date | None = Field(None, description="Last day, inclusive (default: today, UTC)")
    lang: Lang = "en"


# -- answers --------------------------------------------------------------------------------


class Names(BaseModel):
    en: str
    vi: str | None = None
    th: str | None = None


class Conversion(BaseModel):
    next_stage: str | None = Field(description="key of the next stage; null in the last one")
    customers: int | None = Field(
        description="customers who entered the next stage after meeting the touchpoint; "
        "null when that stage has no entry rules"
    )
    rate: float | None = Field(description="of the customers reached")
    window_days: float


class Scorecard(BaseModel):
    key: str
    name: str
    names: Names | None = Field(description="in every language; null without a journey")
    stage: str | None
    stage_name: str | None
    channel: str | None
    volume: int = Field(description="events that met the touchpoint (a response once)")
    reach: int = Field(description="customers who met it (a merged customer once)")
    responses: int = Field(description="survey responses attributed to it")
    respondents: int
    small_sample: bool = Field(description="fewer responses than min_responses")
    nps: NpsFigure
    csat: CsatFigure
    ces: CesFigure
    conversion: Conversion | None = Field(description="null without a journey")


class JourneyFigures(BaseModel):
    responses: int = Field(description="responses attributed to any touchpoint, once each")
    nps: NpsFigure
    csat: CsatFigure
    ces: CesFigure


class Range(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    journey_id: uuid.UUID | None
    from_: date = Field(alias="from")
    to: date


class ScorecardsRead(Range):
    window_days: float
    min_responses: int
    journey: JourneyFigures
    items: list[Scorecard]


class Reason(BaseModel):
    code: str = Field(
        description="lowest_<metric>, below_journey, in_line_with_journey, above_journey "
        "or insufficient_sample"
    )
    detail: str
    vs_journey: Difference | None = Field(description="this touchpoint - the rest of the journey")
    vs_next: Difference | None = Field(description="the touchpoint ranked next - this one")


class RankedItem(BaseModel):
    rank: int | None = Field(description="1 is the weakest; null when not ranked")
    key: str
    name: str
    value: float | None = Field(description="NPS, CSAT % or CES mean")
    ci_low: float | None
    ci_high: float | None
    n: int
    reason: Reason
    scorecard: Scorecard


class RankingRead(Range):
    metric: str
    min_responses: int
    ranked: int = Field(description="touchpoints with enough responses to be ranked")
    order: str = Field(description="the ordering rule")
    journey: NpsFigure | CsatFigure | CesFigure
    items: list[RankedItem]


class Week(BaseModel):
    week: date = Field(description="the Monday")
    volume: int
    reach: int
    responses: int
    nps: NpsFigure
    csat: CsatFigure
    ces: CesFigure


class TouchpointRead(Range):
    scorecard: Scorecard
    trend: list[Week]


class PathItem(BaseModel):
    key: str
    label: str
    customers: int
    share: float | None = Field(description="of the customers who had the anchor")


class PathStep(BaseModel):
    step: int
    customers: int
    share: float | None
    items: list[PathItem]
    other_keys: int = Field(description="distinct nodes summed in (other)")


class SankeyNode(BaseModel):
    id: str
    step: int
    key: str
    label: str


class SankeyLink(BaseModel):
    source: int = Field(description="index in nodes")
    target: int
    value: int = Field(description="customers")


class Sankey(BaseModel):
    nodes: list[SankeyNode]
    links: list[SankeyLink]


class PathsRead(Range):
    anchor: str
    direction: str
    customers: int = Field(description="customers who had the anchor in the range")
    steps: list[PathStep]
    sankey: Sankey
