"""Funnels over hand-made event files: counts, order, window edges, merges, breakdowns."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from cxloop.analytics import funnels
from cxloop.analytics.funnels import (
    Breakdown,
    BreakdownKind,
    FunnelSpec,
    Order,
    funnel_sql,
    run,
)
from cxloop.analytics.portable import Matcher, SpecError, to_spark
from tests.fixtures.events import T0, engine, ev

H = timedelta(hours=1)
DAY = date(2026, 11, 2)
VIEW, ADD, BUY = Matcher("Product Viewed"), Matcher("Product Added"), Matcher("Order Completed")


def spec(*steps: Matcher, **kw: object) -> FunnelSpec:
    args: dict[str, object] = {"start": DAY, "end": DAY, "window": timedelta(days=7)}
    args.update(kw)
    return FunnelSpec(steps=list(steps) or [VIEW, ADD, BUY], **args)  # type: ignore[arg-type]


def counts(result: object) -> list[int]:
    return [s.customers for s in result.steps]  # type: ignore[attr-defined]


def test_loose_funnel_counts_conversion_times_and_who_dropped(tmp_path: Path) -> None:
    rows = [
        *[ev("a", e.event, T0 + i * H) for i, e in enumerate((VIEW, ADD, BUY))],
        ev("b", "Product Viewed", T0),
        ev("b", "Product Added", T0 + 3 * H),
        ev("c", "Product Viewed", T0),
        ev("c", "Order Completed", T0 + H),  # before the add: not a conversion
        ev("c", "Product Added", T0 + 2 * H),
        ev("d", "Product Viewed", T0),
        ev("e", "Product Added", T0),  # never entered
        ev("f", "Checkout Started", T0),
    ]
    result = run(engine(tmp_path, rows), spec())
    assert counts(result) == [4, 3, 1]
    first, second, third = result.steps
    assert (first.conversion, second.conversion, third.conversion) == (1.0, 0.75, 0.25)
    assert third.conversion_from_previous == pytest.approx(1 / 3)
    assert (second.dropped, third.dropped) == (1, 2)
    assert second.dropped_sample == ["d"]
    assert third.dropped_sample == ["b", "c"]
    # times to reach step 2: a 1 h, b 3 h, c 2 h -> median 2 h, p90 = 2 h + 0.8 * 1 h
    assert second.median_seconds_to_convert == 7200
    assert second.p90_seconds_to_convert == pytest.approx(7200 + 0.8 * 3600)
    assert third.median_seconds_to_convert == 7200
    assert first.median_seconds_to_convert is None


def test_strict_order_wants_the_very_next_action(tmp_path: Path) -> None:
    rows = [
        ev("a", "Product Viewed", T0),
        ev("a", "Product Added", T0 + H),
        ev("b", "Product Viewed", T0),
        ev("b", None, T0 + H / 2, type="page", name="Help"),  # an action in between
        ev("b", "Product Added", T0 + H),
        ev("c", "Product Viewed", T0),
        ev("c", None, T0 + H / 2, type="identify"),  # not an action: does not break
        ev("c", "Product Added", T0 + H),
    ]
    eng = engine(tmp_path, rows)
    assert counts(run(eng, spec(VIEW, ADD, order=Order.STRICT))) == [3, 2]
    assert counts(run(eng, spec(VIEW, ADD, order=Order.LOOSE))) == [3, 3]


def test_window_edges_are_inclusive_and_later_starts_leave_more_room(tmp_path: Path) -> None:
    window = timedelta(days=2)
    rows = [
        ev("exact", "Product Viewed", T0),
        ev("exact", "Product Added", T0 + window),
        ev("late", "Product Viewed", T0),
        ev("late", "Product Added", T0 + window + timedelta(microseconds=1)),
        ev("same", "Product Viewed", T0),
        ev("same", "Product Added", T0),  # same instant: not after
        # a second entry (on the next day, outside the entry range) does not start a chain,
        # but a second entry inside it does: the later start leaves room
        ev("again", "Product Viewed", T0 - timedelta(hours=8)),
        ev("again", "Product Viewed", T0 + timedelta(hours=10)),
        ev("again", "Product Added", T0 + timedelta(days=2, hours=5)),
    ]
    result = run(engine(tmp_path, rows), spec(VIEW, ADD, window=window))
    assert counts(result) == [4, 2]
    assert result.steps[1].dropped_sample == ["late", "same"]
    times = sorted([window.total_seconds(), timedelta(days=1, hours=19).total_seconds()])
    assert result.steps[1].median_seconds_to_convert == sum(times) / 2


def test_entry_range_and_completion_after_it(tmp_path: Path) -> None:
    rows = [
        ev("before", "Product Viewed", T0 - timedelta(days=1)),
        ev("before", "Product Added", T0),
        ev("last_day", "Product Viewed", T0 + timedelta(hours=14)),  # 23:00 UTC on the day
        ev("last_day", "Product Added", T0 + timedelta(days=3)),  # after 'to', in the window
        ev("after", "Product Viewed", T0 + timedelta(days=1)),
    ]
    result = run(engine(tmp_path, rows), spec(VIEW, ADD))
    assert counts(result) == [1, 1]


def test_a_merged_customer_counts_once(tmp_path: Path) -> None:
    rows = [
        ev("anon", "Product Viewed", T0),
        ev("known", "Product Viewed", T0 + H),
        ev("known", "Product Added", T0 + 2 * H),
    ]
    merged = run(engine(tmp_path / "m", rows, {"anon": "known"}), spec(VIEW, ADD))
    assert counts(merged) == [1, 1]
    # the first view counts as the entry: 2 h to add, not 1 h
    assert merged.steps[1].median_seconds_to_convert == 3600
    apart = run(engine(tmp_path / "a", rows), spec(VIEW, ADD))
    assert counts(apart) == [2, 1]


def test_where_filters_and_channels(tmp_path: Path) -> None:
    rows = [
        ev("a", "Order Completed", T0, revenue=120, plan="pro"),
        ev("b", "Order Completed", T0, revenue=80, plan="pro"),
        ev("c", "Order Completed", T0, revenue=200, plan="free", channel="app"),
        ev("d", "Order Completed", T0, plan="team", coupon="X"),
    ]
    eng = engine(tmp_path, rows)

    def n(**kw: object) -> int:
        return counts(run(eng, spec(Matcher("Order Completed", **kw))))[0]  # type: ignore[arg-type]

    assert n(where={"plan": "pro"}) == 2
    assert n(where={"revenue": {"gte": 100}}) == 2
    assert n(where={"revenue": {"gt": 80, "lt": 200}}) == 1
    assert n(where={"plan": ["free", "team"]}) == 2
    assert n(where={"coupon": {"exists": True}}) == 1
    assert n(where={"plan": {"ne": "pro"}}) == 2
    assert n(channel="app") == 1


def test_breakdowns_by_property_channel_and_trait(tmp_path: Path) -> None:
    rows = [
        ev("a", "Product Viewed", T0, source="ads"),
        ev("a", "Product Viewed", T0 + H, source="mail", channel="app"),  # not the first
        ev("a", "Product Added", T0 + 2 * H),
        ev("b", "Product Viewed", T0, source="ads"),
        ev("c", "Product Viewed", T0),
        ev("c", "Product Added", T0 + H),
        ev("a", None, T0 - H, type="identify"),
    ]
    rows[-1]["traits"] = '{"tier": "gold"}'
    eng = engine(tmp_path, rows)
    by_source = run(eng, spec(VIEW, ADD, breakdown=Breakdown(BreakdownKind.PROPERTY, "source")))
    assert counts(by_source) == [3, 2]
    groups = {g.value: [s.customers for s in g.steps] for g in by_source.breakdown or []}
    assert groups == {"ads": [2, 1], "(none)": [1, 1]}
    by_channel = run(eng, spec(VIEW, ADD, breakdown=Breakdown(BreakdownKind.CHANNEL)))
    assert {g.value: g.steps[0].customers for g in by_channel.breakdown or []} == {"web": 3}
    by_trait = run(eng, spec(VIEW, ADD, breakdown=Breakdown(BreakdownKind.TRAIT, "tier")))
    traits = {g.value: [s.customers for s in g.steps] for g in by_trait.breakdown or []}
    assert traits == {"gold": [1, 1], "(none)": [2, 1]}


def test_an_empty_store_gives_zeros(tmp_path: Path) -> None:
    result = run(engine(tmp_path, []), spec())
    assert counts(result) == [0, 0, 0]
    assert result.steps[1].conversion is None


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"steps": []}, "steps"),
        ({"steps": [VIEW] * 21}, "steps"),
        ({"window": timedelta(0)}, "window_days"),
        ({"start": date(2026, 11, 3)}, "from"),
        ({"steps": [Matcher(None)]}, "steps.0.event"),
        ({"steps": [Matcher("x", where={"bad name": 1})]}, "steps.0.where.bad name"),
        ({"steps": [Matcher("x", where={"a": {"near": 1}})]}, "steps.0.where.a.near"),
        ({"steps": [Matcher("x", where={"a": {"gt": "b"}})]}, "steps.0.where.a.gt"),
    ],
)
def test_bad_specs_name_the_field(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"steps": [VIEW, ADD], "start": DAY, "end": DAY}
    args.update(kw)
    with pytest.raises(SpecError) as caught:
        funnel_sql(FunnelSpec(**args))  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_sql_translates_for_spark() -> None:
    text = to_spark(funnel_sql(spec(breakdown=Breakdown(BreakdownKind.TRAIT, "tier"))))
    assert "PERCENTILE(" in text
    assert "GET_JSON_OBJECT" in text
    assert "MIN_BY" in text
    assert "PERCENTILE_APPROX" not in text
    # the list functions, in Spark's names
    assert "ARRAY_MAX(" in text
    assert "TRANSFORM(" in text
    assert "SIZE(" in text
    assert "AGGREGATE(" in text  # the fold of long lists
    assert "LIST_" not in text
    assert "LENGTH(" not in text  # Spark's length() is for strings
    assert "MATERIALIZED" not in text  # DuckDB's hint only


def _reference(
    events: Sequence[tuple[str, str, datetime]],
    steps: Sequence[str],
    low: datetime,
    high: datetime,
    window: timedelta,
) -> tuple[list[int], list[list[float]]]:
    """Every chain of every customer, enumerated: how many reach each step, and in how long.

    A step-k event ends a chain when a chain of steps 1..k-1 ends strictly before it and
    started at most ``window`` before it; its time to convert runs from the latest such
    start. Each customer's time is that of their first step-k event ending a chain."""
    reached = [0] * len(steps)
    times: list[list[float]] = [[] for _ in steps]
    for who in sorted({c for c, _, _ in events}):
        mine = sorted((at, name) for c, name, at in events if c == who)
        starts: list[list[tuple[datetime, datetime]]] = [[] for _ in steps]  # (end, start)
        for at, name in mine:
            if name == steps[0] and low <= at < high:
                starts[0].append((at, at))
        for k in range(1, len(steps)):
            for at, name in mine:
                if name != steps[k]:
                    continue
                ok = [s for end, s in starts[k - 1] if end < at and at - s <= window]
                if ok:
                    starts[k].append((at, max(ok)))
        for k, chains in enumerate(starts):
            if chains:
                reached[k] += 1
                end, start = min(chains)
                times[k].append((end - start).total_seconds())
    return reached, times


@pytest.mark.parametrize("limit", [funnels.PAIRS_LIMIT, 30, -1], ids=["lists", "both", "folds"])
@pytest.mark.parametrize("seed", range(6))
def test_loose_funnels_match_every_chain_enumerated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, limit: int
) -> None:
    """Random shops on a coarse clock (many ties, runs of one step, repeated steps):
    counts and times equal a brute-force enumeration of the chains, whether customers go
    the way of short lists, of the fold over sorted events, or some each way."""
    monkeypatch.setattr(funnels, "PAIRS_LIMIT", limit)
    rng = random.Random(seed)
    names = ["Product Viewed", "Product Added", "Order Completed"]
    steps = [rng.choice(names) for _ in range(rng.choice((2, 3, 4)))]
    window = timedelta(hours=rng.choice((2, 5, 30)))
    low = T0 - timedelta(hours=9)  # the start of DAY in UTC
    events = [
        (f"c{c}", rng.choice(names), low + timedelta(hours=rng.randrange(-6, 40)))
        for c in range(40)
        for _ in range(rng.randrange(1, 14))
    ]
    rows = [ev(c, name, at) for c, name, at in events]
    result = run(engine(tmp_path, rows), spec(*(Matcher(s) for s in steps), window=window))
    reached, times = _reference(events, steps, low, low + timedelta(days=1), window)
    assert counts(result) == reached
    for step, seconds in zip(result.steps[1:], times[1:], strict=True):
        assert step.median_seconds_to_convert == (
            pytest.approx(statistics.median(seconds)) if seconds else None
        )


def test_a_customer_with_thousands_of_steps_is_folded(tmp_path: Path) -> None:
    """A bot's lists would pair up millions of times: they are folded over sorted events."""
    seconds = timedelta(seconds=1)
    rows = [ev("bot", "Product Viewed", T0 + 2 * i * seconds) for i in range(2000)]
    rows += [ev("bot", "Product Added", T0 + (2 * i + 1) * seconds) for i in range(2000)]
    rows += [ev("bot", "Order Completed", T0 + 5000 * seconds)]
    rows += [ev("person", "Product Viewed", T0), ev("person", "Product Added", T0 + H)]
    assert funnels.PAIRS_LIMIT < 2000 * 2000
    result = run(engine(tmp_path, rows), spec())
    assert counts(result) == [2, 2, 1]
    assert result.steps[1].median_seconds_to_convert == (1 + 3600) / 2
    # the bot's order is 5000 s after its first view, 1002 s after its latest
    assert result.steps[2].median_seconds_to_convert == 5000 - 2 * 1999
