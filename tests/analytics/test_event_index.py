"""The customer-event index answers funnels exactly as the events do."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from cxloop.analytics import events as store
from cxloop.analytics import funnels
from cxloop.analytics.funnels import Breakdown, BreakdownKind, FunnelSpec, Order, run
from cxloop.analytics.portable import DuckDBEngine, Matcher, micros
from tests.fixtures.events import T0, ev, record_queries, write

DAY = T0.date()
NAMES = ["Product Viewed", "Product Added", "Order Completed"]


def shop(seed: int) -> tuple[list[dict[str, object]], dict[str, str]]:
    """Random customers on a coarse clock (ties, repeats), some pages and identify calls,
    and a few profiles merged into others."""
    rng = random.Random(seed)
    low = T0 - timedelta(hours=9)
    rows = []
    for c in range(40):
        for _ in range(rng.randrange(1, 12)):
            at = low + timedelta(hours=rng.randrange(-30, 60))
            if rng.random() < 0.15:
                rows.append(ev(f"c{c}", None, at, type="page", name=rng.choice(["Home", "Cart"])))
            else:
                channel = rng.choice(["web", "web", "app"])
                rows.append(ev(f"c{c}", rng.choice(NAMES), at, channel=channel))
        if c % 3 == 0:
            traits = orjson.dumps({"tier": rng.choice(["gold", "silver"])}).decode()
            rows.append({**ev(f"c{c}", None, low, type="identify"), "traits": traits})
    merges = {f"c{c}": f"c{c + 1}" for c in range(0, 40, 7)}
    return rows, merges


def engines(
    folder: Path, rows: list[dict[str, object]], merges: dict[str, str], held: int
) -> tuple[DuckDBEngine, DuckDBEngine]:
    """The events read directly, and through an index of the first ``held`` files."""
    files = write(folder, rows, parts=4)
    index = folder / "index.parquet"
    assert store.write_index(files[:held], index) == sum(
        len(r) for r in [rows[i::4] for i in range(held)]
    )
    stamps = [r["timestamp"] for r in rows]
    span = (micros(min(stamps)), micros(max(stamps)))  # type: ignore[type-var, arg-type]
    indexed = store.Indexed(str(index), [str(f) for f in files[held:]], span)
    return DuckDBEngine(files, merges), DuckDBEngine(files, merges, indexed)


@pytest.mark.parametrize("seed", range(5))
def test_indexed_funnels_equal_funnels_over_the_events(tmp_path: Path, seed: int) -> None:
    rows, merges = shop(seed)
    rng = random.Random(seed)
    plain, indexed = engines(tmp_path, rows, merges, held=rng.choice((1, 3, 4)))
    app = Matcher(NAMES[2], channel="app")
    for steps in (
        [Matcher(NAMES[0]), Matcher(NAMES[1]), Matcher(NAMES[2])],
        [Matcher(NAMES[1]), Matcher(NAMES[1])],
        [Matcher(NAMES[0], channel="web"), app],  # an order in the app after a web view
    ):
        for days in (0, 1, 3):  # some events before and after the range, or none
            spec = FunnelSpec(
                steps=[*steps, Matcher(type="page", event="Cart")],
                start=DAY - timedelta(days=days),
                end=DAY + timedelta(days=days),
                window=timedelta(hours=rng.choice((2, 20))),
                breakdown=Breakdown(BreakdownKind.TRAIT, "tier") if days == 1 else None,
            )
            assert run(indexed, spec) == run(plain, spec)


def test_the_index_is_read_only_where_it_holds_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, merges = shop(1)
    plain, indexed = engines(tmp_path, rows, merges, held=2)
    ran = record_queries(monkeypatch)
    base = {"start": DAY, "end": DAY, "steps": [Matcher(n) for n in NAMES]}
    other = [
        FunnelSpec(**base, order=Order.STRICT),  # type: ignore[arg-type]
        FunnelSpec(**{**base, "steps": [Matcher(NAMES[0], where={"sku": "A"})]}),  # type: ignore[arg-type]
        FunnelSpec(**base, breakdown=Breakdown(BreakdownKind.CHANNEL)),  # type: ignore[arg-type]
        # the index keeps a profile's times by event, not by channel
        FunnelSpec(**{**base, "steps": [Matcher(NAMES[0], channel="app")]}),  # type: ignore[arg-type]
    ]
    for spec in other:
        assert not funnels.indexable(spec)
        assert run(indexed, spec) == run(plain, spec)
    assert not any("event_times" in sql for sql in ran)
    for steps in ([Matcher(n) for n in NAMES], [Matcher(type="page", event="Cart")]):
        run(indexed, FunnelSpec(**{**base, "steps": steps}))  # type: ignore[arg-type]
        assert "event_times" in ran[-1]
    with pytest.raises(ValueError, match="cannot read"):
        funnels.funnel_sql(other[0], indexed.index)


def test_a_page_step_is_named_by_the_page_name_even_with_a_stray_event_field(
    tmp_path: Path,
) -> None:
    rows = [
        {**ev("a", None, T0, type="page", name="Pricing"), "event": "Signed Up"},
        ev("a", "Signed Up", T0 + timedelta(minutes=5)),
        ev("b", "Signed Up", T0),
    ]
    plain, indexed = engines(tmp_path, rows, {}, held=4)
    spec = FunnelSpec(
        steps=[Matcher(type="page", event="Pricing"), Matcher("Signed Up")], start=DAY, end=DAY
    )
    assert [s.customers for s in run(indexed, spec).steps] == [1, 1]
    assert run(indexed, spec) == run(plain, spec)


def test_an_index_of_no_files_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "index.parquet"
    assert store.write_index([], path) == 0
    spec = FunnelSpec(steps=[Matcher(n) for n in NAMES], start=DAY, end=DAY)
    indexed = DuckDBEngine([], {}, store.Indexed(str(path), []))
    assert [s.customers for s in run(indexed, spec).steps] == [0, 0, 0]
