"""``bench/analytics.py`` at a tiny size: cxloop, the hand-written DuckDB queries and pandas
give the same funnel, cohorts and KPI pack on the synthetic shop, and a difference shows."""

from __future__ import annotations

import copy
from pathlib import Path

from bench import analytics
from bench.analytics_baselines import differences


def test_the_three_implementations_agree_on_a_small_shop(tmp_path: Path) -> None:
    outcomes, data = analytics.run(analytics.parse_args([*_small(tmp_path), "--pandas-runs", "1"]))
    assert data.events == 30_000
    assert data.merge_map, "some customers have merged profiles"
    found = {o.name: o for o in outcomes}
    assert set(found) == {"funnel", "retention", "kpis"}
    for outcome in outcomes:
        assert outcome.mismatches == []
        assert len(outcome.ours) == len(outcome.duckdb) == len(outcome.pandas) == 1

    funnel = found["funnel"].answer
    entered, added, ordered = funnel["customers"]
    assert entered > added > ordered > 0
    assert funnel["median"][2] > 0
    assert len(funnel["dropped"][1]) == 20

    cohorts = found["retention"].answer
    assert len(cohorts["sizes"]) == 12
    assert sum(cohorts["sizes"].values()) > 100

    kpis = found["kpis"].answer
    assert 0 < kpis["conversion_rate"]["value"] < 1
    assert kpis["average_cart_size"]["value"] > 10_000  # VND
    assert len(kpis["cac"]["series"]) == 5  # the weeks of the month, clipped to it

    # the same data set comes from the cache the second time
    again, _ = analytics.run(analytics.parse_args([*_small(tmp_path), "--only", "retention"]))
    assert again[0].answer == cohorts


def test_a_different_answer_is_reported() -> None:
    ours = {"customers": [10, 5, 2], "median": [None, 1.5, 3.0], "kpi": {"value": 0.25}}
    theirs = copy.deepcopy(ours)
    assert differences(ours, theirs) == []
    theirs["customers"][2] = 3
    theirs["median"][1] = 1.5 + 1e-12  # float noise is not a difference
    theirs["kpi"]["value"] = None
    assert differences(ours, theirs) == [".customers[2]: 2 != 3", ".kpi.value: 0.25 != None"]


def _small(tmp_path: Path) -> list[str]:
    return [
        *("--events", "30000", "--customers", "600", "--runs", "1", "--pandas-runs", "0"),
        *("--no-memory", "--data-dir", str(tmp_path)),
    ]
