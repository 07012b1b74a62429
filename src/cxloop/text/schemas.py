"""Shapes of the text API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from cxloop.text.language import Language

Text = Annotated[str, StringConstraints(max_length=20_000)]


class AnalyzeRequest(BaseModel):
    texts: list[Text] = Field(
        min_length=1, description="Texts to analyse (the limit is CXLOOP_TEXT_MAX_BATCH)."
    )


class AspectRead(BaseModel):
    theme: str
    sentiment: str
    score: float = Field(description="Confidence of the sentiment, 0..1.")
    polarity: float = Field(description="-1 (negative) .. 1 (positive).")
    span: str = Field(description="The clause the aspect was read from.")


class AnalysisRead(BaseModel):
    text: str
    language: Language
    sentiment: str
    score: float = Field(description="Probability of the sentiment label, 0..1.")
    polarity: float | None = Field(description="P(positive) - P(negative), -1..1.")
    themes: list[str]
    aspects: list[AspectRead]


class AnalyzeResponse(BaseModel):
    items: list[AnalysisRead]


class DiscoverRequest(BaseModel):
    texts: list[Text] = Field(min_length=1)
    max_themes: int = Field(default=8, ge=1, le=50)


class DiscoveredThemeRead(BaseModel):
    label: str
    keywords: list[str]
    size: int
    examples: list[str]


class DiscoverResponse(BaseModel):
    items: list[DiscoveredThemeRead]
