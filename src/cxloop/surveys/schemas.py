"""Shapes of the surveys API: survey definitions (questions, skip logic, texts in vi/th/en),
surveys, their versions and their responses.

Each field is checked here on its own; the rules that look at several fields at once
(unique ids, conditions that name earlier questions, ...) are in :mod:`definitions`, which
reports every problem with its path.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cxloop.models import ResponseSource, SurveyStatus

Language = Literal["vi", "th", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "th", "en")
Stage = Literal[
    "awareness", "consideration", "purchase", "onboarding", "retention", "expansion", "advocacy"
]
QuestionType = Literal["nps", "csat", "ces", "rating", "single_choice", "multiple_choice", "text"]
Operator = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "answered"]

SCORE_TYPES = ("nps", "csat", "ces", "rating")
CHOICE_TYPES = ("single_choice", "multiple_choice")
# the fixed scales; a rating runs from 1 to its ``scale``
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

SLUG = r"^[a-z][a-z0-9_]{0,59}$"
Slug = Annotated[str, Field(pattern=SLUG, description="a-z, 0-9 and _, starting with a letter")]
# language -> text, e.g. {"vi": "...", "th": "...", "en": "..."}
Texts = dict[Language, Annotated[str, Field(max_length=2000)]]


def localise(texts: dict[str, str] | None, language: str, default: str) -> str:
    """The text in ``language``, else in the survey's ``default`` language, else English,
    else in whichever language there is."""
    if not texts:
        return ""
    for lang in (language, default, "en"):
        text = texts.get(lang)
        if text:
            return text
    return next((t for t in texts.values() if t), "")


def _strip(texts: dict[Language, str] | None) -> dict[Language, str] | None:
    if texts is None:
        return None
    return {lang: text.strip() for lang, text in texts.items() if text.strip()}


class Choice(BaseModel):
    """One option of a choice question; its ``id`` is what an answer holds."""

    model_config = ConfigDict(extra="forbid")

    id: Slug
    label: Texts

    @field_validator("label")
    @classmethod
    def _clean(cls, value: dict[Language, str]) -> dict[Language, str] | None:
        return _strip(value)


class Condition(BaseModel):
    """Show a question only when an earlier answer passes a test, e.g.
    ``{"question": "nps", "op": "lte", "value": 6}``. A condition on a question that was
    not answered is false (``answered`` tests exactly that)."""

    model_config = ConfigDict(extra="forbid")

    question: Slug
    op: Operator
    value: int | str | list[int | str] | None = None


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug = Field(description="Stable across versions: answers are stored under it.")
    type: QuestionType
    required: bool | None = Field(
        default=None, description="Default: true for nps, csat, ces and rating; else false."
    )
    title: Texts
    description: Texts | None = None
    choices: list[Choice] | None = Field(
        default=None, max_length=50, description="single_choice and multiple_choice only."
    )
    scale: int | None = Field(
        default=None, ge=2, le=10, description="rating only: the highest rating (default 5)."
    )
    style: Literal["stars", "emoji"] | None = Field(default=None, description="rating only.")
    max_length: int | None = Field(
        default=None, ge=1, le=5000, description="text only: longest answer (default 2000)."
    )
    show_if: Condition | list[Condition] | None = Field(
        default=None, description="Ask only when the condition (or every one listed) holds."
    )

    @field_validator("title", "description")
    @classmethod
    def _clean(cls, value: dict[Language, str] | None) -> dict[Language, str] | None:
        return _strip(value)

    @property
    def is_required(self) -> bool:
        return self.required if self.required is not None else self.type in SCORE_TYPES

    @property
    def conditions(self) -> list[Condition]:
        if self.show_if is None:
            return []
        return self.show_if if isinstance(self.show_if, list) else [self.show_if]

    def bounds(self) -> tuple[int, int] | None:
        """Lowest and highest score of a score question."""
        if self.type == "rating":
            return 1, self.scale or 5
        return SCALES.get(self.type)


class SurveyDefinition(BaseModel):
    """What a version of a survey asks: its questions, in order, and its texts."""

    model_config = ConfigDict(extra="forbid")

    questions: list[Question] = Field(min_length=1, max_length=100)
    intro: Texts | None = None
    thank_you: Texts | None = None

    @field_validator("intro", "thank_you")
    @classmethod
    def _clean(cls, value: dict[Language, str] | None) -> dict[Language, str] | None:
        return _strip(value)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def first_of(self, question_type: str) -> Question | None:
        return next((q for q in self.questions if q.type == question_type), None)


# -- surveys ----------------------------------------------------------------------------------


class SurveySettings(BaseModel):
    """What describes a survey besides its questions."""

    model_config = ConfigDict(extra="forbid")

    touchpoint: str | None = Field(
        default=None, min_length=1, max_length=100, description="e.g. post-delivery, checkout"
    )
    stage: Stage | None = Field(default=None, description="The journey stage it listens to.")
    default_language: Language | None = Field(
        default=None,
        description="Texts missing in a respondent's language are shown in this one, then in "
        "English. Default: the workspace's language when every title has it, else English.",
    )
    languages: list[Language] | None = Field(
        default=None,
        min_length=1,
        description="Languages offered. Default: those every title is written in.",
    )
    response_limit: int | None = Field(
        default=None, ge=1, description="Close the survey after this many complete responses."
    )
    closes_at: datetime | None = Field(default=None, description="Take no responses after this.")


class SurveyCreate(SurveySettings, SurveyDefinition):
    """A new survey. It is active (takes responses at once) unless ``status`` is draft."""

    name: str = Field(min_length=1, max_length=200)
    status: Literal["draft", "active"] = "active"


class SurveyUpdate(SurveySettings):
    """Changes to a survey; fields left out stay as they are. Changed questions become a
    new version once the current one has responses."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    questions: list[Question] | None = Field(default=None, min_length=1, max_length=100)
    intro: Texts | None = None
    thank_you: Texts | None = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: SurveyStatus = Field(
        description="draft -> active -> paused -> active ... -> closed; closed is final."
    )


class SurveyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    status: SurveyStatus
    touchpoint: str | None
    stage: str | None
    default_language: str
    languages: list[str]
    response_limit: int | None
    response_count: int = Field(description="Complete responses.")
    closes_at: datetime | None
    closed_at: datetime | None
    current_version: int
    created_at: datetime
    updated_at: datetime


class SurveyList(BaseModel):
    items: list[SurveyRead]
    next_cursor: str | None = Field(description="Pass as `before` to get the next page.")


class VersionSummary(BaseModel):
    version: int
    created_at: datetime
    question_ids: list[str]
    response_count: int = Field(description="Responses (complete or not) to this version.")


class SurveyDetail(SurveyRead):
    definition: SurveyDefinition = Field(description="The questions of the current version.")
    versions: list[VersionSummary]


class VersionRead(BaseModel):
    survey_id: uuid.UUID
    version: int
    created_at: datetime
    definition: SurveyDefinition


class TemplateRead(BaseModel):
    key: str
    name: dict[str, str]
    survey: SurveyCreate


class TemplateList(BaseModel):
    items: list[TemplateRead]


# -- responses --------------------------------------------------------------------------------


class ResponseCreate(BaseModel):
    """A customer's answers. ``customer`` names them by any identifiers: ``email``,
    ``phone``, ``user_id``, ``anonymous_id`` or another kind such as ``line_id`` or
    ``zalo_id``; without any, the response is anonymous."""

    model_config = ConfigDict(extra="forbid")

    customer: dict[str, str | int] | None = Field(default=None, max_length=20)
    answers: dict[str, Any] = Field(default_factory=dict, max_length=100)
    touchpoint: str | None = Field(
        default=None, min_length=1, max_length=100, description="Default: the survey's."
    )
    channel: str | None = Field(
        default=None,
        max_length=40,
        description="web, app, email, chat, store, ... Default: from where it came in.",
    )
    language: Language | None = Field(default=None, description="Default: the survey's.")
    submitted_at: datetime | None = Field(default=None, description="Default: now.")
    started_at: datetime | None = None
    response_id: uuid.UUID | None = Field(
        default=None,
        description="The client's key for this response: posting it again replaces the "
        "answers instead of adding a response.",
    )
    version: int | None = Field(
        default=None, ge=1, description="The version answered. Default: the current one."
    )
    is_complete: bool = Field(
        default=True, description="False saves answers part way; required ones may be missing."
    )


class ResponseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    response_id: uuid.UUID = Field(validation_alias="response_key")
    survey_id: uuid.UUID
    version: int
    customer: dict[str, Any]
    profile_id: uuid.UUID | None
    user_id: str | None
    anonymous_id: str | None
    touchpoint: str | None
    channel: str
    language: str
    answers: dict[str, Any]
    is_complete: bool
    source: ResponseSource
    started_at: datetime | None
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ResponseList(BaseModel):
    items: list[ResponseRead]
    next_cursor: str | None = Field(description="Pass as `before` to get the next page.")
