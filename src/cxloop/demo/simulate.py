"""The demo shop, simulated: an online shop selling in Vietnam and Thailand.

:func:`simulate` is a pure function of its :class:`Config`: the same seed, size, length and
end give the same people, events, orders, answers and spend, byte for byte. It does no I/O.

1. **Marketing** (:func:`acquisition`): a budget per channel per day, raised before the big
   sales; visitors arrive in proportion to the spend (plus organic visitors who follow the
   season), on the web or by installing the app.
2. **Signing up**: a share of visitors sign up; app installs made while release 3.2.0 was
   current sign up far less often (it crashed on the sign-up screen).
3. **A customer's year** (:mod:`cxloop.demo.lifecycle`): browsing, orders, deliveries (late
   more often in peaks and holidays), support chats, refunds, reviews, referrals, emails,
   showroom visits and surveys whose answers follow what happened.
4. **Referrals** bring friends, who live their own year.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from cxloop.demo import calendar, catalog
from cxloop.demo import effects as fx
from cxloop.demo.dataset import APP, WEB, Campaign, Dataset, People, Spend
from cxloop.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_DAYS, DEFAULT_SEED
from cxloop.demo.draws import Stream, cumulative
from cxloop.demo.lifecycle import Shop
from cxloop.demo.shop import DAY, HOUR, HOUR_WEIGHTS, SECOND

# new customers from paid and organic visitors; referred friends make up the rest
FROM_VISITORS = 0.965
COUNTRY_SHARE = (0.6, 0.4)
ENGLISH_SHARE = (0.07, 0.08)  # of customers in Vietnam and in Thailand
PHONE_SHARE = 0.72
VN_MOBILE = ("90", "91", "93", "97", "98", "32", "70", "77")
TH_MOBILE = ("8", "9", "6")
CITY_WEIGHTS = [cumulative([w for _, w in cities]) for cities in catalog.CITIES]


@dataclass(frozen=True)
class Config:
    end: datetime
    customers: int = DEFAULT_CUSTOMERS
    seed: int = DEFAULT_SEED
    days: int = DEFAULT_DAYS


@dataclass
class Arrivals:
    """Visitors, in the order they came."""

    ts: NDArray[np.int64]
    source: NDArray[np.int32]  # index into ``sources``
    country: NDArray[np.int8]
    platform: NDArray[np.int8]
    sources: list[str]


def simulate(config: Config) -> Dataset:
    rng = np.random.default_rng(config.seed)
    draw = Stream(rng)
    cal = calendar.make_calendar(config.end, config.days)
    demand = [[calendar.demand(day, c) for day in _days(cal)] for c in (calendar.VN, calendar.TH)]
    arrivals, spend = acquisition(rng, cal, demand, config.customers)
    people = People()
    ids = device_ids(rng)
    shop = Shop(cal, draw, people, demand, newsletters(cal), nps_waves(cal))
    for i in range(len(arrivals.ts)):
        person = _visitor(
            ids,
            shop,
            int(arrivals.ts[i]),
            int(arrivals.country[i]),
            int(arrivals.platform[i]),
            arrivals.sources[arrivals.source[i]],
        )
        shop.arrive(person, int(arrivals.source[i]))
        if people.signed_up_us[person] >= 0:
            shop.live(person)
    _referred_friends(ids, shop, len(arrivals.sources))
    _name_customers(people)
    bad_from, bad_until = cal.bad_window
    return Dataset(
        start=cal.start,
        end=cal.end,
        seed=config.seed,
        people=people,
        events=shop.events.freeze(),
        orders=shop.orders,
        chats=shop.chats,
        reviews=shop.reviews,
        campaigns=shop.campaigns,
        answers=shop.answers,
        spend=spend,
        bad_release=(cal.bad_release.version, bad_from, bad_until),
        sources=[*arrivals.sources, catalog.REFERRAL],
        releases=[r.version for r in cal.releases],
        release_us=[
            calendar.to_micros(datetime.combine(r.day, datetime.min.time(), UTC))
            for r in cal.releases
        ],
    )


def _days(cal: calendar.Calendar) -> list[date]:
    first = cal.start.date()
    return [first + timedelta(days=i) for i in range(cal.days)]


# -- marketing and arrivals ------------------------------------------------------------------


def acquisition(
    rng: np.random.Generator, cal: calendar.Calendar, demand: list[list[float]], customers: int
) -> tuple[Arrivals, list[Spend]]:
    """Daily spend per channel, and the visitors it (and the season) brings.

    The spend is raised in the days before a peak; paid visitors are proportional to the
    spend, organic ones to the season. Visitor numbers are scaled so that about
    ``customers`` of them sign up.
    """
    n = cal.days
    days = _days(cal)
    scale = customers / DEFAULT_CUSTOMERS
    growth = np.linspace(0.85, 1.15, n)
    season = np.array(demand)
    peak = season.max(axis=0)
    ahead = np.array([peak[i : i + 3].mean() for i in range(n)])
    spend: list[Spend] = []
    streams: list[tuple[str, float, int, NDArray[np.float64]]] = []
    for channel in catalog.CHANNELS:
        amount = channel.daily_budget * scale * growth * ahead**0.8 * rng.lognormal(0, 0.12, n)
        spend += [
            Spend(d, channel.id, round(float(a), 2)) for d, a in zip(days, amount, strict=True)
        ]
        countries = [channel.country] if channel.country is not None else [calendar.VN, calendar.TH]
        for country in countries:
            share = 1.0 if len(countries) == 1 else COUNTRY_SHARE[country]
            streams.append(
                (channel.id, channel.app_share, country, amount * share * season[country] ** 0.6)
            )
    email = round(catalog.EMAIL_DAILY_COST * scale, 2)
    spend += [Spend(d, "email", email) for d in days]
    for country in (calendar.VN, calendar.TH):
        organic = 430.0 * scale * growth * season[country] * COUNTRY_SHARE[country]
        streams.append((catalog.ORGANIC, catalog.ORGANIC_APP_SHARE, country, organic))
    bad = _bad_days(cal)
    app_signup = np.where(bad, fx.SIGNUP_APP_BAD, fx.SIGNUP_APP)
    expected = sum(
        float((lam * (share * app_signup + (1 - share) * fx.SIGNUP_WEB)).sum())
        for _, share, _, lam in streams
    )
    factor = FROM_VISITORS * customers / expected
    sources = list(dict.fromkeys(name for name, *_ in streams))
    parts: list[tuple[NDArray[np.int64], int, int, NDArray[np.int8]]] = []
    for name, share, country, lam in streams:
        counts = rng.poisson(lam * factor)
        day = np.repeat(np.arange(n), counts)
        platform = (rng.random(len(day)) < share).astype(np.int8) * APP
        parts.append((day, sources.index(name), country, platform))
    return _arrivals(rng, cal, parts, sources), spend


def _bad_days(cal: calendar.Calendar) -> NDArray[np.bool_]:
    begin, finish = cal.bad_window
    days = np.array([datetime.combine(d, datetime.min.time(), UTC) for d in _days(cal)])
    return np.asarray((days >= begin) & (days < finish))


def _arrivals(
    rng: np.random.Generator,
    cal: calendar.Calendar,
    parts: list[tuple[NDArray[np.int64], int, int, NDArray[np.int8]]],
    sources: list[str],
) -> Arrivals:
    day = np.concatenate([p[0] for p in parts])
    source = np.concatenate([np.full(len(p[0]), p[1], np.int32) for p in parts])
    country = np.concatenate([np.full(len(p[0]), p[2], np.int8) for p in parts])
    platform = np.concatenate([p[3] for p in parts])
    weights = np.array(HOUR_WEIGHTS) / HOUR_WEIGHTS[-1]
    hour = np.searchsorted(weights, rng.random(len(day)), side="right")
    second = rng.integers(0, 3600, len(day))
    ts = calendar.to_micros(cal.start) + day * DAY + hour * HOUR + second * SECOND
    order = np.argsort(ts, kind="stable")
    return Arrivals(ts[order], source[order], country[order], platform[order], sources)


def newsletters(cal: calendar.Calendar) -> list[Campaign]:
    """A newsletter every two weeks, and a campaign the evening before each big sale."""
    sent: list[tuple[datetime, str]] = []
    for i, day in enumerate(_days(cal)):
        evening = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
        if i % 14 == 3:
            sent.append((evening - timedelta(hours=9), f"Newsletter {day.isoformat()}"))
        if calendar.is_sale_day(day + timedelta(days=1)):
            following = day + timedelta(days=1)
            sent.append((evening, f"{following.day}.{following.month} Sale"))
    sent.sort()
    return [
        Campaign(f"cmp-{i + 1:04d}", name, calendar.to_micros(ts))
        for i, (ts, name) in enumerate(sent)
    ]


def nps_waves(cal: calendar.Calendar) -> list[int]:
    """When the quarterly relationship NPS survey goes out."""
    waves = [cal.end - timedelta(days=d) for d in (330, 240, 150, 60)]
    kept = [w for w in waves if w >= cal.start + timedelta(days=30)]
    if not kept:
        kept = [cal.start + (cal.end - cal.start) / 2]
    return [calendar.to_micros(w.replace(hour=2, minute=0, second=0, microsecond=0)) for w in kept]


# -- people ----------------------------------------------------------------------------------


def _visitor(
    ids: Iterator[str],
    shop: Shop,
    ts: int,
    country: int,
    platform: int,
    source: str,
    referrer: int = -1,
) -> int:
    """Add a visitor and decide whether (and when) they sign up."""
    draw, people = shop.draw, shop.people
    person = len(people)
    bad = platform == APP and shop.in_bad_window(ts)
    chance = fx.SIGNUP_WEB if platform == WEB else fx.SIGNUP_APP_BAD if bad else fx.SIGNUP_APP
    if referrer >= 0:
        chance += fx.SIGNUP_REFERRED
    signed_up = -1
    if draw.chance(chance):
        later = 0 if draw.chance(0.55) else int(draw.exp(2 * DAY)) + 2 * HOUR
        signed_up = ts + later if ts + later + HOUR < shop.end else -1
    english = draw.chance(ENGLISH_SHARE[country])
    language = 2 if english else country
    first, last, email_name = _name(draw, language)
    city = catalog.CITIES[country][draw.weighted(CITY_WEIGHTS[country])][0]
    people.anonymous_id.append(next(ids))
    people.second_device.append(next(ids))
    people.user_id.append(None)
    people.country.append(country)
    people.language.append(language)
    people.platform.append(platform)
    people.source.append(source)
    people.arrived_us.append(ts)
    people.signed_up_us.append(signed_up)
    people.referrer.append(referrer)
    people.first_name.append(first)
    people.last_name.append(last)
    people.email.append(f"{email_name}{person + 1}@{catalog.EMAIL_DOMAINS[person % 3]}")
    people.phone.append(_phone(country, person) if draw.chance(PHONE_SHARE) else None)
    people.city.append(city)
    people.installed_bad_release.append(bad and signed_up >= 0)
    return person


def device_ids(rng: np.random.Generator) -> Iterator[str]:
    """Anonymous ids as Segment's libraries make them (random UUIDs), from the seed."""
    while True:
        block = rng.bytes(16 * 4096)
        for i in range(0, len(block), 16):
            yield str(uuid.UUID(bytes=block[i : i + 16], version=4))


def _name(draw: Stream, language: int) -> tuple[str, str, str]:
    """(first name, last name, the start of their email address)."""
    if language == 0:
        family, family_ascii = catalog.VI_FAMILY[draw.integer(len(catalog.VI_FAMILY))]
        given, given_ascii = catalog.VI_GIVEN[draw.integer(len(catalog.VI_GIVEN))]
        return given, family, f"{given_ascii}.{family_ascii}"
    if language == 1:
        given, given_ascii = catalog.TH_GIVEN[draw.integer(len(catalog.TH_GIVEN))]
        family, family_ascii = catalog.TH_FAMILY[draw.integer(len(catalog.TH_FAMILY))]
        return given, family, f"{given_ascii}.{family_ascii[:4]}"
    given = catalog.EN_GIVEN[draw.integer(len(catalog.EN_GIVEN))]
    family = catalog.EN_FAMILY[draw.integer(len(catalog.EN_FAMILY))]
    return given, family, f"{given.lower()}.{family.lower()}"


def _phone(country: int, person: int) -> str:
    """A mobile number in E.164, different for every person (7919 is prime to 10^7)."""
    digits = (person * 7919 + 1_234_567) % 10_000_000
    if country == calendar.VN:
        return f"+84{VN_MOBILE[person % len(VN_MOBILE)]}{digits:07d}"
    return f"+66{TH_MOBILE[person % len(TH_MOBILE)]}{person % 10}{digits:07d}"


def _referred_friends(ids: Iterator[str], shop: Shop, referral_source: int) -> None:
    """Some referrals bring the friend; they arrive days later and live their own year."""
    draw = shop.draw
    for referrer, sent in list(shop.referrals):
        if not draw.chance(fx.REFERRAL_JOINS):
            continue
        ts = sent + int(draw.exp(3 * DAY)) + HOUR
        if ts >= shop.end:
            continue
        country = shop.people.country[referrer]
        platform = APP if draw.chance(catalog.REFERRAL_APP_SHARE) else WEB
        person = _visitor(ids, shop, ts, country, platform, catalog.REFERRAL, referrer)
        shop.arrive(person, referral_source)
        if shop.people.signed_up_us[person] >= 0:
            shop.live(person)


def _name_customers(people: People) -> None:
    """User ids in the order people signed up."""
    signed = sorted((ts, person) for person, ts in enumerate(people.signed_up_us) if ts >= 0)
    for number, (_, person) in enumerate(signed, start=1):
        people.user_id[person] = f"cus-{number:06d}"
