"""Shapes of the feedback metrics API: the query parameters and the figures it answers with."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from cxloop.analytics.feedback import DEFAULT_MIN_N, Interval

# -- query parameters -----------------------------------------------------------------------


class MetricFilters(BaseModel):
    """Which responses count. Repeat a parameter for several values (any of them)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    survey_id: list[str] = Field(default_factory=list, description="Only these surveys.")
    since: datetime | None = Field(
        None, alias="from", description="Responses from this time (inclusive)."
    )
    until: datetime | None = Field(
        None, alias="to", description="Responses before this time (exclusive)."
    )
    tz: str = Field(
        "UTC",
        description="IANA time zone of the trend's buckets and of times given without a zone.",
    )
    touchpoint: list[str] = Field(default_factory=list, description="Only these touchpoints.")
    channel: list[str] = Field(default_factory=list, description="Only these channels.")
    language: list[str] = Field(default_factory=list, description="Only these languages.")
    stage: list[str] = Field(default_factory=list, description="Only these journey stages.")
    complete_only: bool = Field(False, description="Only completed responses.")
    question_id: str | None = Field(
        None,
        description="Take the score from the answer to this question instead of the "
        "metric's own field of the response.",
    )
    per_customer: bool = Field(
        False,
        description="Count only each customer's latest response to each survey (customers "
        "merged later count once).",
    )
    min_n: int = Field(
        DEFAULT_MIN_N,
        ge=1,
        le=1_000_000,
        description="Fewer answers than this: `small_sample` is true and tests are refused.",
    )


class MeasureQuery(MetricFilters):
    by: str | None = Field(
        None,
        description="Break down by touchpoint, stage, channel, language, survey, "
        "sentiment or theme (of the free-text answers; a response is in each theme it "
        "mentions) or trait.<name> (a profile trait); `groups` then lists each value.",
    )
    interval: Interval | None = Field(
        None, description="`trend` by day, week (from Monday) or month, in `tz`."
    )


class CompareQuery(MetricFilters):
    """Two groups of a `by` field (`a`, `b`), or two periods (`a.from`..`b.to`). Without
    either: the last 30 days against the 30 days before."""

    by: str | None = Field(None, description="The field whose values `a` and `b` are.")
    a: str | None = Field(None, description="With `by`: the value of side a.")
    b: str | None = Field(None, description="With `by`: the value of side b.")
    a_since: datetime | None = Field(None, alias="a.from", description="Start of period a.")
    a_until: datetime | None = Field(None, alias="a.to", description="End of period a.")
    b_since: datetime | None = Field(None, alias="b.from", description="Start of period b.")
    b_until: datetime | None = Field(None, alias="b.to", description="End of period b.")


# -- answers --------------------------------------------------------------------------------

Distribution = dict[str, int]


class NpsFigure(BaseModel):
    nps: float | None = Field(description="% promoters - % detractors, -100..100")
    ci_low: float | None = Field(description="95% interval (adjusted Wald)")
    ci_high: float | None
    n: int
    promoters: int = Field(description="answers 9-10")
    passives: int = Field(description="answers 7-8")
    detractors: int = Field(description="answers 0-6")
    small_sample: bool = Field(description="n is under min_n")
    distribution: Distribution = Field(description="answers per score")


class CsatFigure(BaseModel):
    csat: float | None = Field(description="% of answers 4-5 (top-2-box)")
    ci_low: float | None = Field(description="95% interval (Wilson)")
    ci_high: float | None
    mean: float | None = Field(description="mean score, 1-5")
    mean_ci_low: float | None = Field(description="95% interval (Student's t)")
    mean_ci_high: float | None
    n: int
    satisfied: int = Field(description="answers 4-5")
    small_sample: bool
    distribution: Distribution


class CesFigure(BaseModel):
    ces: float | None = Field(description="mean score, 1-7")
    ci_low: float | None = Field(description="95% interval (Student's t)")
    ci_high: float | None
    easy_pct: float | None = Field(description="% of answers 5-7")
    easy_ci_low: float | None = Field(description="95% interval (Wilson)")
    easy_ci_high: float | None
    n: int
    easy: int = Field(description="answers 5-7")
    small_sample: bool
    distribution: Distribution


class NpsGroup(NpsFigure):
    key: str


class NpsBucket(NpsFigure):
    period: date = Field(description="first day of the bucket")


class NpsRead(NpsFigure):
    metric: str
    min_n: int
    groups: list[NpsGroup] | None = None
    trend: list[NpsBucket] | None = None


class CsatGroup(CsatFigure):
    key: str


class CsatBucket(CsatFigure):
    period: date


class CsatRead(CsatFigure):
    metric: str
    min_n: int
    groups: list[CsatGroup] | None = None
    trend: list[CsatBucket] | None = None


class CesGroup(CesFigure):
    key: str


class CesBucket(CesFigure):
    period: date


class CesRead(CesFigure):
    metric: str
    min_n: int
    groups: list[CesGroup] | None = None
    trend: list[CesBucket] | None = None


class Difference(BaseModel):
    """b - a for one measure; refused (not an error) when a side has fewer than min_n."""

    measure: str
    test: str
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    statistic: float | None
    p_value: float | None
    significant: bool | None = Field(description="p < 0.05; null when refused")
    refused: bool
    reason: str | None


class Side(BaseModel):
    label: str = Field(description="the group's value, or the period as from/to")
    since: datetime | None = Field(None, alias="from")
    until: datetime | None = Field(None, alias="to")


class NpsSide(NpsFigure, Side):
    pass


class CsatSide(CsatFigure, Side):
    pass


class CesSide(CesFigure, Side):
    pass


class _Compared(Difference):
    metric: str
    min_n: int
    by: str | None
    secondary: list[Difference] = Field(description="the metric's other measures, b - a")


class NpsComparison(_Compared):
    a: NpsSide
    b: NpsSide


class CsatComparison(_Compared):
    a: CsatSide
    b: CsatSide


class CesComparison(_Compared):
    a: CesSide
    b: CesSide


class Driver(BaseModel):
    """Responses with a theme (or at a touchpoint) against the others: NPS with - without."""

    kind: str = Field(description="theme or touchpoint")
    key: str = Field(description="the theme or the touchpoint")
    effect: float = Field(description="NPS with - NPS without, points (-200..200)")
    ci_low: float = Field(description="95% interval of the effect (two-sample z)")
    ci_high: float
    p_value: float
    significant: bool = Field(description="p < 0.05")
    nps_with: float | None
    nps_without: float | None
    n_with: int
    n_without: int = Field(
        description="themes: other responses with an analysed text; touchpoints: all others"
    )
    small_sample: bool = Field(description="a side has fewer answers than min_n")
    sentence: str = Field(description="the driver in words")


class Drivers(BaseModel):
    min_n: int
    items: list[Driver] = Field(description="largest effect (either way) first")
