"""Touchpoint scorecards and the weakest-touchpoint ranking over hand-made event files."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cxloop.analytics import stats
from cxloop.analytics.feedback import Metric, NpsFigure
from cxloop.analytics.portable import Matcher, SpecError, to_spark
from cxloop.analytics.touchpoints import (
    ABOVE,
    BELOW,
    IN_LINE,
    INSUFFICIENT,
    Entry,
    ScorecardSpec,
    Touchpoint,
    headline,
    rank,
    run,
    scorecard_sql,
    weekly,
)
from tests.fixtures.events import T0, engine, ev

H = timedelta(hours=1)
D = timedelta(days=1)
DAY = T0.date()
SURVEY = "0190f0e0-0000-7000-8000-000000000001"
RESPONDED = "Survey Responded"

# consideration -> purchase -> delivery -> loyalty (a second order)
STAGES = [
    [Entry(Matcher("Product Viewed"))],
    [Entry(Matcher("Order Completed"))],
    [Entry(Matcher("Order Delivered"))],
    [Entry(Matcher("Order Completed"), count=2)],
]
TOUCHPOINTS = [
    Touchpoint("checkout", 0, [Matcher("Checkout Started")]),
    Touchpoint("delivery", 2, [Matcher("Order Delivered")], [SURVEY]),
    Touchpoint("support", 2),  # met through the responses that name it only
]


def answer(who: str, at: Any, response: str, **props: Any) -> dict[str, Any]:
    return ev(who, RESPONDED, at, response_id=response, **props)


def spec(**kw: Any) -> ScorecardSpec:
    args: dict[str, Any] = {
        "start": DAY,
        "end": DAY,
        "touchpoints": TOUCHPOINTS,
        "stages": STAGES,
        "window": timedelta(days=30),
        "min_n": 2,
    }
    return ScorecardSpec(**(args | kw))


def test_volume_reach_scores_and_conversion(tmp_path: Path) -> None:
    rows = [
        # a: checkout, then the order within the window; a response edited later
        ev("a", "Checkout Started", T0),
        ev("a", "Order Completed", T0 + H),
        ev("a", "Order Delivered", T0 + 2 * H),
        answer("a", T0 + 3 * H, "r1", touchpoint="delivery", nps=2, csat=2),
        answer("a", T0 + 4 * H, "r1", touchpoint="delivery", nps=3, csat=2),
        # b and c are one customer (merged): met twice, reached once
        ev("b", "Checkout Started", T0),
        ev("c", "Checkout Started", T0 + H),
        ev("c", "Order Completed", T0 + 30 * D + H),  # exactly the window after c's meeting
        # d orders too late; e had ordered before meeting checkout, so it was already there
        ev("d", "Checkout Started", T0),
        ev("d", "Order Completed", T0 + 31 * D),
        ev("e", "Order Completed", T0 - 5 * D),
        ev("e", "Checkout Started", T0),
        ev("e", "Order Completed", T0 + H),  # e's second order: e enters loyalty
        # a response of the delivery survey tagged with the support touchpoint: both count it
        answer("f", T0, "r2", touchpoint="support", survey_id=SURVEY, nps=10, csat=5, ces=6),
        answer("g", T0, "r3", touchpoint="support", nps=9),
        answer("g", T0 + 2 * D, "r4", touchpoint="support", nps=0),  # after the range
        # a response whose latest version is after the range counts there, not here
        answer("g", T0 + H, "r5", touchpoint="support", nps=5),
        answer("g", T0 + 3 * D, "r5", touchpoint="support", nps=6),
        ev("h", "Order Delivered", T0 - D),  # before the range
    ]
    result = run(engine(tmp_path, rows, {"b": "c"}), spec())
    cards = {c.key: c for c in result.items}
    assert list(cards) == ["checkout", "delivery", "support"]

    checkout = cards["checkout"]
    assert (checkout.volume, checkout.reach, checkout.responses) == (5, 4, 0)
    assert checkout.small_sample
    assert headline(Metric.NPS, checkout.figures[Metric.NPS])[0] is None
    # purchase, entered after checkout by a, and by c exactly at the window's end
    assert checkout.conversion.next_stage == 1
    assert (checkout.conversion.customers, checkout.conversion.rate) == (2, 0.5)

    delivery = cards["delivery"]
    # a's delivery event and two responses (r1 in two versions counts once)
    assert (delivery.volume, delivery.reach) == (3, 2)
    assert (delivery.responses, delivery.respondents) == (2, 2)
    nps = delivery.figures[Metric.NPS]
    assert isinstance(nps, NpsFigure)
    assert (nps.n, nps.promoters, nps.detractors) == (2, 1, 1)  # r1 counts as its 3
    assert nps.distribution["3"] == 1
    assert nps.distribution["2"] == 0
    assert (nps.ci_low, nps.ci_high) == pytest.approx(stats.nps_interval(1, 1, 2))
    # loyalty (a second order) after delivery: nobody; e's second order came before
    assert (delivery.conversion.customers, delivery.conversion.rate) == (0, 0.0)

    support = cards["support"]
    assert (support.volume, support.reach, support.responses) == (2, 2, 2)
    assert support.figures[Metric.CES].n == 1
    assert support.conversion.customers == 0

    # the journey: r1, r2, r3 once each although r2 is at two touchpoints
    assert result.responses == 3
    assert result.journey[Metric.NPS].n == 3
    assert result.journey[Metric.CSAT].n == 2


def test_a_stage_without_entry_rules_and_the_last_stage_have_no_conversion(
    tmp_path: Path,
) -> None:
    rows = [ev("a", "Checkout Started", T0), ev("a", "Order Delivered", T0 + H)]
    stages = [[Entry(Matcher("Order Completed"))], [], [Entry(Matcher("Order Delivered"))]]
    tps = [
        Touchpoint("checkout", 0, [Matcher("Checkout Started")]),
        Touchpoint("delivery", 2, [Matcher("Order Delivered")]),
    ]
    cards = run(engine(tmp_path, rows), spec(stages=stages, touchpoints=tps)).items
    assert cards[0].conversion.next_stage == 1
    assert cards[0].conversion.customers is None
    assert cards[1].conversion.next_stage is None
    assert cards[1].conversion.rate is None


def test_without_a_journey_the_responses_name_the_touchpoints(tmp_path: Path) -> None:
    rows = [
        answer("a", T0, "r1", touchpoint="delivery", nps=9),
        answer("b", T0, "r2", touchpoint="delivery", nps=4),
        answer("b", T0 + H, "r3", touchpoint="app", csat=5),
        answer("c", T0, "r4", touchpoint="", nps=10),  # no touchpoint
        answer("c", T0, "r5", nps=10),
        ev("c", "Order Delivered", T0),
    ]
    result = run(engine(tmp_path, rows), spec(touchpoints=None, stages=()))
    assert [(c.key, c.volume, c.reach, c.responses) for c in result.items] == [
        ("app", 1, 1, 1),
        ("delivery", 2, 2, 2),
    ]
    assert headline(Metric.NPS, result.items[1].figures[Metric.NPS])[0] == 0.0
    assert result.items[0].stage is None
    assert result.items[0].conversion.customers is None
    assert result.responses == 3


def test_weekly_trend_has_every_week_of_the_range(tmp_path: Path) -> None:
    rows = [
        ev("a", "Order Delivered", T0),
        answer("a", T0 + H, "r1", touchpoint="delivery", nps=10),
        ev("b", "Order Delivered", T0 + 14 * D),
        ev("c", "Order Delivered", T0 + 14 * D + H),
        answer("b", T0 + 15 * D, "r2", survey_id=SURVEY, nps=0),
    ]
    week = spec(end=DAY + timedelta(days=20))
    weeks = weekly(engine(tmp_path, rows), week, "delivery")
    assert [w.start for w in weeks] == [DAY + timedelta(days=7 * i) for i in range(3)]
    assert [(w.volume, w.reach, w.responses) for w in weeks] == [(2, 1, 1), (0, 0, 0), (3, 2, 1)]
    assert [headline(Metric.NPS, w.figures[Metric.NPS])[0] for w in weeks] == [100.0, None, -100.0]


def test_the_sql_runs_on_spark_too() -> None:
    text = to_spark(scorecard_sql(spec()))
    assert "GET_JSON_OBJECT" in text
    assert "JOIN hits AS h ON h.tp = e.tp" in text  # conversion: a plain join, no window


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"start": DAY + D}, "from"),
        ({"window": timedelta(0)}, "window_days"),
        ({"window": timedelta(days=400)}, "window_days"),
        ({"min_n": 0}, "min_responses"),
        ({"start": DAY - timedelta(days=2000)}, "to"),
        ({"stages": [[Entry(Matcher(None))]]}, "stages.0.entry.0.event"),
        ({"stages": [[Entry(Matcher("x"), count=0)]]}, "stages.0.entry.0.count"),
        (
            {"touchpoints": [Touchpoint("t", 0, [Matcher("x", where={"a b": 1})])]},
            "touchpoints.t.matchers.0.where.a b",
        ),
    ],
)
def test_bad_specs_name_the_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        spec(**kw).check()
    assert caught.value.field == field


# -- the ranking ----------------------------------------------------------------------------


def responses(touchpoint: str, scores: dict[int, int], rng: random.Random) -> list[dict[str, Any]]:
    """Responses at a touchpoint: ``scores`` maps an NPS score to how many gave it."""
    rows = []
    for score, count in scores.items():
        for i in range(count):
            who = f"{touchpoint}-{score}-{i}"
            at = T0 + timedelta(minutes=rng.randint(0, 600))
            rows.append(answer(who, at, f"r-{who}", touchpoint=touchpoint, nps=score))
    return rows


def test_the_ranking_orders_by_the_upper_bound_and_says_why(tmp_path: Path) -> None:
    rng = random.Random(3)
    rows = [
        # checkout: NPS -40 on 100 answers: surely the weakest
        *responses("checkout", {0: 60, 8: 20, 10: 20}, rng),
        # delivery: NPS -10 on 400 answers, interval about -17 to -3
        *responses("delivery", {3: 160, 8: 120, 9: 120}, rng),
        # support: NPS -20, lower than delivery, but on 30 answers (up to about +13)
        *responses("support", {5: 12, 7: 12, 10: 6}, rng),
        # app: NPS 60 on 200 answers
        *responses("app", {2: 20, 9: 140, 8: 40}, rng),
        # email: only 12 answers, all detractors: never ranked on that
        *responses("email", {0: 12}, rng),
    ]
    tps = [Touchpoint(k, 0) for k in ("email", "checkout", "delivery", "support", "app")]
    cards = run(engine(tmp_path, rows), spec(touchpoints=tps, stages=[[]], min_n=30))
    ranking = rank(cards, Metric.NPS, 30)

    assert [(i.card.key, i.rank) for i in ranking.items] == [
        ("checkout", 1),
        ("delivery", 2),
        ("support", 3),
        ("app", 4),
        ("email", None),
    ]
    assert ranking.ranked == 4
    assert ranking.journey.n == 742
    highs = [i.ci_high or 0.0 for i in ranking.items[:4]]
    assert highs == sorted(highs)
    support = ranking.items[2]
    assert support.value is not None
    assert support.value < (ranking.items[1].value or 0)

    first = ranking.items[0]
    assert first.code == "lowest_nps"
    assert first.value == pytest.approx(-40)
    assert first.vs_journey is not None
    assert first.vs_journey.significant
    assert first.vs_journey.difference is not None
    assert first.vs_journey.difference < 0
    assert ranking.items[1].code == BELOW
    assert support.code == IN_LINE  # its wide interval takes in the journey's score
    assert ranking.items[3].code == ABOVE
    # delivery and support cannot be told apart
    assert ranking.items[1].vs_next is not None
    assert not ranking.items[1].vs_next.significant
    email = ranking.items[4]
    assert (email.code, email.n, email.vs_journey) == (INSUFFICIENT, 12, None)


def test_csat_and_ces_rank_by_their_own_figures(tmp_path: Path) -> None:
    rows = []
    for i in range(40):
        rows.append(answer(f"a{i}", T0, f"ra{i}", touchpoint="app", csat=5, ces=2 + i % 2))
        rows.append(answer(f"b{i}", T0, f"rb{i}", touchpoint="web", csat=1 + i % 5, ces=7))
    tps = [Touchpoint("app", 0), Touchpoint("web", 0)]
    cards = run(engine(tmp_path, rows), spec(touchpoints=tps, stages=[[]], min_n=30))
    assert [i.card.key for i in rank(cards, Metric.CSAT, 30).items] == ["web", "app"]
    by_ces = rank(cards, Metric.CES, 30).items
    assert [i.card.key for i in by_ces] == ["app", "web"]
    assert by_ces[0].value == pytest.approx(2.5)
    assert by_ces[0].code == "lowest_ces"
    # under the minimum, nobody is ranked
    assert {i.code for i in rank(cards, Metric.CES, 41).items} == {INSUFFICIENT}
