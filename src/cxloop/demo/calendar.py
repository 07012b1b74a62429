"""The demo shop's calendar: the days people shop more (Tết, Songkran, the 11.11 and 12.12
sales), the days couriers fall behind, and the app releases.

Everything here is a plain function of a date, so the simulator stays a pure function of its
configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

VN, TH = 0, 1
COUNTRIES = ("VN", "TH")

# Lunar New Year's day (Tết Nguyên Đán), the first day of the three-day holiday.
LUNAR_NEW_YEAR = {
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}
WEEKDAY = (0.96, 0.94, 0.95, 0.97, 1.02, 1.12, 1.10)  # Monday first


def lunar_new_year(year: int) -> date:
    """Tết of ``year``; years outside the table get the mean date (5 February)."""
    return LUNAR_NEW_YEAR.get(year, date(year, 2, 5))


def _tet_factor(day: date) -> float:
    """Vietnam: people stock up in the three weeks before Tết and stop during it."""
    for year in (day.year, day.year + 1):
        offset = (day - lunar_new_year(year)).days
        if -21 <= offset <= -3:
            return 1.0 + 0.9 * (offset + 22) / 19
        if -2 <= offset <= 4:
            return 0.45
    return 1.0


def _songkran_factor(day: date) -> float:
    """Thailand: gifts and travel goods before Songkran (13-15 April), a lull during it."""
    if day.month == 4 and 1 <= day.day <= 11:
        return 1.4
    if day.month == 4 and 12 <= day.day <= 16:
        return 0.6
    return 1.0


def _sale_factor(day: date) -> float:
    """The double-day sales of both countries: 9.9 and 10.10 small, 11.11 and 12.12 big."""
    if day.month == day.day and day.month in (11, 12):
        return 5.0 if day.month == 11 else 4.0
    if day.month in (11, 12) and abs(day.day - day.month) == 1:
        return 1.8
    if day.month == day.day and day.month in (9, 10):
        return 1.7
    return 1.0


def demand(day: date, country: int) -> float:
    """How many more people shop on ``day`` than on an ordinary day, in ``country``."""
    factor = WEEKDAY[day.weekday()] * _sale_factor(day)
    if country == VN:
        factor *= _tet_factor(day)
    else:
        factor *= _songkran_factor(day)
    return factor


def is_sale_day(day: date) -> bool:
    return _sale_factor(day) > 1.5


def holiday_shutdown(day: date, country: int) -> bool:
    """Couriers and warehouses barely work: Tết in Vietnam, Songkran in Thailand."""
    if country == VN:
        return -2 <= (day - lunar_new_year(day.year)).days <= 6 or (
            -2 <= (day - lunar_new_year(day.year + 1)).days <= 6
        )
    return day.month == 4 and 12 <= day.day <= 17


# Late deliveries: a base rate per country, more when the parcels of the last days pile up.
LATE_BASE = (0.06, 0.05)
LATE_PER_LOAD = 0.16  # added per unit of demand above normal over the three days of handling
LATE_SHUTDOWN = 0.40  # added when the delivery runs into a holiday shutdown
LATE_CAP = 0.75


def late_pressure(ordered: date, country: int) -> float:
    """What the day adds to the chance of a late delivery: parcels piling up after busy
    days, and couriers stopping for a holiday within the five days of handling."""
    load = sum(demand(ordered - timedelta(days=k), country) for k in range(3)) / 3
    extra = LATE_PER_LOAD * max(0.0, load - 1.0)
    if any(holiday_shutdown(ordered + timedelta(days=k), country) for k in range(5)):
        extra += LATE_SHUTDOWN
    return extra


def late_probability(pressure: float, country: int, carrier_factor: float) -> float:
    """The chance that an order arrives after its promised date."""
    return min(LATE_CAP, LATE_BASE[country] * carrier_factor + pressure)


@dataclass(frozen=True)
class Release:
    version: str
    day: date


@dataclass(frozen=True)
class Calendar:
    """The simulated period and what happens in it."""

    start: datetime
    end: datetime
    releases: tuple[Release, ...]
    bad_release: Release
    bad_release_days: int

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def bad_window(self) -> tuple[datetime, datetime]:
        begin = datetime.combine(self.bad_release.day, datetime.min.time(), UTC)
        return begin, begin + timedelta(days=self.bad_release_days)

    def day_of(self, micros: int) -> date:
        return datetime.fromtimestamp(micros / 1_000_000, UTC).date()


def make_calendar(end: datetime, days: int, bad_release_days: int = 21) -> Calendar:
    """The period of ``days`` days before ``end``, with the app's releases placed in it.

    Version 3.2.0 breaks sign-up in the app about four months before the end (two thirds of
    the way through a shorter period) and 3.2.1 fixes it ``bad_release_days`` later.
    """
    start = end - timedelta(days=days)
    lead = min(125, int(days * 0.34))
    bad_day = (end - timedelta(days=lead)).date()
    fix_day = bad_day + timedelta(days=bad_release_days)
    before = [
        Release("3.0.4", start.date() - timedelta(days=30)),
        Release("3.1.0", bad_day - timedelta(days=max(1, min(75, days // 5)))),
    ]
    bad = Release("3.2.0", bad_day)
    after = [
        Release("3.2.1", fix_day),
        Release("3.3.0", fix_day + timedelta(days=max(1, min(50, lead // 2)))),
    ]
    releases = tuple(r for r in [*before, bad, *after] if r.day <= end.date())
    return Calendar(start, end, releases, bad, bad_release_days)


def to_micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond
