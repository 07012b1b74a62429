"""The documents a journey map is made of: stages, their touchpoints, and milestones.

A journey's ``stages`` and ``milestones`` columns hold these documents as JSON; they are
read and written whole and checked here. Stage order is list order: Awareness comes before
Advocacy. A customer enters a stage with the first event that matches one of its ``entry``
matchers; a touchpoint is where the customer meets the business (events matching one of its
``matchers``, survey responses whose ``touchpoint`` is the touchpoint's key or whose survey is
in ``survey_ids``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cxloop.journeys.schemas import EventMatcher

KEY_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,79}$"
MAX_STAGES = 20
MAX_TOUCHPOINTS = 50
MAX_MILESTONES = 50


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Names(Doc):
    """A label in each language; ``en`` is the fallback."""

    en: str = Field(min_length=1, max_length=200)
    vi: str | None = Field(None, max_length=200)
    th: str | None = Field(None, max_length=200)

    def get(self, lang: str) -> str:
        value = getattr(self, lang, None)
        return value if isinstance(value, str) and value else self.en


class TouchpointDoc(Doc):
    key: str = Field(pattern=KEY_PATTERN)
    name: Names
    channel: str | None = Field(None, max_length=100, description="where it usually happens")
    matchers: list[EventMatcher] = Field(default_factory=list, max_length=20)
    survey_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _something_to_match(self) -> TouchpointDoc:
        if not self.matchers and not self.survey_ids:
            raise ValueError("a touchpoint needs event matchers or surveys (or both)")
        return self


class StageDoc(Doc):
    key: str = Field(pattern=KEY_PATTERN)
    name: Names
    entry: list[EventMatcher] = Field(
        default_factory=list,
        max_length=20,
        description="a customer enters the stage with the first event matching one of these",
    )
    touchpoints: list[TouchpointDoc] = Field(default_factory=list, max_length=MAX_TOUCHPOINTS)


class MilestoneDoc(Doc):
    key: str = Field(pattern=KEY_PATTERN)
    name: Names
    matcher: EventMatcher
    count: int = Field(1, ge=1, le=10_000, description="reached at the n-th matching event")


def _unique(keys: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"{what} key {key!r} is used twice")
        seen.add(key)


class JourneyDoc(Doc):
    """What ``POST /api/v1/journeys`` takes and a journey holds."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    stages: list[StageDoc] = Field(min_length=1, max_length=MAX_STAGES)
    milestones: list[MilestoneDoc] = Field(default_factory=list, max_length=MAX_MILESTONES)

    @field_validator("stages")
    @classmethod
    def _stage_keys(cls, stages: list[StageDoc]) -> list[StageDoc]:
        _unique([s.key for s in stages], "stage")
        _unique([t.key for s in stages for t in s.touchpoints], "touchpoint")
        return stages

    @field_validator("milestones")
    @classmethod
    def _milestone_keys(cls, milestones: list[MilestoneDoc]) -> list[MilestoneDoc]:
        _unique([m.key for m in milestones], "milestone")
        return milestones


def parse_stages(raw: list[dict[str, Any]]) -> list[StageDoc]:
    """A journey's stored ``stages`` column as documents."""
    return [StageDoc.model_validate(item) for item in raw]


def parse_milestones(raw: list[dict[str, Any]]) -> list[MilestoneDoc]:
    return [MilestoneDoc.model_validate(item) for item in raw]


def touchpoints(stages: Sequence[StageDoc]) -> list[tuple[StageDoc, TouchpointDoc]]:
    """Every touchpoint with the stage it belongs to, in journey order."""
    return [(stage, tp) for stage in stages for tp in stage.touchpoints]
