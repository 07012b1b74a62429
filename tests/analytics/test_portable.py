"""The same queries on DuckDB and on Spark ``local[2]`` give the same answers."""

from __future__ import annotations

import importlib.util
import random
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import pytest

from cxloop.analytics import events as store
from cxloop.analytics import funnels, paths, retention, touchpoints
from cxloop.analytics import stages as placement
from cxloop.analytics.feedback import Metric
from cxloop.analytics.kpis import PACKS, Interval, KpiSpec, compute
from cxloop.analytics.portable import DuckDBEngine, Matcher, SparkEngine, literal, to_spark
from tests.fixtures.events import T0, ev, write

pytestmark = [
    pytest.mark.slow,
    # py4j leaves its gateway sockets to the garbage collector
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

EVENTS = [
    ("Product Viewed", 5),
    ("Product Added", 3),
    ("Checkout Started", 2),
    ("Order Completed", 1),
    ("Email Delivered", 1),
    ("Email Link Clicked", 1),
    ("Signed Up", 1),
    ("Application Opened", 2),
]


def dataset() -> tuple[list[dict[str, Any]], dict[str, str]]:
    rng = random.Random(7)
    rows = []
    names = [name for name, weight in EVENTS for _ in range(weight)]
    for c in range(120):
        start = T0 - timedelta(days=rng.randint(0, 60))
        for _ in range(rng.randint(1, 30)):
            at = start + timedelta(minutes=rng.randint(0, 60 * 24 * 50))
            name = rng.choice(names)
            props: dict[str, Any] = {"plan": rng.choice(["free", "pro", "it's"])}
            if name == "Order Completed":
                props["revenue"] = rng.randint(1, 500) / 4
            rows.append(ev(f"c{c:03d}", name, at, channel=rng.choice(["web", "ios"]), **props))
    rows.extend(responses())
    merges = {f"c{c:03d}": f"c{c + 1:03d}" for c in range(0, 40, 4)}
    return rows, merges


SURVEY = "0190f0e0-0000-7000-8000-00000000000a"


def responses() -> list[dict[str, Any]]:
    """Survey responses at touchpoints, some sent again with other answers."""
    rng = random.Random(11)
    rows = []
    for n in range(400):
        who = f"c{rng.randint(0, 119):03d}"
        at = T0 - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
        props: dict[str, Any] = {
            "response_id": f"r{n}",
            "touchpoint": rng.choice(["cart", "support", "delivery", ""]),
            "nps": rng.choice([0, 3, 6, 7, 8, 9, 10, 10]),
            "csat": rng.randint(1, 5),
        }
        if rng.random() < 0.3:
            props |= {"survey_id": SURVEY, "ces": rng.randint(1, 7)}
        rows.append(ev(who, "Survey Responded", at, **props))
        if rng.random() < 0.1:  # a later version of the same response
            later = at + timedelta(hours=rng.randint(1, 48))
            rows.append(ev(who, "Survey Responded", later, **(props | {"nps": rng.randint(0, 10)})))
    return rows


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: pip install -e '.[spark]' to run this test")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (17) on the PATH; none was found")
    from pyspark.sql import SparkSession  # an optional dependency

    session = (
        SparkSession.builder.master("local[2]")
        .appName("cxloop-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def engines(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    rows, merges = dataset()
    files = write(tmp_path_factory.mktemp("events"), rows, parts=3)
    return DuckDBEngine(files, merges), SparkEngine(spark, files, merges)


def same(a: Any, b: Any) -> None:
    assert _rounded(asdict(a) if not isinstance(a, list) else [asdict(x) for x in a]) == _rounded(
        asdict(b) if not isinstance(b, list) else [asdict(x) for x in b]
    )


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("order", "limit"),
    [
        (funnels.Order.LOOSE, funnels.PAIRS_LIMIT),
        (funnels.Order.LOOSE, -1),
        (funnels.Order.STRICT, 0),
    ],
    ids=["loose", "loose-folded", "strict"],
)
def test_funnels_agree(
    engines: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch, order: funnels.Order, limit: int
) -> None:
    monkeypatch.setattr(funnels, "PAIRS_LIMIT", limit)
    spec = funnels.FunnelSpec(
        steps=[
            Matcher("Product Viewed"),
            Matcher("Product Added", where={"plan": ["pro", "it's"]}),
            Matcher("Order Completed", where={"revenue": {"gte": 10}}),
        ],
        start=date(2026, 9, 1),
        end=date(2026, 11, 30),
        window=timedelta(days=7),
        order=order,
        breakdown=funnels.Breakdown(funnels.BreakdownKind.CHANNEL),
    )
    duck, spark = (funnels.run(e, spec) for e in engines)
    assert duck.steps[0].customers > 0
    same(duck, spark)


def test_a_funnel_with_a_repeated_step_agrees(engines: tuple[Any, Any]) -> None:
    """An event of two steps at once: each engine lists it once per step."""
    view = Matcher("Product Viewed")
    spec = funnels.FunnelSpec(
        steps=[view, view, Matcher("Product Added")],
        start=date(2026, 9, 1),
        end=date(2026, 11, 30),
        window=timedelta(days=3),
    )
    duck, spark = (funnels.run(e, spec) for e in engines)
    assert duck.steps[1].customers > 0
    same(duck, spark)


def test_retention_and_churn_agree(engines: tuple[Any, Any]) -> None:
    spec = retention.RetentionSpec(
        start=date(2026, 9, 1), end=date(2026, 11, 30), periods=6, until=date(2026, 12, 31)
    )
    duck, spark = (retention.retention(e, spec) for e in engines)
    assert duck.cohorts
    same(duck, spark)
    # a cohort of first orders, back on any view: the general query, not the one pass
    spec = retention.RetentionSpec(
        start=date(2026, 9, 1),
        end=date(2026, 11, 30),
        period=retention.Period.MONTH,
        periods=2,
        cohort=Matcher("Order Completed"),
        returning=Matcher("Product Viewed"),
    )
    assert "bit_or" not in retention.retention_sql(spec)
    duck, spark = (retention.retention(e, spec) for e in engines)
    assert duck.cohorts
    same(duck, spark)
    churn = retention.ChurnSpec(
        date(2026, 10, 1), date(2026, 11, 30), 14, interval=retention.Period.WEEK
    )
    same(*(retention.churn(e, churn) for e in engines))


def test_the_ecommerce_and_saas_packs_agree(engines: tuple[Any, Any]) -> None:
    for pack in ("ecommerce", "saas"):
        spec = KpiSpec(
            pack=pack,
            start=date(2026, 11, 2),
            end=date(2026, 11, 29),
            interval=Interval.WEEK,
            spend={date(2026, 11, 5): 300.0},
        )
        duck, spark = (compute(e, spec) for e in engines)
        assert any(r.value for r in duck)
        same(duck, spark)
    # 90 days a day at a time: a customer's days take two words of bits
    daily = KpiSpec(
        pack="ecommerce", start=date(2026, 9, 1), end=date(2026, 11, 29), interval=Interval.DAY
    )
    duck, spark = (compute(e, daily) for e in engines)
    assert sum(p.value is not None for r in duck for p in r.series) > 90
    same(duck, spark)
    assert PACKS


def test_touchpoint_scorecards_ranking_and_paths_agree(engines: tuple[Any, Any]) -> None:
    journey = [
        touchpoints.Touchpoint("browse", 0, [Matcher("Product Viewed")]),
        touchpoints.Touchpoint(
            "cart", 1, [Matcher("Product Added", where={"plan": ["pro", "it's"]})], [SURVEY]
        ),
        touchpoints.Touchpoint("email", 1, [Matcher("Email Link Clicked")]),
        touchpoints.Touchpoint("support", 2),
    ]
    stages = [
        [touchpoints.Entry(Matcher("Product Viewed"))],
        [touchpoints.Entry(Matcher("Checkout Started"))],
        [touchpoints.Entry(Matcher("Order Completed"), count=2)],
    ]
    spec = touchpoints.ScorecardSpec(
        start=date(2026, 9, 1), end=date(2026, 11, 30), touchpoints=journey, stages=stages
    )
    duck, spark = (touchpoints.run(e, spec) for e in engines)
    assert all(c.volume for c in duck.items)
    assert duck.responses > 100
    assert any(c.conversion.customers for c in duck.items)
    same(duck, spark)
    for metric in (Metric.NPS, Metric.CES):
        same(*(touchpoints.rank(r, metric, 20) for r in (duck, spark)))
    nodes = [
        paths.Node(t.key, "(" + " OR ".join(m.sql() for m in t.matchers) + ")")
        for t in journey
        if t.matchers
    ]
    for path in (
        paths.PathSpec(Matcher("Product Added"), date(2026, 10, 1), date(2026, 11, 30), top=3),
        paths.PathSpec(
            "cart",
            date(2026, 10, 1),
            date(2026, 11, 30),
            nodes=nodes,
            direction=paths.Direction.PREVIOUS,
        ),
    ):
        duck_paths, spark_paths = (paths.run(e, path) for e in engines)
        assert duck_paths.links
        same(duck_paths, spark_paths)


def test_stage_placement_agrees(engines: tuple[Any, Any]) -> None:
    rule, target = placement.Rule, placement.Target
    journey = [
        target("consider", [rule(Matcher("Product Viewed")), rule(Matcher("Product Added"))]),
        target("buy", [rule(Matcher("Order Completed"))]),
        target("onboard", [rule(Matcher("Signed Up")), rule(Matcher("Application Opened"))]),
        target("again", [rule(Matcher("Order Completed"), 2)]),
        target("grow", [rule(Matcher("Order Completed", where={"revenue": {"gte": 100}}))]),
        target("promote", [rule(Matcher("Survey Responded", where={"nps": {"gte": 9}}))]),
    ]
    until = T0 + timedelta(days=30)
    duck, spark = (placement.placements(e, journey, until) for e in engines)
    assert len({p.stage for p in duck}) > 3
    same(duck, spark)
    weeks = placement.Range(date(2026, 9, 1), date(2026, 11, 30), placement.Interval.WEEK)
    spec = placement.DistributionSpec(journey, weeks, until)
    same(*(placement.distribution(e, spec) for e in engines))
    reached = placement.MilestoneSpec(journey[3:], weeks)
    same(*(placement.milestones(e, reached) for e in engines))
    who = duck[0].customer_id
    same(*(placement.customer_journey(e, journey, journey[1:4], who, until) for e in engines))


def test_strings_are_escaped_for_both_dialects() -> None:
    text = literal("it's a \\ path")
    assert to_spark("SELECT " + text + " AS s") == "SELECT 'it\\'s a \\\\ path' AS s"


def test_duckdb_gets_an_eighth_of_the_machine_within_bounds() -> None:
    gib = 2**30
    assert store.memory_limit(2 * gib) == "384MiB"  # a small machine: the floor
    assert store.memory_limit(8 * gib) == "1024MiB"
    assert store.memory_limit(64 * gib) == "2048MiB"  # more buys nothing measurable
    setting = store.connect().execute("SELECT current_setting('memory_limit')").fetchall()
    assert setting[0][0].endswith("iB")


def test_a_funnel_and_kpi_firsts_read_from_the_customer_event_index_agree(
    spark: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The index of two files and the third as the delta, on both engines, and the events.
    Last in the module: a new Spark engine redefines the session's views."""
    rows, merges = dataset()
    folder = tmp_path_factory.mktemp("indexed")
    files = write(folder, rows, parts=3)
    store.write_index(files[:2], folder / "index.parquet")
    indexed = store.Indexed(str(folder / "index.parquet"), [str(files[2])])
    spec = funnels.FunnelSpec(
        steps=[Matcher("Product Viewed"), Matcher("Product Added"), Matcher("Order Completed")],
        start=date(2026, 9, 1),
        end=date(2026, 11, 30),
        window=timedelta(days=7),
        breakdown=funnels.Breakdown(funnels.BreakdownKind.TRAIT, "plan"),
    )
    duck = funnels.run(DuckDBEngine(files, merges, indexed), spec)
    spark_ = funnels.run(SparkEngine(spark, files, merges, indexed), spec)
    assert duck.steps[1].customers > 0
    same(duck, spark_)
    same(duck, funnels.run(DuckDBEngine(files, merges), spec))
    # new customers, known customers and the time to a first purchase come from the index
    for pack in ("ecommerce", "saas", "mobile_app"):
        kpis = KpiSpec(pack=pack, start=date(2026, 10, 5), end=date(2026, 11, 1))
        duck_kpis = compute(DuckDBEngine(files, merges, indexed), kpis)
        assert any(r.value for r in duck_kpis)
        same(duck_kpis, compute(SparkEngine(spark, files, merges, indexed), kpis))
        same(duck_kpis, compute(DuckDBEngine(files, merges), kpis))
