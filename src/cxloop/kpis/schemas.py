"""KPI reports, pack definitions, settings (pack, mapping, OMTM) and marketing spend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.analytics.kpis import Interval

PackId = Literal["ecommerce", "saas", "mobile_app", "media", "ugc", "marketplace"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventMatcher(Strict):
    """Which events: a track event by name (or a page/screen, by name or any), property
    filters and a channel."""

    event: str | None = Field(None, max_length=200)
    type: Literal["track", "page", "screen"] = "track"
    where: dict[str, Any] = Field(default_factory=dict, max_length=20)
    channel: str | None = Field(None, max_length=100)


class Names(BaseModel):
    en: str
    vi: str
    th: str


class SeriesPoint(BaseModel):
    start: dt.date
    value: float | None


class KpiRead(BaseModel):
    id: str
    pack: str
    names: Names
    definition: str
    unit: str
    higher_is_better: bool
    is_omtm: bool
    value: float | None
    previous: float | None
    change: float | None = Field(description="(value - previous) / |previous|")
    series: list[SeriesPoint]


class Omtm(BaseModel):
    pack: PackId
    kpi: str


class KpiReport(BaseModel):
    pack: str
    names: Names
    from_: dt.date = Field(alias="from")
    to: dt.date
    previous_from: dt.date
    previous_to: dt.date
    interval: Interval
    currency: str
    omtm: Omtm | None
    kpis: list[KpiRead]

    model_config = ConfigDict(populate_by_name=True)


class KpiDefinition(BaseModel):
    id: str
    names: Names
    definition: str
    unit: str
    higher_is_better: bool
    measures: list[str]


class PackRead(BaseModel):
    id: str
    names: Names
    kpis: list[KpiDefinition]


class PackList(BaseModel):
    items: list[PackRead]
    roles: dict[str, list[EventMatcher]] = Field(description="the default event of each role")


class KpiSettings(Strict):
    pack: PackId = "ecommerce"
    omtm: Omtm | None = None
    mapping: dict[str, list[EventMatcher]] = Field(
        default_factory=dict, description="role -> events, laid over the defaults"
    )
    currency: str = Field("VND", pattern=r"^[A-Z]{3}$")
    churn_days: int = Field(30, ge=1, le=3650)


class SpendRow(Strict):
    date: dt.date
    channel: str = Field(min_length=1, max_length=100)
    campaign: str = Field("", max_length=200)
    amount: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class SpendImport(Strict):
    rows: list[SpendRow] = Field(min_length=1, max_length=10_000)


class SpendImported(BaseModel):
    imported: int


class SpendRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    date: dt.date = Field(validation_alias="spent_on")
    channel: str
    campaign: str
    amount: Decimal
    currency: str


class SpendList(BaseModel):
    items: list[SpendRead]
    total: dict[str, Decimal] = Field(description="currency -> sum of the listed rows")
