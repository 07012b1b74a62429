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

from cxloop.analytics import funnels, retention
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
    merges = {f"c{c:03d}": f"c{c + 1:03d}" for c in range(0, 40, 4)}
    return rows, merges


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


@pytest.mark.parametrize("order", list(funnels.Order))
def test_funnels_agree(engines: tuple[Any, Any], order: funnels.Order) -> None:
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


def test_retention_and_churn_agree(engines: tuple[Any, Any]) -> None:
    spec = retention.RetentionSpec(
        start=date(2026, 9, 1), end=date(2026, 11, 30), periods=6, until=date(2026, 12, 31)
    )
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
    assert PACKS


def test_strings_are_escaped_for_both_dialects() -> None:
    text = literal("it's a \\ path")
    assert to_spark("SELECT " + text + " AS s") == "SELECT 'it\\'s a \\\\ path' AS s"
