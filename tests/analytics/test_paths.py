"""Paths over hand-made event files: merged repeats, top nodes and (other), Sankey, journeys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cxloop.analytics.paths import (
    OTHER,
    Direction,
    Node,
    PathResult,
    PathSpec,
    path_sql,
    run,
)
from cxloop.analytics.portable import Matcher, SpecError, to_spark
from tests.fixtures.events import T0, engine, ev

H = timedelta(hours=1)
DAY = T0.date()


def journeys(paths: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One event an hour per customer, in the order given."""
    return [
        ev(who, name, T0 + i * H) for who, names in paths.items() for i, name in enumerate(names)
    ]


def spec(anchor: str | Matcher = Matcher("View"), **kw: Any) -> PathSpec:
    return PathSpec(anchor=anchor, start=DAY, end=DAY, **kw)


def table(result: PathResult) -> list[list[tuple[str, int]]]:
    return [[(i.key, i.customers) for i in step.items] for step in result.steps]


def sankey(result: PathResult) -> set[tuple[str, str, int]]:
    ids = [n.id for n in result.nodes]
    return {(ids[link.source], ids[link.target], link.value) for link in result.links}


SHOP = {
    "a": ["View", "View", "Add", "Buy"],  # repeats merge: View, Add, Buy
    "b": ["View", "Add", "Add", "View"],
    "c": ["Add", "View", "Buy"],  # the anchor is c's first View
    "d": ["View", "Help"],
    "e": ["View", "Chat"],
    "f": ["View", "Mail"],
    "g": ["View"],
}


def test_next_steps_merge_repeats_and_bucket_the_rest(tmp_path: Path) -> None:
    result = run(engine(tmp_path, journeys(SHOP)), spec(steps=3, top=2))
    assert result.customers == 7
    assert result.anchor == "View"
    assert table(result) == [
        [("Add", 2), ("Buy", 1), (OTHER, 3)],  # Chat, Help, Mail: one each
        [("Buy", 1), ("View", 1)],
        [],
    ]
    first, second, third = result.steps
    assert (first.customers, first.other_keys) == (6, 3)
    assert first.items[0].share == pytest.approx(2 / 7)
    assert (second.customers, third.customers, third.share) == (2, 0, 0.0)
    assert sankey(result) == {
        ("0:View", "1:Add", 2),
        ("0:View", "1:Buy", 1),
        ("0:View", "1:(other)", 3),
        ("1:Add", "2:Buy", 1),
        ("1:Add", "2:View", 1),
    }
    # what flows into a node is what the step counts there
    for step in result.steps:
        for item in step.items:
            target = result.nodes.index(
                next(n for n in result.nodes if n.id == f"{step.step}:{item.key}")
            )
            assert (
                sum(link.value for link in result.links if link.target == target) == item.customers
            )


def test_previous_steps_read_backwards(tmp_path: Path) -> None:
    rows = [
        *journeys(SHOP),
        ev("h", None, T0, type="page", name="Home"),
        ev("h", None, T0 + H, type="identify"),  # not an action: no node
        ev("h", "View", T0 + 2 * H),
    ]
    result = run(engine(tmp_path, rows), spec(direction=Direction.PREVIOUS, steps=2))
    assert result.customers == 8
    assert table(result) == [[("Add", 1), ("page: Home", 1)], []]


def test_a_merged_customer_is_one_path(tmp_path: Path) -> None:
    rows = [
        ev("anon", "View", T0),
        ev("anon", "Add", T0 + H),
        ev("known", "Buy", T0 + 2 * H),
        ev("other", "View", T0),
    ]
    result = run(engine(tmp_path, rows, {"anon": "known"}), spec(steps=2))
    assert result.customers == 2
    assert table(result) == [[("Add", 1)], [("Buy", 1)]]


def test_events_outside_the_range_are_not_read(tmp_path: Path) -> None:
    rows = [
        ev("a", "View", T0 - 24 * H),
        ev("a", "Add", T0),
        ev("a", "View", T0 + H),
        ev("a", "Buy", T0 + 30 * H),
    ]
    result = run(engine(tmp_path, rows), spec(steps=2))
    assert result.customers == 1
    assert table(result) == [[], []]


CHECKOUT = Node("checkout", "(type = 'track' AND event = 'Checkout Started')")
DELIVERY = Node(
    "delivery",
    "((type = 'track' AND event = 'Order Delivered') OR (type = 'track' AND "
    "event = 'Survey Responded' AND json_extract_string(properties, '$.touchpoint') = 'delivery'))",
)
SUPPORT = Node("support", "(type = 'track' AND event = 'Ticket Opened')")


def test_touchpoints_are_the_nodes_of_a_journey(tmp_path: Path) -> None:
    rows = [
        ev("a", "Checkout Started", T0),
        ev("a", "Page Scrolled", T0 + H),  # meets no touchpoint: left out
        ev("a", "Order Delivered", T0 + 2 * H),
        ev("a", "Survey Responded", T0 + 3 * H, touchpoint="delivery"),  # same node: merged
        ev("a", "Ticket Opened", T0 + 4 * H),
        ev("b", "Checkout Started", T0),
        ev("b", "Survey Responded", T0 + H, touchpoint="delivery"),
        ev("c", "Order Delivered", T0),
    ]
    nodes = [CHECKOUT, DELIVERY, SUPPORT]
    eng = engine(tmp_path, rows)
    by_key = run(eng, spec("checkout", nodes=nodes, steps=2))
    assert by_key.customers == 2
    assert table(by_key) == [[("delivery", 2)], [("support", 1)]]
    # an event anchor that is itself a touchpoint's event merges with that touchpoint
    by_event = run(eng, spec(Matcher("Order Delivered"), nodes=nodes, steps=2))
    assert by_event.anchor == "Order Delivered"
    assert by_event.customers == 2
    assert table(by_event) == [[("support", 1)], []]
    back = run(eng, spec("support", nodes=nodes, steps=3, direction=Direction.PREVIOUS))
    assert table(back) == [[("delivery", 1)], [("checkout", 1)], []]


def test_the_sql_translates_for_spark() -> None:
    text = to_spark(path_sql(spec(direction=Direction.PREVIOUS)))
    assert "ROW_NUMBER() OVER" in text
    assert "LAG(" in text


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"anchor": "checkout"}, "anchor"),  # a key without a journey
        ({"anchor": "nowhere", "nodes": [CHECKOUT]}, "anchor"),
        ({"anchor": Matcher(None)}, "anchor.event"),
        ({"steps": 0}, "steps"),
        ({"steps": 6}, "steps"),
        ({"top": 0}, "top"),
        ({"top": 21}, "top"),
        ({"start": DAY + timedelta(days=1)}, "from"),
    ],
)
def test_bad_specs_name_the_field(kw: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"anchor": Matcher("View"), "start": DAY, "end": DAY} | kw
    with pytest.raises(SpecError) as caught:
        PathSpec(**args).check()
    assert caught.value.field == field
