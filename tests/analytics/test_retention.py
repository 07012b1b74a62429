"""Retention cohorts and churn over hand-made event files."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from cxloop.analytics import retention as retention_module
from cxloop.analytics.portable import Matcher, SpecError
from cxloop.analytics.retention import (
    ChurnSpec,
    Period,
    RetentionSpec,
    churn,
    churn_sql,
    retention,
    retention_sql,
)
from tests.fixtures.events import T0, engine, ev

D = timedelta(days=1)
W = timedelta(days=7)
MON = date(2026, 11, 2)  # T0's day, a Monday


def rates(cohort: object) -> list[tuple[int | None, float | None]]:
    return [(c.customers, c.rate) for c in cohort.cells]  # type: ignore[attr-defined]


def test_weekly_cohorts_of_first_action(tmp_path: Path) -> None:
    rows = [
        # week 0: a, b, c start; a returns in weeks 1 and 2, b in week 2 only
        ev("a", "Signed Up", T0),
        ev("a", "Page", T0 + W + D),
        ev("a", "Page", T0 + 2 * W),
        ev("b", "Signed Up", T0 + 6 * D),  # Sunday: still week 0
        ev("b", "Page", T0 + 2 * W + 3 * D),
        ev("c", "Signed Up", T0 + D),
        # week 1: d starts and comes back the same week (period 0) and in week 2
        ev("d", "Signed Up", T0 + W),
        ev("d", "Page", T0 + W + D),
        ev("d", "Page", T0 + 2 * W),
        # seen before the range: not in any cohort even though active in it
        ev("old", "Page", T0 - 3 * W),
        ev("old", "Page", T0 + D),
    ]
    spec = RetentionSpec(start=MON, end=MON + 13 * D, periods=3, until=MON + 20 * D)
    result = retention(engine(tmp_path, rows), spec)
    assert [(c.start, c.customers) for c in result.cohorts] == [(MON, 3), (MON + W, 1)]
    first, second = result.cohorts
    assert rates(first) == [(3, 1.0), (1, 1 / 3), (2, 2 / 3), (None, None)]
    assert rates(second) == [(1, 1.0), (1, 1.0), (None, None), (None, None)]
    # the average weighs each cohort by its size, over the cohorts observed that far
    assert [(c.customers, c.rate) for c in result.average] == [(4, 1.0), (2, 0.5), (2, 2 / 3)]


def test_monthly_cohorts_of_a_first_event_returning_on_another(tmp_path: Path) -> None:
    buy, visit = Matcher("Order Completed"), Matcher("Product Viewed")
    rows = [
        ev("a", "Product Viewed", T0 - 40 * D),  # viewing first does not make a cohort
        ev("a", "Order Completed", T0),  # November cohort
        ev("a", "Product Viewed", T0 - D),  # before the purchase: not a return
        ev("a", "Product Viewed", T0 + 30 * D),  # December: period 1
        ev("b", "Order Completed", T0 + 3 * D),
        ev("b", "Order Completed", T0 + 33 * D),  # buying again is not a visit
        ev("m", "Order Completed", T0 + 5 * D),
        ev("m2", "Product Viewed", T0 + 6 * D),  # merged into m: m's return
    ]
    spec = RetentionSpec(
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        period=Period.MONTH,
        periods=2,
        cohort=buy,
        returning=visit,
        until=date(2027, 1, 31),
    )
    result = retention(engine(tmp_path, rows, {"m2": "m"}), spec)
    (cohort,) = result.cohorts
    assert (cohort.start, cohort.customers) == (date(2026, 11, 1), 3)
    assert rates(cohort) == [(1, 1 / 3), (1, 1 / 3), (0, 0.0)]


def test_churn_over_a_period_and_per_week(tmp_path: Path) -> None:
    rows = [
        ev("stays", "Page", T0 - 2 * D),
        ev("stays", "Page", T0 + 13 * D),
        ev("leaves", "Page", T0 - D),
        ev("leaves", "Page", T0 + 2 * D),  # last action; quiet for 7 days by the end
        ev("new", "Page", T0 + 3 * D),  # not active at the start: not in the base
        ev("gone_before", "Page", T0 - 20 * D),
        ev("other", "Newsletter Opened", T0 - D),
    ]
    eng = engine(tmp_path, rows)
    spec = ChurnSpec(start=MON, end=MON + 13 * D, inactive_days=7, interval=Period.WEEK)
    result = churn(eng, spec)
    assert (result.overall.active_at_start, result.overall.churned) == (3, 2)
    assert result.overall.rate == pytest.approx(2 / 3)
    assert result.churned_sample == ["leaves", "other"]
    weekly = [(f.start, f.active_at_start, f.churned) for f in result.series]
    # stays is quiet from Oct 31 to Nov 15: churned at Nov 9, back by Nov 16
    assert weekly == [(MON, 3, 2), (MON + W, 2, 2)]
    only_pages = churn(eng, ChurnSpec(MON, MON + 13 * D, 7, activity=Matcher("Page")))
    assert (only_pages.overall.active_at_start, only_pages.overall.churned) == (2, 1)


def test_churn_counts_a_customer_by_all_their_profiles(tmp_path: Path) -> None:
    """A visitor active before the period as one profile and back later as another, merged
    into the first: one customer, who did not churn."""
    rows = [
        ev("known", "Page", T0 - D),
        ev("visitor", "Page", T0 + 12 * D),  # merged into known
        ev("leaves", "Page", T0 - D),
    ]
    spec = ChurnSpec(start=MON, end=MON + 13 * D, inactive_days=7)
    merged = churn(engine(tmp_path / "merged", rows, {"visitor": "known"}), spec)
    assert (merged.overall.active_at_start, merged.overall.churned) == (2, 1)
    assert merged.churned_sample == ["leaves"]
    apart = churn(engine(tmp_path / "apart", rows), spec)
    assert (apart.overall.active_at_start, apart.overall.churned) == (2, 2)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: retention_sql(RetentionSpec(MON, MON - D)), "from"),
        (lambda: retention_sql(RetentionSpec(MON, MON, periods=500)), "periods"),
        (lambda: retention_sql(RetentionSpec(MON, MON, cohort=Matcher(None))), "cohort.event"),
        (lambda: churn_sql(ChurnSpec(MON, MON, inactive_days=0)), "inactive_days"),
        (lambda: churn_sql(ChurnSpec(MON, MON + 3000 * D, interval=Period.WEEK)), "interval"),
    ],
)
def test_bad_specs_name_the_field(make: object, field: str) -> None:
    with pytest.raises(SpecError) as caught:
        make()  # type: ignore[operator]
    assert caught.value.field == field


@pytest.mark.parametrize("seed", range(4))
def test_one_pass_cohorts_equal_the_general_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Cohorts whose first and returning events are the same are counted in one grouping
    (bits of the periods a customer came back in); the general query, which pairs each event
    with the customer's first, gives the same cells on random shops with merges."""
    rng = random.Random(seed)
    names = ["Product Viewed", "Order Completed", "Email Delivered"]
    rows = [
        ev(f"c{c}", rng.choice(names), T0 + timedelta(hours=rng.randrange(-24 * 20, 24 * 80)))
        for c in range(60)
        for _ in range(rng.randrange(1, 9))
    ]
    merges = {f"c{c}": f"c{c + 1}" for c in range(0, 60, 9)}
    eng = engine(tmp_path, rows, merges)
    for period, start, until in (
        (Period.WEEK, MON, None),
        (Period.WEEK, MON + 3 * D, MON + 40 * D),
        (Period.MONTH, MON - 20 * D, None),
    ):
        for matcher in (None, Matcher("Order Completed")):
            spec = RetentionSpec(
                start=start,
                end=start + 30 * D,
                period=period,
                periods=rng.choice((0, 3, 8)),
                cohort=matcher,
                returning=matcher,
                until=until,
            )
            assert "bit_or" in retention_sql(spec)
            fast = retention(eng, spec)
            with monkeypatch.context() as patch:
                patch.setattr(retention_module, "BITS", 0)
                assert "bit_or" not in retention_sql(spec)
                assert retention(eng, spec) == fast
            assert sum(c.customers for c in fast.cohorts) > 0
