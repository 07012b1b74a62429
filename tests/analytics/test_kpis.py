"""KPI packs over hand-made event files: each figure by hand, previous period, series."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import orjson
import pytest

from cxloop.analytics.kpis import PACKS, Interval, KpiSpec, compute
from cxloop.analytics.kpis.compute import indexable
from cxloop.analytics.kpis.formulas import measures_of
from cxloop.analytics.kpis.roles import resolve
from cxloop.analytics.kpis.scan import simple
from cxloop.analytics.kpis.spec import buckets, periods
from cxloop.analytics.portable import Matcher, SpecError
from tests.fixtures.events import T0, engine, ev

D = timedelta(days=1)
W = T0 + 7 * D  # Monday 9 November, 09:00
WEEK = {"start": date(2026, 11, 9), "end": date(2026, 11, 15)}


def shop_rows() -> list[dict[str, object]]:
    return [
        ev("a", "Product Viewed", W),
        ev("a", "Checkout Started", W + D),
        ev("a", "Order Completed", W + D, revenue=100),
        ev("a", "Order Completed", W + 2 * D, total=50),  # no revenue: the total counts
        ev("b", "Product Viewed", W),
        ev("b", "Checkout Started", W),
        ev("c", "Product Viewed", W + 3 * D),
        ev("d", "Order Completed", W + 4 * D, revenue=30),
        ev("e", "Email Delivered", W),  # sent to e, not done by e: e is not active
        ev("f", "Email Delivered", W),
        ev("f", "Email Link Clicked", W + D),
        ev("g", "Product List Viewed", W, list_id="recommended"),
        ev("g", "Product List Viewed", W + D, list_id="recommended"),
        ev("g", "Product Clicked", W + D, list_id="recommended"),
        ev("g", "Product Clicked", W + D, list_id="similar"),
        ev("h", "Signed Up", W + 5 * D, referrer="a"),
        # the week before
        ev("d", "Order Completed", T0, revenue=20),
        ev("i", "Product Viewed", T0 + D),
    ]


def by_id(results: list[object]) -> dict[str, object]:
    return {r.kpi.id: r for r in results}  # type: ignore[attr-defined]


def test_the_ecommerce_pack_by_hand(tmp_path: Path) -> None:
    spend = {date(2026, 11, 10): 200.0, date(2026, 11, 15): 100.0, date(2026, 11, 3): 100.0}
    results = compute(engine(tmp_path, shop_rows()), KpiSpec(pack="ecommerce", spend=spend, **WEEK))
    kpis = by_id(results)
    expected = {  # id: (value, previous)
        "conversion_rate": (2 / 7, 1 / 2),
        "average_cart_size": (60.0, 20.0),
        "purchase_frequency": (1.5, 1.0),
        "cart_abandonment": (0.5, None),
        "cac": (300.0, 100.0),  # a is new; d bought the week before
        "revenue_per_customer": (90.0, 20.0),
        "recommendation_acceptance": (0.5, None),
        "virality": (1 / 7, 0.0),
        "email_click_through": (0.5, None),
    }
    assert set(kpis) == set(expected)
    for kpi_id, (value, previous) in expected.items():
        got = kpis[kpi_id]
        assert got.value == pytest.approx(value), kpi_id  # type: ignore[attr-defined]
        if previous is None:
            assert got.previous is None, kpi_id  # type: ignore[attr-defined]
        else:
            assert got.previous == pytest.approx(previous), kpi_id  # type: ignore[attr-defined]
    conversion = kpis["conversion_rate"]
    assert conversion.change == pytest.approx((2 / 7) / (1 / 2) - 1)  # type: ignore[attr-defined]
    assert [(p.start, p.value) for p in conversion.series] == [  # type: ignore[attr-defined]
        (date(2026, 11, 9), pytest.approx(2 / 7))
    ]  # type: ignore[attr-defined]


def test_daily_series_are_clipped_to_the_period(tmp_path: Path) -> None:
    spec = KpiSpec(pack="ecommerce", interval=Interval.DAY, only=["average_cart_size"], **WEEK)
    (aov,) = compute(engine(tmp_path, shop_rows()), spec)
    values = {p.start: p.value for p in aov.series}
    assert len(values) == 7
    assert values[date(2026, 11, 10)] == 100.0
    assert values[date(2026, 11, 11)] == 50.0
    assert values[date(2026, 11, 9)] is None  # no order that day


def test_a_workspace_mapping_replaces_a_default_role(tmp_path: Path) -> None:
    rows = [*shop_rows(), ev("c", "Payment Succeeded", W + 3 * D, revenue=10)]
    spec = KpiSpec(
        pack="ecommerce",
        only=["conversion_rate", "revenue_per_customer"],
        mapping={"purchase": [Matcher("Payment Succeeded")]},
        **WEEK,
    )
    kpis = by_id(compute(engine(tmp_path, rows), spec))
    assert kpis["conversion_rate"].value == pytest.approx(1 / 7)  # type: ignore[attr-defined]
    assert kpis["revenue_per_customer"].value == 10.0  # type: ignore[attr-defined]
    with pytest.raises(SpecError) as caught:
        compute(engine(tmp_path, rows), KpiSpec(pack="ecommerce", mapping={"nope": []}, **WEEK))
    assert caught.value.field == "mapping.nope"


def test_firsts_read_the_index_only_for_roles_named_by_event() -> None:
    needed = {"new:purchase", "known"}
    assert indexable(resolve({}), needed)
    filtered = resolve({"purchase": [Matcher("Order Completed", where={"plan": "pro"})]})
    assert not indexable(filtered, needed)
    # the index keeps a profile's times by event, not by channel
    assert not indexable(resolve({"purchase": [Matcher("Order Completed", channel="web")]}), needed)
    assert indexable(resolve({"purchase": [Matcher(type="page", event="Thanks")]}), needed)


def test_saas_activity_stickiness_and_churn(tmp_path: Path) -> None:
    rows = [
        ev("x", "Signed In", W),
        ev("x", "Signed In", W + D),
        ev("y", "Signed In", W),
        ev("z", "Signed In", T0 - 20 * D),
        ev("x", "Signed In", T0),  # x and y active in the week before: the churn base
        ev("y", "Signed In", T0),
        ev("q", "Signed In", T0),
        ev("s", "Signed Up", W),
    ]
    spec = KpiSpec(
        pack="saas", only=["dau", "wau", "mau", "stickiness", "churn_rate", "signups"], **WEEK
    )
    kpis = by_id(compute(engine(tmp_path, rows), spec))
    assert kpis["dau"].value == pytest.approx(4 / 7)  # type: ignore[attr-defined]
    assert kpis["wau"].value == 3  # type: ignore[attr-defined]
    assert kpis["mau"].value == 4  # type: ignore[attr-defined]
    assert kpis["stickiness"].value == pytest.approx(4 / 7 / 4)  # type: ignore[attr-defined]
    # active in the 30 days before 9 Nov: x, y, z, q; in the 30 days before 16 Nov all but z
    assert kpis["churn_rate"].value == pytest.approx(1 / 4)  # type: ignore[attr-defined]
    assert kpis["signups"].value == 1  # type: ignore[attr-defined]


def test_mobile_time_to_first_purchase_and_installs(tmp_path: Path) -> None:
    rows = [
        ev("u", "Application Installed", T0, channel="ios"),
        ev("u", "Application Opened", W),
        ev("u", "Order Completed", W + D, revenue=5),
        ev("v", "Application Installed", W),
        ev("v", "Order Completed", W + 2 * D + timedelta(hours=6), revenue=5),
    ]
    spec = KpiSpec(
        pack="mobile_app",
        only=["installs", "launch_rate", "time_to_first_purchase", "active_share", "arpu"],
        **WEEK,
    )
    kpis = by_id(compute(engine(tmp_path, rows), spec))
    assert kpis["installs"].value == 1  # type: ignore[attr-defined]
    assert kpis["launch_rate"].value == 0.0  # type: ignore[attr-defined]
    hours = [8 * 24, 2 * 24 + 6]
    median = sum(hours) / 2 * 3600
    assert kpis["time_to_first_purchase"].value == pytest.approx(median)  # type: ignore[attr-defined]
    assert kpis["active_share"].value == 1.0  # type: ignore[attr-defined]
    assert kpis["arpu"].value == 5.0  # type: ignore[attr-defined]


def test_every_pack_runs_on_an_empty_store(tmp_path: Path) -> None:
    eng = engine(tmp_path, [])
    for pack, kpis in PACKS.items():
        results = compute(eng, KpiSpec(pack=pack, **WEEK))
        assert [r.kpi.id for r in results] == [k.id for k in kpis]
        for kpi in kpis:
            assert kpi.names.keys() == {"en", "vi", "th"}
            assert measures_of(kpi.formula)


def test_unknown_pack_and_kpi_name_the_field() -> None:
    with pytest.raises(SpecError) as caught:
        KpiSpec(pack="shop", **WEEK).check()
    assert caught.value.field == "pack"
    with pytest.raises(SpecError) as caught:
        KpiSpec(pack="saas", only=["nps"], **WEEK).check()
    assert caught.value.field == "kpi"


@pytest.mark.parametrize(("interval", "days"), [(Interval.DAY, 130), (Interval.WEEK, 40)])
def test_simple_figures_of_every_group_against_a_count_by_hand(
    tmp_path: Path, interval: Interval, days: int
) -> None:
    """Many slots (131 days: three words of bits) and few, on random shops."""
    rng = random.Random(days)
    start = date(2026, 3, 2)
    first = datetime.combine(start, time(0), UTC) - days * D
    events = ["Checkout Started", "Order Completed", "Product Viewed", None]
    rows = []
    for n in range(400):
        event = rng.choice(events)
        at = first + timedelta(seconds=rng.randrange(2 * days * 86_400 + 5 * 86_400))
        if event is None:
            rows.append(ev(f"c{rng.randrange(30)}", None, at, type="identify"))
        else:
            rows.append(ev(f"c{rng.randrange(30)}", event, at, revenue=n))
    spec = KpiSpec(pack="ecommerce", start=start, end=start + (days - 1) * D, interval=interval)
    needed = {
        "active",
        "events:purchase",
        "customers:purchase",
        "customers:checkout",
        "both:checkout:purchase",
        "sum:purchase:revenue",
        "avg:purchase:revenue",
    }
    groups = [*periods(spec), *buckets(spec)]
    got = simple(engine(tmp_path, rows), spec, resolve({}), needed, groups)

    def by_hand(lo: date, stop: date) -> dict[str, float | None]:
        inside = [r for r in rows if lo <= r["timestamp"].date() < stop]  # type: ignore[attr-defined]
        bought = [r for r in inside if r["event"] == "Order Completed"]
        revenue = [float(orjson.loads(str(r["properties"]))["revenue"]) for r in bought]
        checkout = {r["profile_id"] for r in inside if r["event"] == "Checkout Started"}
        buyers = {r["profile_id"] for r in bought}
        return {
            "active": len({r["profile_id"] for r in inside if r["type"] == "track"}),
            "events:purchase": len(bought),
            "customers:purchase": len(buyers),
            "customers:checkout": len(checkout),
            "both:checkout:purchase": len(checkout & buyers),
            "sum:purchase:revenue": sum(revenue),
            "avg:purchase:revenue": sum(revenue) / len(revenue) if revenue else None,
        }

    assert len(got) == len(groups) == 2 + (days if interval is Interval.DAY else 6)
    for g in groups:
        expected = by_hand(g.start, g.stop)
        assert got[g.key].keys() >= expected.keys()
        for measure, value in expected.items():
            assert got[g.key][measure] == pytest.approx(value), (g.key, measure)
