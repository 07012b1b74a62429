"""The period a page shows: ``?from=`` and ``?to=`` (days, inclusive) in the workspace's time
zone, the period of the same length just before it, and the instants they start and end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxloop.analytics.portable import SpecError, day_range
from cxloop.core.errors import InvalidInput
from cxloop.core.time import utcnow

MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    tz: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        return Period(
            self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.tz
        )

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=_zone(self.tz))

    @property
    def until(self) -> datetime:
        """The instant after the last day (exclusive)."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=_zone(self.tz))


def choose(start: date | None, end: date | None, tz: str, default_days: int) -> Period:
    """The period asked for, or the last ``default_days`` days up to today; a 422 naming
    ``from`` or ``to`` when it is upside down or longer than three years."""
    today = utcnow().astimezone(_zone(tz)).date()
    try:
        start, end = day_range(start, end, default_days, today)
    except SpecError as exc:
        raise InvalidInput(exc.field, exc.reason) from exc
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput("from", f"the period is longer than {MAX_DAYS} days")
    return Period(start, end, tz)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
