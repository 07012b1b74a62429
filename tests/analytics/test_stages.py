"""Stage placement, stage history, distribution over time and milestones over event files."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cxloop.analytics.portable import DuckDBEngine, Matcher, SpecError, micros, to_spark
from cxloop.analytics.stages import (
    DistributionSpec,
    Interval,
    MilestoneSpec,
    Range,
    Rule,
    Target,
    customer_journey,
    distribution,
    distribution_sql,
    milestones,
    milestones_sql,
    placements,
)
from tests.fixtures.events import T0, engine, ev, write

H = timedelta(hours=1)
D = timedelta(days=1)
LATER = T0 + 60 * D

STAGES = [
    Target("awareness", [Rule(Matcher(type="page")), Rule(Matcher(type="screen"))]),
    Target("consideration", [Rule(Matcher("Product Viewed")), Rule(Matcher("Product Added"))]),
    Target("purchase", [Rule(Matcher("Order Completed"))]),
    Target("retention", [Rule(Matcher("Order Completed"), 2)]),
    Target(
        "expansion",
        [Rule(Matcher("Order Completed", where={"revenue": {"gte": 1000}}))],
    ),
    Target(
        "advocacy",
        [
            Rule(Matcher("Review Submitted")),
            Rule(Matcher("Survey Responded", where={"nps": {"gte": 9}})),
        ],
    ),
]
AWARENESS, CONSIDERATION, PURCHASE, RETENTION, EXPANSION, ADVOCACY = range(6)


def page(customer: str, at: datetime) -> dict[str, object]:
    return ev(customer, None, at, type="page", name="Home")


def placed(eng: DuckDBEngine, until: datetime = LATER) -> dict[str, int]:
    return {p.customer_id: p.stage for p in placements(eng, STAGES, until)}


def test_a_customer_is_in_the_furthest_stage_entered(tmp_path: Path) -> None:
    rows = [
        page("a", T0),
        ev("a", "Product Viewed", T0 + H),
        ev("a", "Order Completed", T0 + D, revenue=50),
        # b skips the early stages: an order taken by phone
        ev("b", "Order Completed", T0, revenue=20, channel="phone"),
        # c wrote a review before buying: journey order decides, not time order
        ev("c", "Review Submitted", T0),
        ev("c", "Order Completed", T0 + D, revenue=20),
        ev("c", "Order Completed", T0 + 2 * D, revenue=20),
        # a passive NPS answer is not advocacy; a promoter's is
        ev("d", "Survey Responded", T0, nps=8),
        ev("e", "Survey Responded", T0, nps=10),
        # nothing here enters a stage
        ev("f", "Email Opened", T0),
        ev("g", None, T0, type="identify"),
    ]
    eng = engine(tmp_path, rows)
    assert placed(eng) == {"a": PURCHASE, "b": PURCHASE, "c": ADVOCACY, "e": ADVOCACY}
    entered = {p.customer_id: p.entered for p in placements(eng, STAGES, LATER)}
    assert entered["a"] == {
        AWARENESS: micros(T0),
        CONSIDERATION: micros(T0 + H),
        PURCHASE: micros(T0 + D),
    }
    assert entered["c"] == {
        ADVOCACY: micros(T0),
        PURCHASE: micros(T0 + D),
        RETENTION: micros(T0 + 2 * D),
    }
    # only what happened before the moment counts
    assert placed(eng, T0 + H) == {"a": AWARENESS, "b": PURCHASE, "c": ADVOCACY, "e": ADVOCACY}


def test_the_n_th_event_and_property_rules(tmp_path: Path) -> None:
    rows = [
        ev("a", "Order Completed", T0, revenue=10),
        ev("a", "Order Completed", T0 + D, revenue=1000),  # second order, and a large one
        ev("b", "Order Completed", T0, revenue=999.5),
        ev("b", "Order Completed", T0 - D, revenue="12"),  # earlier in time, sent later
        ev("c", "Product Added", T0 + 2 * H),
        ev("c", "Product Viewed", T0 + H),  # the first of the rules met decides
    ]
    eng = engine(tmp_path, rows)
    entered = {p.customer_id: p.entered for p in placements(eng, STAGES, LATER)}
    assert entered["a"] == {
        PURCHASE: micros(T0),
        RETENTION: micros(T0 + D),
        EXPANSION: micros(T0 + D),
    }
    assert entered["b"] == {PURCHASE: micros(T0 - D), RETENTION: micros(T0)}
    assert entered["c"] == {CONSIDERATION: micros(T0 + H)}
    assert placed(eng) == {"a": EXPANSION, "b": RETENTION, "c": CONSIDERATION}


def test_history_names_the_event_that_placed_the_customer(tmp_path: Path) -> None:
    first = page("a", T0)
    rows = [
        first,
        ev("a", "Product Viewed", T0 + H),
        ev("a", "Order Completed", T0 + D),
        ev("a", "Order Completed", T0 + 3 * D),
        ev("a", "Order Completed", T0 + 5 * D),
        ev("b", "Order Completed", T0),
    ]
    # two events at the same instant: the smaller message id comes first
    tie = [ev("a", "Review Submitted", T0 + 4 * D), ev("a", "Review Submitted", T0 + 4 * D)]
    orders = Target("third_order", [Rule(Matcher("Order Completed"), 3)])
    never = Target("referral", [Rule(Matcher("Referral Sent"))])
    eng = engine(tmp_path, rows + tie)
    journey = customer_journey(eng, STAGES, [orders, never], "a", LATER)
    assert journey.stage == ADVOCACY
    assert [(h.target, h.ts) for h in journey.entries] == [
        (AWARENESS, micros(T0)),
        (CONSIDERATION, micros(T0 + H)),
        (PURCHASE, micros(T0 + D)),
        (RETENTION, micros(T0 + 3 * D)),
        (ADVOCACY, micros(T0 + 4 * D)),
    ]
    assert journey.entries[0].message_id == first["message_id"]
    assert journey.entries[0].type == "page"
    assert journey.entries[0].name == "Home"
    assert journey.entries[-1].message_id == min(t["message_id"] for t in tie)
    assert [(m.target, m.ts, m.name) for m in journey.milestones] == [
        (0, micros(T0 + 5 * D), "Order Completed")
    ]
    nobody = customer_journey(eng, STAGES, [orders], "nobody", LATER)
    assert (nobody.stage, nobody.entries, nobody.milestones) == (None, [], [])


def test_distribution_at_the_end_of_each_week_and_now(tmp_path: Path) -> None:
    monday = T0  # 2026-11-02
    rows = [
        page("a", monday - 3 * D),  # before the range: counted from the start
        ev("a", "Product Viewed", monday + D),
        ev("a", "Order Completed", monday + 8 * D),
        page("b", monday + 2 * D),
        ev("b", "Review Submitted", monday + 9 * D),
        ev("c", "Order Completed", monday + 15 * D),
        ev("c", "Order Completed", monday + 40 * D),  # after the range, before now
    ]
    eng = engine(tmp_path, rows)
    spec = DistributionSpec(
        STAGES, Range(date(2026, 11, 4), date(2026, 11, 20), Interval.WEEK), now=LATER
    )
    result = distribution(eng, spec)
    bounds = [(s.start, s.end) for s in result.series]
    assert bounds == [
        (date(2026, 11, 4), date(2026, 11, 9)),  # clipped to the range
        (date(2026, 11, 9), date(2026, 11, 16)),
        (date(2026, 11, 16), date(2026, 11, 21)),
    ]

    def at(snapshot: object) -> list[int]:
        return [c.customers for c in snapshot.stages]  # type: ignore[attr-defined]

    def entered(snapshot: object) -> list[int]:
        return [c.entered for c in snapshot.stages]  # type: ignore[attr-defined]

    assert at(result.series[0]) == [1, 1, 0, 0, 0, 0]  # b aware, a considering
    assert entered(result.series[0]) == [1, 0, 0, 0, 0, 0]  # a entered both before the range
    assert at(result.series[1]) == [0, 0, 1, 0, 0, 1]
    assert entered(result.series[1]) == [0, 0, 1, 0, 0, 1]
    assert at(result.series[2]) == [0, 0, 2, 0, 0, 1]
    assert [s.customers for s in result.series] == [2, 2, 3]
    assert at(result.current) == [0, 0, 1, 1, 0, 1]
    assert result.current.customers == 3


def test_day_and_month_buckets() -> None:
    days = Range(date(2026, 11, 29), date(2026, 12, 2), Interval.DAY)
    assert len(days.buckets) == 4
    months = Range(date(2026, 11, 15), date(2027, 1, 10), Interval.MONTH)
    assert months.buckets == [
        (date(2026, 11, 15), date(2026, 12, 1)),
        (date(2026, 12, 1), date(2027, 1, 1)),
        (date(2027, 1, 1), date(2027, 1, 11)),
    ]
    weeks = Range(date(2026, 11, 2), date(2026, 11, 8), Interval.WEEK)  # Monday to Sunday
    assert weeks.buckets == [(date(2026, 11, 2), date(2026, 11, 9))]


def test_milestones_per_period_and_before(tmp_path: Path) -> None:
    rows = [
        ev("a", "Order Completed", T0 - 10 * D),
        ev("a", "Order Completed", T0 + D),
        ev("a", "Order Completed", T0 + 2 * D),  # a's third order: in week 1
        ev("b", "Order Completed", T0 + 8 * D),  # b's first: in week 2
        ev("c", "Order Completed", T0 + 30 * D),  # after the range
    ]
    first = Target("first_order", [Rule(Matcher("Order Completed"))])
    third = Target("third_order", [Rule(Matcher("Order Completed"), 3)])
    spec = MilestoneSpec([first, third], Range(T0.date(), T0.date() + 13 * D, Interval.WEEK))
    one, three = milestones(engine(tmp_path, rows), spec)
    assert (one.reached_before, one.reached, one.total) == (1, 1, 2)
    assert [c.reached for c in one.series] == [0, 1]
    assert (three.reached_before, three.reached, three.total) == (0, 1, 1)
    assert [c.reached for c in three.series] == [1, 0]
    assert milestones(engine(tmp_path / "none", rows), MilestoneSpec([], spec.range)) == []


def test_a_merged_customer_counts_once_with_the_events_of_both_ids(tmp_path: Path) -> None:
    rows = [
        page("anon", T0),
        ev("anon", "Order Completed", T0 + H),
        ev("known", "Order Completed", T0 + D),
        ev("known", "Review Submitted", T0 + 2 * D),
    ]
    merged = engine(tmp_path / "m", rows, {"anon": "known"})
    ps = placements(merged, STAGES, LATER)
    assert [(p.customer_id, p.stage) for p in ps] == [("known", ADVOCACY)]
    # the anonymous order is the first, the known one the second
    assert ps[0].entered[PURCHASE] == micros(T0 + H)
    assert ps[0].entered[RETENTION] == micros(T0 + D)
    spec = DistributionSpec(STAGES, Range(T0.date(), T0.date() + 6 * D), now=LATER)
    assert distribution(merged, spec).current.customers == 1
    apart = engine(tmp_path / "a", rows)
    assert placed(apart) == {"anon": PURCHASE, "known": ADVOCACY}
    history = customer_journey(merged, STAGES, [], "known", LATER)
    assert [h.target for h in history.entries] == [AWARENESS, PURCHASE, RETENTION, ADVOCACY]


def test_late_events_move_entries_back_to_their_own_time(tmp_path: Path) -> None:
    first = write(tmp_path / "load1", [ev("a", "Order Completed", T0 + 10 * D)])
    spec = DistributionSpec(STAGES, Range(T0.date(), T0.date() + 13 * D), now=LATER)
    before = distribution(DuckDBEngine(first, {}), spec)
    assert [s.stages[PURCHASE].customers for s in before.series] == [0, 1]
    # a later load brings an order that happened earlier, and a page view before it
    late = write(tmp_path / "load2", [ev("a", "Order Completed", T0 + D), page("a", T0 - 30 * D)])
    eng = DuckDBEngine(first + late, {})
    after = distribution(eng, spec)
    assert [s.stages[PURCHASE].customers for s in after.series] == [1, 0]
    assert [s.stages[RETENTION].customers for s in after.series] == [0, 1]
    assert [s.stages[PURCHASE].entered for s in after.series] == [1, 0]
    assert placements(eng, STAGES, LATER)[0].entered[AWARENESS] == micros(T0 - 30 * D)


def test_bad_specs_name_the_field() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(SpecError) as exc:
        DistributionSpec(STAGES, Range(date(2026, 12, 2), date(2026, 12, 1)), now).check()
    assert exc.value.field == "from"
    with pytest.raises(SpecError) as exc:
        Range(date(2020, 1, 1), date(2026, 1, 1), Interval.DAY).check()
    assert exc.value.field == "interval"
    with pytest.raises(SpecError) as exc:
        DistributionSpec([], Range(date(2026, 11, 1), date(2026, 11, 2)), now).check()
    assert exc.value.field == "stages"
    bad = Target("x", [Rule(Matcher("Order Completed", where={"a b": 1}))])
    with pytest.raises(SpecError) as exc:
        MilestoneSpec([bad], Range(date(2026, 11, 1), date(2026, 11, 2))).check()
    assert exc.value.field == "milestones.0.rules.0.where.a b"


def test_the_sql_translates_for_spark() -> None:
    spec = DistributionSpec(
        STAGES, Range(date(2026, 11, 1), date(2026, 11, 30)), datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert "ROWS BETWEEN UNBOUNDED PRECEDING" in to_spark(distribution_sql(spec))
    orders = MilestoneSpec([STAGES[RETENTION]], spec.range)
    assert to_spark(milestones_sql(orders)).startswith("WITH base AS")
