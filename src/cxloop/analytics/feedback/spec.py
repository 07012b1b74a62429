"""What a feedback figure asks for: the metric, filters, breakdown and periods."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EVENT = "Survey Responded"
NONE = "(none)"  # the group of responses without a value for the field
TRAIT = "trait."
FIELDS = {  # `by` and filter fields -> property of the event
    "survey": "survey_id",
    "touchpoint": "touchpoint",
    "stage": "stage",
    "channel": "channel",
    "language": "language",
}
# `by` fields whose values the caller gives per response (``labels``: the stored analyses of
# the responses' free-text answers); a response is in each theme it mentions
TEXT_FIELDS = ("sentiment", "theme")
QUESTION_ID = re.compile(r"[A-Za-z0-9_\-]{1,100}")
DEFAULT_MIN_N = 30


class Metric(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


SCALE = {Metric.NPS: (0, 10), Metric.CSAT: (1, 5), Metric.CES: (1, 7)}


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, from Monday
    MONTH = "month"


class SpecError(ValueError):
    """A spec that cannot be measured; ``field`` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Filters:
    """Which responses count. Several values of one field mean any of them."""

    survey_ids: Sequence[str] = ()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    touchpoints: Sequence[str] = ()
    channels: Sequence[str] = ()
    languages: Sequence[str] = ()
    stages: Sequence[str] = ()
    complete_only: bool = False

    def __post_init__(self) -> None:
        for name, moment in (("from", self.since), ("to", self.until)):
            if moment is not None and moment.tzinfo is None:
                raise SpecError(name, "needs a time zone")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise SpecError("to", "must be later than from")


@dataclass(frozen=True)
class Spec:
    """One figure to measure: a metric, which responses, and how to break it down."""

    metric: Metric
    filters: Filters = field(default_factory=Filters)
    question_id: str | None = None  # score from answers.<id> instead of the metric's field
    by: str | None = None  # a key of FIELDS, TEXT_FIELDS, or "trait.<name>" (given by the caller)
    interval: Interval | None = None
    tz: str = "UTC"  # of the trend's buckets
    min_n: int = DEFAULT_MIN_N  # fewer answers than this: small_sample
    per_customer: bool = False  # only each customer's latest response to each survey

    def __post_init__(self) -> None:
        if self.by is not None and self.by not in FIELDS and self.by not in TEXT_FIELDS:
            name = self.by.removeprefix(TRAIT)
            if not self.by.startswith(TRAIT) or not 0 < len(name.strip()) <= 100:
                known = ", ".join([*FIELDS, *TEXT_FIELDS])
                raise SpecError("by", f"one of {known} or trait.<name>, not {self.by!r}")
        if self.question_id is not None and not QUESTION_ID.fullmatch(self.question_id):
            raise SpecError("question_id", "letters, digits, '_' and '-' only (up to 100)")
        if self.min_n < 1:
            raise SpecError("min_n", "must be at least 1")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise SpecError("tz", f"no time zone {self.tz!r} (an IANA name)") from None

    @property
    def trait(self) -> str | None:
        """The profile trait the breakdown is by, if any."""
        if self.by is not None and self.by.startswith(TRAIT):
            return self.by.removeprefix(TRAIT)
        return None

    @property
    def labelled(self) -> bool:
        """Whether the breakdown is by a value the caller gives per response."""
        return self.by in TEXT_FIELDS


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in time."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Sides:
    """The two samples of a comparison: two values of ``spec.by``, or two periods."""

    a: str | Period
    b: str | Period
