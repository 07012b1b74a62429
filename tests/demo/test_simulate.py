"""The demo simulator: the same seed gives the same shop, and the causes it is built on show
in the data it makes (what an analyst with the events and the answers would find)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from cxloop.demo import calendar, catalog, comments
from cxloop.demo.dataset import APP, KIND, Dataset
from cxloop.demo.draws import Stream
from cxloop.demo.segment import Encoder
from cxloop.demo.simulate import Config, simulate
from cxloop.text.taxonomy import DEFAULT_TAXONOMY, Matcher

END = datetime(2026, 11, 30, 12, tzinfo=UTC)
DAY_US = 86_400_000_000


@pytest.fixture(scope="module")
def shop() -> Dataset:
    """A year of a shop with 3,000 customers: enough for the effects to stand out."""
    return simulate(Config(end=END, customers=3000, seed=11))


def test_the_same_seed_gives_the_same_shop() -> None:
    config = Config(end=END, customers=250, seed=3, days=120)
    first, second = simulate(config), simulate(config)
    assert len(first.events) > 10_000
    for column in ("ts", "kind", "person", "device", "known", "channel", "ref", "ref2"):
        assert np.array_equal(getattr(first.events, column), getattr(second.events, column))
    assert first.people == second.people
    assert first.orders == second.orders
    assert first.answers == second.answers
    assert first.spend == second.spend
    assert Encoder(first, "x").lines(0, 2000) == Encoder(second, "x").lines(0, 2000)
    other = simulate(Config(end=END, customers=250, seed=4, days=120))
    assert other.people.anonymous_id != first.people.anonymous_id
    assert len(other.events) != len(first.events)


def test_events_span_the_period_in_every_channel(shop: Dataset) -> None:
    events = shop.events
    start_us = int(shop.start.timestamp() * 1_000_000)
    end_us = int(shop.end.timestamp() * 1_000_000)
    assert start_us <= events.ts.min()
    assert events.ts.max() < end_us
    assert bool(np.all(np.diff(events.ts) >= 0))
    # a million events for 20,000 customers: at least 50 per customer
    assert len(events) >= 50 * shop.customers
    assert set(np.unique(events.channel).tolist()) == set(range(6))
    assert 2800 <= shop.customers <= 3200


def test_visitors_browse_anonymously_before_signing_up(shop: Dataset) -> None:
    events, people = shop.events, shop.people
    signed = events.of_kind("Signed Up")
    person = int(events.person[signed][0])
    mine = events.person == person
    first = int(np.argmax(mine))
    assert not events.known[first]  # the first visit is anonymous
    assert events.ts[first] <= events.ts[signed][0]
    assert people.user_id[person] is not None
    never = [p for p in range(len(people)) if people.user_id[p] is None]
    assert len(never) > shop.customers  # most visitors never sign up


def test_late_deliveries_lower_csat_and_nps(shop: Dataset) -> None:
    csat: dict[bool, list[int]] = {True: [], False: []}
    nps: dict[bool, list[int]] = {True: [], False: []}
    for answer in shop.answers:
        if answer.survey == "delivery" and not shop.orders[answer.about].defective:
            late = shop.orders[answer.about].late
            csat[late].append(answer.answers["csat"])
            nps[late].append(answer.answers["nps"])
    assert len(csat[True]) >= 40
    assert statistics.mean(csat[False]) - statistics.mean(csat[True]) > 1.0
    assert statistics.mean(nps[False]) - statistics.mean(nps[True]) > 1.5


def test_late_deliveries_raise_churn(shop: Dataset) -> None:
    """Customers whose first delivery came late order again less often."""
    by_person: dict[int, list[int]] = {}
    for index, order in enumerate(shop.orders):
        by_person.setdefault(order.person, []).append(index)
    horizon = int((shop.end - timedelta(days=150)).timestamp() * 1_000_000)
    again: dict[bool, list[bool]] = {True: [], False: []}
    for indices in by_person.values():
        ordered = sorted(indices, key=lambda i: shop.orders[i].placed_us)
        first = shop.orders[ordered[0]]
        if first.delivered_us < 0 or first.delivered_us > horizon or first.defective:
            continue
        again[first.late].append(len(ordered) > 1)
    assert len(again[True]) >= 40
    on_time = sum(again[False]) / len(again[False])
    late = sum(again[True]) / len(again[True])
    assert on_time - late > 0.12, (on_time, late)


def test_the_bad_release_hurts_app_onboarding(shop: Dataset) -> None:
    version, begin, finish = shop.bad_release
    assert version == "3.2.0"
    people = shop.people
    lo, hi = int(begin.timestamp() * 1e6), int(finish.timestamp() * 1e6)
    window = hi - lo

    def signup_share(since: int, until: int) -> float:
        installs = [
            p
            for p in range(len(people))
            if people.platform[p] == APP
            and people.referrer[p] < 0
            and since <= people.arrived_us[p] < until
        ]
        return sum(people.signed_up_us[p] >= 0 for p in installs) / len(installs)

    during = signup_share(lo, hi)
    around = signup_share(lo - 3 * window, hi + 3 * window)  # includes the window: diluted
    assert around - during > 0.12, (around, during)
    app_csat: dict[bool, list[int]] = {True: [], False: []}
    for answer in shop.answers:
        if answer.survey == "app_onboarding":
            bad = lo <= people.signed_up_us[answer.person] < hi
            app_csat[bad].append(answer.answers["csat"])
    assert statistics.mean(app_csat[False]) - statistics.mean(app_csat[True]) > 1.0
    crashes = shop.events.ts[shop.events.of_kind("Application Crashed")]
    assert np.mean((crashes >= lo) & (crashes < hi)) == 1.0


def test_peaks_bring_orders_and_late_deliveries(shop: Dataset) -> None:
    orders = [o for o in shop.orders if o.promised is not None]
    days = [datetime.fromtimestamp(o.placed_us / 1e6, UTC).date() for o in orders]
    big = [d.month == d.day and d.month in (11, 12) for d in days]
    per_sale_day = sum(big) / 2
    per_day = (len(orders) - sum(big)) / (len(set(days)) - 2)
    assert per_sale_day > 2 * per_day
    sale = [calendar.is_sale_day(d) for d in days]
    late_sale = np.mean([o.late for o, s in zip(orders, sale, strict=True) if s])
    late_other = np.mean([o.late for o, s in zip(orders, sale, strict=True) if not s])
    assert late_sale > late_other + 0.1


def test_spend_drives_paid_visitors(shop: Dataset) -> None:
    """Week by week, paid visitors follow the paid spend."""
    start = shop.start.date()
    paid = {c.id for c in catalog.CHANNELS}
    spend, visitors = np.zeros(53), np.zeros(53)
    for row in shop.spend:
        if row.channel in paid:
            spend[(row.day - start).days // 7] += row.amount
    for ts, source in zip(shop.people.arrived_us, shop.people.source, strict=True):
        if source in paid:
            visitors[(datetime.fromtimestamp(ts / 1e6, UTC).date() - start).days // 7] += 1
    assert np.corrcoef(spend[:52], visitors[:52])[0, 1] > 0.6


def test_comments_speak_the_customers_language_and_name_the_theme() -> None:
    matcher, draw = Matcher(DEFAULT_TAXONOMY), Stream(np.random.default_rng(1))
    for language in ("vi", "th", "en"):
        for theme in comments.THEMES[:-1]:
            for sentiment in comments.SENTIMENTS:
                for _ in range(6):
                    text = comments.comment(
                        draw,
                        language,
                        theme,
                        sentiment,
                        days=3,
                        product="Air fryer",
                        carrier="GHN",
                    )
                    assert theme in matcher.find(text), (language, theme, sentiment, text)
                    if language == "th":
                        assert any("\u0e00" <= ch <= "\u0e7f" for ch in text)


def test_answers_and_reviews_carry_comments_in_three_languages(shop: Dataset) -> None:
    texts = [
        v
        for a in shop.answers
        for k, v in a.answers.items()
        if k.endswith(("comment", "improve", "highlight"))
    ]
    assert len(texts) > 300
    assert any("ạ" in t or "ả" in t or "ệ" in t for t in texts)
    assert any("\u0e00" <= t[0] <= "\u0e7f" for t in texts)
    assert any(t.isascii() and " the " in t for t in texts)
    reviews = [r for r in shop.reviews if r.body]
    assert reviews
    assert sum(shop.events.of_kind("Product Reviewed")) == len(shop.reviews)
    assert {o.payment for o in shop.orders} >= {"cod", "promptpay"}
    assert KIND["Referral Sent"] in set(shop.events.kind.tolist())
    assert catalog.CURRENCY == "USD"
