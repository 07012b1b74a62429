"""Shapes of a survey's public faces: the hosted page's theme, the review link offered to
promoters, the web widget's rules, and personal links."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cxloop.surveys.schemas import Language

_COLOUR = r"^#[0-9a-fA-F]{6}$"


def _web_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// address")
    return value


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_color: str | None = Field(
        default=None, pattern=_COLOUR, description="#rrggbb: buttons and chosen answers."
    )
    logo_url: str | None = Field(default=None, max_length=2000, description="Shown at the top.")

    _check_logo = field_validator("logo_url")(_web_url)


class WidgetRules(BaseModel):
    """When the web widget shows the survey: on pages whose address matches, after an
    event, to a share of visitors; a visitor who closed it is not asked again for
    ``snooze_days``."""

    model_config = ConfigDict(extra="forbid")

    url_contains: str | None = Field(default=None, min_length=1, max_length=500)
    url_regex: str | None = Field(default=None, min_length=1, max_length=500)
    event: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Show after this event (cxloop('track', name) or analytics.js track).",
    )
    delay_seconds: int = Field(default=0, ge=0, le=3600)
    sample_percent: int = Field(default=100, ge=0, le=100)
    snooze_days: int = Field(
        default=30, ge=0, le=3650, description="Days a visitor who closed it is not asked again."
    )
    position: str = Field(default="bottom-right", pattern=r"^(bottom-right|bottom-left)$")


class PageSettings(BaseModel):
    """A survey's page and widget settings; fields left out are cleared."""

    model_config = ConfigDict(extra="forbid")

    theme: Theme = Field(default_factory=Theme)
    review_url: str | None = Field(
        default=None, max_length=2000, description="Offered to promoters on the thank-you page."
    )
    widget: WidgetRules | None = Field(default=None, description="Null: no widget.")

    _check_review = field_validator("review_url")(_web_url)


class PageRead(PageSettings):
    survey_id: uuid.UUID
    page_path: str = Field(description="The hosted page: /s/{survey_id}.")
    widget_key: str | None = Field(description="The public key a site embeds; null: no widget.")
    embed_snippet: str | None = Field(description="The HTML to paste into a site.")


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: dict[str, str] | None = Field(default=None, max_length=20)
    channel: str = Field(default="email", min_length=1, max_length=40)
    language: Language | None = None
    touchpoint: str | None = Field(default=None, min_length=1, max_length=100)
    expires_at: datetime | None = Field(default=None, description="Default: in 30 days.")


class LinkRead(BaseModel):
    link_id: uuid.UUID
    token: str
    path: str
    expires_at: datetime


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)
