"""What the journey-map API takes and gives: maps, their templates, stage distributions,
milestones and one customer's journey."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cxloop.journeys.documents import (
    MAX_STAGES,
    JourneyDoc,
    MilestoneDoc,
    Names,
    StageDoc,
    invalid,
)


class JourneyCreate(JourneyDoc):
    """A whole journey document, or ``{"template": "default", "name": ...}`` for the
    template's stages and milestones."""

    template: Literal["default"] | None = Field(
        None, description="start from this template instead of giving stages"
    )
    stages: list[StageDoc] = Field(default_factory=list, max_length=MAX_STAGES)

    @model_validator(mode="after")
    def _stages_or_template(self) -> JourneyCreate:
        if self.template is None and not self.stages:
            raise invalid("JourneyCreate", [(("stages",), "give the stages, or a template")])
        if self.template is not None and (self.stages or self.milestones):
            raise invalid(
                "JourneyCreate",
                [(("template",), "give a template or stages and milestones, not both")],
            )
        return self


class JourneyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    stages: list[StageDoc]
    milestones: list[MilestoneDoc]
    created_at: datetime
    updated_at: datetime


class JourneyList(BaseModel):
    items: list[JourneyRead]
    next_cursor: str | None = Field(description="`after` for the next page")


class TemplateRead(BaseModel):
    key: str
    name: Names
    description: Names
    journey: JourneyDoc


class TemplateList(BaseModel):
    items: list[TemplateRead]


# -- figures --------------------------------------------------------------------------------


class StageRef(BaseModel):
    index: int = Field(description="position in journey order, from 0")
    key: str
    name: Names


class StageFigure(StageRef):
    customers: int = Field(description="customers whose current stage this is")
    share: float | None = Field(description="of the customers placed in any stage")


class StagePoint(StageFigure):
    entered: int = Field(description="customers who entered the stage in this period")


class StageSnapshot(BaseModel):
    start: date
    end: date = Field(description="exclusive: the counts hold at the start of this day (UTC)")
    customers: int = Field(description="customers placed in any stage")
    stages: list[StagePoint]


class CurrentStages(BaseModel):
    at: datetime
    customers: int
    stages: list[StageFigure]


class StageDistributionRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    journey_id: uuid.UUID
    from_: date = Field(alias="from")
    to: date
    interval: str
    current: CurrentStages
    series: list[StageSnapshot]


class MilestonePoint(BaseModel):
    start: date
    end: date = Field(description="exclusive")
    reached: int


class MilestoneFigure(BaseModel):
    key: str
    name: Names
    count: int = Field(description="reached at the n-th matching event")
    reached_before: int = Field(description="customers who had reached it before `from`")
    reached: int = Field(description="customers who reached it from `from` to `to`")
    total: int = Field(description="customers who had reached it by the end of `to`")
    series: list[MilestonePoint]


class MilestonesRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    journey_id: uuid.UUID
    from_: date = Field(alias="from")
    to: date
    interval: str
    milestones: list[MilestoneFigure]


class EventRef(BaseModel):
    message_id: str
    type: str
    name: str | None = Field(description="the track event's name, or the page or screen name")
    channel: str | None


class StageEntry(StageRef):
    entered_at: datetime
    event: EventRef = Field(description="the event that placed the customer in the stage")


class MilestoneReached(BaseModel):
    key: str
    name: Names
    reached_at: datetime
    event: EventRef


class JourneyRef(BaseModel):
    id: uuid.UUID
    name: str


class CustomerJourneyRead(BaseModel):
    customer_id: uuid.UUID = Field(description="the profile the customer is now")
    journey: JourneyRef
    current_stage: StageEntry | None = Field(description="the furthest stage entered")
    history: list[StageEntry] = Field(description="every stage entered, by time of entry")
    milestones: list[MilestoneReached] = Field(description="milestones reached, by time")


Interval = Literal["day", "week", "month"]
