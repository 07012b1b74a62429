"""The documents a journey map is made of: stages, their touchpoints, and milestones.

A journey's ``stages`` and ``milestones`` columns hold these documents as JSON; they are
read and written whole and checked here. Stage order is list order: Awareness comes before
Advocacy. A customer enters a stage with the first event that matches one of its ``entry``
matchers (or its ``count``-th such event: "a second order"); a touchpoint is where the customer
meets the business (events matching one of its ``matchers``, survey responses whose
``touchpoint`` is the touchpoint's key or whose survey is in ``survey_ids``).

A journey is checked whole when it is parsed: keys are unique (stages and touchpoints across
the journey, milestones among themselves) and every matcher can run. Each problem is reported
at its own path, e.g. ``["stages", 3, "key"]`` or ``["milestones", 0, "matcher", "event"]``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from cxloop.analytics.portable import Matcher, SpecError
from cxloop.journeys.schemas import EventMatcher

KEY_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,79}$"
MAX_STAGES = 20
MAX_TOUCHPOINTS = 50
MAX_MILESTONES = 50
MAX_COUNT = 10_000

Loc = tuple[str | int, ...]


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


class EntryMatcher(EventMatcher):
    """An entry rule: events of a kind, and which of them places the customer."""

    count: int = Field(
        1, ge=1, le=MAX_COUNT, description="entered at the n-th matching event (2: a second order)"
    )


class StageDoc(Doc):
    key: str = Field(pattern=KEY_PATTERN)
    name: Names
    entry: list[EntryMatcher] = Field(
        default_factory=list,
        max_length=20,
        description="a customer enters the stage when one of these is first met",
    )
    touchpoints: list[TouchpointDoc] = Field(default_factory=list, max_length=MAX_TOUCHPOINTS)


class MilestoneDoc(Doc):
    key: str = Field(pattern=KEY_PATTERN)
    name: Names
    matcher: EventMatcher
    count: int = Field(1, ge=1, le=MAX_COUNT, description="reached at the n-th matching event")


class JourneyDoc(Doc):
    """What ``POST /api/v1/journeys`` takes and a journey holds."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    stages: list[StageDoc] = Field(min_length=1, max_length=MAX_STAGES)
    milestones: list[MilestoneDoc] = Field(default_factory=list, max_length=MAX_MILESTONES)

    @model_validator(mode="after")
    def _consistent(self) -> JourneyDoc:
        problems = journey_problems(self)
        if problems:
            raise invalid(type(self).__name__, problems)
        return self


def invalid(title: str, problems: Sequence[tuple[Loc, str]]) -> ValidationError:
    """A validation error with each problem at its own path, to raise from a validator."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=None)
            for loc, message in problems
        ],
    )


def as_matcher(model: EventMatcher) -> Matcher:
    """The analytics matcher of a document's matcher."""
    return Matcher(
        event=model.event, type=model.type, where=dict(model.where), channel=model.channel
    )


def matcher_problems(model: EventMatcher, loc: Loc) -> list[tuple[Loc, str]]:
    """Why a matcher cannot run (a track event without a name, a bad ``where``), at its path."""
    try:
        as_matcher(model).check("m")
    except SpecError as exc:
        return [(loc + _tail(exc.field.removeprefix("m."), model), exc.reason)]
    return []


def _tail(path: str, model: EventMatcher) -> Loc:
    # a property name may itself be dotted ("address.city"): match it whole
    if path.startswith("where."):
        rest = path.removeprefix("where.")
        for name in sorted(model.where, key=len, reverse=True):
            if rest == name:
                return ("where", name)
            if rest.startswith(name + "."):
                return ("where", name, rest[len(name) + 1 :])
    return tuple(path.split("."))


def journey_problems(doc: JourneyDoc) -> list[tuple[Loc, str]]:
    """Every rule across fields that ``doc`` breaks, each with its path."""
    problems: list[tuple[Loc, str]] = []
    stages: list[tuple[str, Loc]] = []
    tps: list[tuple[str, Loc]] = []
    for i, stage in enumerate(doc.stages):
        stages.append((stage.key, ("stages", i)))
        for j, rule in enumerate(stage.entry):
            problems += matcher_problems(rule, ("stages", i, "entry", j))
        for j, tp in enumerate(stage.touchpoints):
            tps.append((tp.key, ("stages", i, "touchpoints", j)))
            for k, matcher in enumerate(tp.matchers):
                problems += matcher_problems(
                    matcher, ("stages", i, "touchpoints", j, "matchers", k)
                )
    milestones: list[tuple[str, Loc]] = []
    for i, milestone in enumerate(doc.milestones):
        milestones.append((milestone.key, ("milestones", i)))
        problems += matcher_problems(milestone.matcher, ("milestones", i, "matcher"))
    problems += _duplicates(stages, "stage") + _duplicates(tps, "touchpoint")
    return problems + _duplicates(milestones, "milestone")


def _duplicates(keys: Sequence[tuple[str, Loc]], what: str) -> list[tuple[Loc, str]]:
    first: dict[str, Loc] = {}
    problems: list[tuple[Loc, str]] = []
    for key, loc in keys:
        if key in first:
            where = ".".join(map(str, first[key]))
            problems.append(((*loc, "key"), f"{what} key {key!r} is used twice (first at {where})"))
        first.setdefault(key, loc)
    return problems


def parse_stages(raw: list[dict[str, Any]]) -> list[StageDoc]:
    """A journey's stored ``stages`` column as documents."""
    return [StageDoc.model_validate(item) for item in raw]


def parse_milestones(raw: list[dict[str, Any]]) -> list[MilestoneDoc]:
    return [MilestoneDoc.model_validate(item) for item in raw]


def touchpoints(stages: Sequence[StageDoc]) -> list[tuple[StageDoc, TouchpointDoc]]:
    """Every touchpoint with the stage it belongs to, in journey order."""
    return [(stage, tp) for stage in stages for tp in stage.touchpoints]
