"""What a KPI pack is asked: the pack, the period and the interval of its series, and the
groups (the period, the one before, each bucket) every figure is computed for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from cxloop.analytics.kpis.definitions import PACKS, Kpi
from cxloop.analytics.portable import (
    Matcher,
    SpecError,
    check_days,
    day_number,
    month_number,
    month_start,
    week_start,
)

MAX_BUCKETS = 400


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class KpiSpec:
    pack: str
    start: date
    end: date  # inclusive
    interval: Interval = Interval.WEEK
    mapping: Mapping[str, Sequence[Matcher]] = field(default_factory=dict)
    spend: Mapping[date, float] = field(default_factory=dict)  # per day
    churn_days: int = 30
    only: Sequence[str] = ()  # KPI ids; empty: the whole pack

    def check(self) -> None:
        if self.pack not in PACKS:
            raise SpecError("pack", f"unknown pack; use {', '.join(PACKS)}")
        check_days(self.start, self.end)
        if len(buckets(self)) > MAX_BUCKETS:
            raise SpecError("interval", f"more than {MAX_BUCKETS} points; use a longer one")
        if not 1 <= self.churn_days <= 3650:
            raise SpecError("churn_days", "between 1 and 3650")
        known = {k.id for k in PACKS[self.pack]}
        for kpi_id in self.only:
            if kpi_id not in known:
                raise SpecError("kpi", f"{kpi_id!r} is not in the {self.pack} pack")

    @property
    def kpis(self) -> list[Kpi]:
        return [k for k in PACKS[self.pack] if not self.only or k.id in self.only]

    @property
    def length(self) -> timedelta:
        return self.end - self.start + timedelta(days=1)


@dataclass(frozen=True)
class Group:
    key: str
    start: date
    stop: date  # exclusive


def bucket_index(interval: Interval, day: date) -> int:
    if interval is Interval.DAY:
        return day_number(day)
    if interval is Interval.WEEK:
        return (day_number(day) + 3) // 7
    return month_number(day)


def bucket_begin(interval: Interval, index: int) -> date:
    if interval is Interval.DAY:
        return date(1970, 1, 1) + timedelta(days=index)
    if interval is Interval.WEEK:
        return week_start(index)
    return month_start(index)


def buckets(spec: KpiSpec) -> list[Group]:
    """The series' groups: each bucket of the interval, clipped to the period."""
    stop = spec.end + timedelta(days=1)
    first, last = bucket_index(spec.interval, spec.start), bucket_index(spec.interval, spec.end)
    if last - first >= MAX_BUCKETS:
        return [Group("x", spec.start, stop)] * (MAX_BUCKETS + 1)
    return [
        Group(
            f"b{i}",
            max(bucket_begin(spec.interval, i), spec.start),
            min(bucket_begin(spec.interval, i + 1), stop),
        )
        for i in range(first, last + 1)
    ]


def periods(spec: KpiSpec) -> list[Group]:
    stop = spec.end + timedelta(days=1)
    return [Group("cur", spec.start, stop), Group("prev", spec.start - spec.length, spec.start)]
