"""NPS, CSAT and CES over event files: the statistics by hand, dedupe, breakdowns, trends, tests."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

import orjson
import pyarrow as pa
import pytest

from cxloop.analytics import events as store
from cxloop.analytics import stats
from cxloop.analytics.feedback import (
    NONE,
    CesFigure,
    CsatFigure,
    Filters,
    Interval,
    Metric,
    NpsFigure,
    Period,
    Scores,
    Sides,
    Spec,
    SpecError,
    compare,
    measure,
    respondents,
    summarize,
)

Z = NormalDist().inv_cdf(0.975)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
_ids = itertools.count()


def response(
    score: int | None,
    *,
    metric: str = "nps",
    response_id: str | None = None,
    at: datetime = T0,
    received: datetime | None = None,
    profile: str | None = None,
    event: str = "Survey Responded",
    **props: Any,
) -> dict[str, Any]:
    """One row of the event store: a ``Survey Responded`` track event."""
    n = next(_ids)
    properties = {
        "survey_id": "s1",
        "survey_name": "After delivery",
        "survey_version": 1,
        "response_id": f"r{n}" if response_id is None else response_id,
        "touchpoint": "delivery",
        "stage": "Purchase",
        "language": "vi",
        "channel": "email",
        "source": "link",
        "is_complete": True,
        "answers": {},
        "nps": None,
        "csat": None,
        "ces": None,
        "rating": None,
        metric: score,
        **props,
    }
    return {
        "message_id": f"m{n}",
        "type": "track",
        "event": event,
        "profile_id": profile or f"p{n}",
        "timestamp": at,
        "received_at": received or at,
        "channel": properties["channel"] or "server",
        "properties": orjson.dumps(properties).decode(),
    }


def write(tmp_path: Path, rows: list[dict[str, Any]]) -> list[str]:
    """The rows as event files (two, to read across files)."""
    columns = {name: [row.get(name) for row in rows] for name in store.COLUMNS}
    table = pa.table(columns, schema=store.SCHEMA)
    half = len(rows) // 2
    paths = []
    for i, part in enumerate((table.slice(0, half), table.slice(half))):
        if part.num_rows:
            path = tmp_path / f"part-{next(_ids)}-{i}.parquet"
            store.write_file(part, path)
            paths.append(str(path))
    return paths


def nps_rows(promoters: int, passives: int, detractors: int, **kw: Any) -> list[dict[str, Any]]:
    scores = [10] * promoters + [8] * passives + [5] * detractors
    return [response(score, **kw) for score in scores]


def nps(files: list[str], **spec: Any) -> NpsFigure:
    figure = measure(files, {}, Spec(Metric.NPS, **spec)).overall
    assert isinstance(figure, NpsFigure)
    return figure


# -- statistics by hand ---------------------------------------------------------------------


def test_student_t_quantiles_and_tails_match_the_tables() -> None:
    assert stats.t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-4)
    assert stats.t_quantile(0.975, 10) == pytest.approx(2.2281, abs=1e-4)
    assert stats.t_quantile(0.975, 29) == pytest.approx(2.0452, abs=1e-4)
    assert stats.t_quantile(0.975, 1e7) == pytest.approx(Z, abs=1e-5)
    assert stats.t_quantile(0.025, 10) == pytest.approx(-2.2281, abs=1e-4)
    assert stats.t_two_sided_p(2.0, 10) == pytest.approx(0.0734, abs=1e-4)
    assert stats.t_two_sided_p(2.2281388, 10) == pytest.approx(0.05, abs=1e-6)


def test_nps_of_100_answers_and_its_adjusted_wald_interval(tmp_path: Path) -> None:
    files = write(tmp_path, nps_rows(50, 30, 20))
    figure = nps(files)
    assert (figure.n, figure.promoters, figure.passives, figure.detractors) == (100, 50, 30, 20)
    assert figure.nps == pytest.approx(30.0)
    # adjusted Wald: n + 3, promoters and detractors + 3/4 each
    p, d, n = 50.75 / 103, 20.75 / 103, 103
    centre = p - d
    half = Z * math.sqrt((p + d - centre**2) / n)
    assert figure.ci_low == pytest.approx(100 * (centre - half))
    assert figure.ci_high == pytest.approx(100 * (centre + half))
    assert figure.small_sample is False
    assert figure.distribution["10"] == 50
    assert figure.distribution["5"] == 20
    # the plain Wald interval, for reference: var = (pP + pD - (pP - pD)^2) / n
    wald = stats.nps_interval(50, 20, 100, adjusted=False)
    half = Z * math.sqrt((0.5 + 0.2 - 0.3**2) / 100)
    assert wald == pytest.approx((100 * (0.3 - half), 100 * (0.3 + half)))


def test_the_adjusted_interval_is_sane_where_wald_is_not() -> None:
    assert stats.nps_interval(10, 0, 10, adjusted=False) == (100.0, 100.0)  # zero width
    low, high = stats.nps_interval(10, 0, 10)
    assert 40 < low < 100
    assert high == 100
    big = stats.nps_interval(5000, 2000, 10_000)
    assert big == pytest.approx(stats.nps_interval(5000, 2000, 10_000, adjusted=False), abs=0.05)


def test_csat_top_2_box_with_wilson_and_mean_with_t() -> None:
    counts = (5, 5, 10, 40, 40)  # 1..5
    figure = summarize(Metric.CSAT, Scores(1, counts))
    assert isinstance(figure, CsatFigure)
    assert figure.csat == pytest.approx(80.0)
    assert figure.satisfied == 80
    assert figure.n == 100
    p, n = 0.8, 100
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n * n))
    assert (figure.ci_low, figure.ci_high) == pytest.approx(
        (100 * (centre - half), 100 * (centre + half))
    )
    values = [s for s, c in zip(range(1, 6), counts, strict=True) for _ in range(c)]
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = 1.984216952  # t(0.975, 99)
    assert figure.mean == pytest.approx(mean)
    assert figure.mean_ci_low == pytest.approx(mean - t * sd / 10)
    assert figure.mean_ci_high == pytest.approx(mean + t * sd / 10)


def test_ces_mean_and_share_of_easy_answers() -> None:
    figure = summarize(Metric.CES, Scores(1, (0, 0, 0, 2, 3, 3, 2)), min_n=30)
    assert isinstance(figure, CesFigure)
    assert figure.ces == pytest.approx((4 * 2 + 5 * 3 + 6 * 3 + 7 * 2) / 10)
    assert figure.easy == 8
    assert figure.easy_pct == pytest.approx(80.0)
    assert figure.ci_low is not None
    assert figure.ci_high is not None
    assert 1 <= figure.ci_low < figure.ces < figure.ci_high <= 7
    assert figure.small_sample is True
    one = summarize(Metric.CES, Scores(1, (0, 0, 0, 0, 1, 0, 0)))
    assert isinstance(one, CesFigure)
    assert (one.ces, one.ci_low, one.ci_high) == (5.0, None, None)  # one answer: no spread


def test_nobody_answered_gives_nulls_not_errors(tmp_path: Path) -> None:
    result = measure([], {}, Spec(Metric.CSAT, by="channel", interval=Interval.DAY))
    assert isinstance(result.overall, CsatFigure)
    assert (result.overall.n, result.overall.csat, result.overall.mean) == (0, None, None)
    assert result.overall.small_sample is True
    assert result.groups == []
    assert result.trend == []
    files = write(tmp_path, [response(9, event="Order Completed")])
    assert nps(files).nps is None


# -- which responses count ------------------------------------------------------------------


def test_a_response_sent_again_counts_once_with_its_latest_answers(tmp_path: Path) -> None:
    rows = [
        response(2, response_id="again", at=T0),
        response(10, response_id="again", at=T0 + timedelta(hours=2)),  # the latest
        response(5, response_id="again", at=T0 + timedelta(hours=1)),  # arrives last
        # same timestamp: the one received later wins
        response(3, response_id="tie", at=T0, received=T0 + timedelta(seconds=1)),
        response(9, response_id="tie", at=T0, received=T0 + timedelta(seconds=5)),
        response(0, response_id="once"),
    ]
    figure = nps(write(tmp_path, rows))
    assert (figure.n, figure.promoters, figure.detractors) == (3, 2, 1)


def test_responses_without_an_id_each_count(tmp_path: Path) -> None:
    rows = [response(9, response_id=None, at=T0) for _ in range(3)]
    for row in rows:  # no response_id at all
        props = orjson.loads(row["properties"])
        del props["response_id"]
        row["properties"] = orjson.dumps(props).decode()
    assert nps(write(tmp_path, rows)).n == 3


def test_filters_apply_to_the_latest_version(tmp_path: Path) -> None:
    rows = [
        response(9, response_id="done", is_complete=False, at=T0),
        response(9, response_id="done", is_complete=True, at=T0 + timedelta(minutes=5)),
        response(8, response_id="dropped", is_complete=True, at=T0),
        response(2, response_id="dropped", is_complete=False, at=T0 + timedelta(minutes=5)),
        response(6, survey_id="s2", touchpoint="checkout", channel="web", language="th"),
        response(10, stage="Retention", touchpoint=None),
        response(11),  # outside the scale
        response(None, answers={"q9": 1}),  # no score
    ]
    files = write(tmp_path, rows)
    assert nps(files).n == 4
    assert nps(files, filters=Filters(complete_only=True)).n == 3
    assert nps(files, filters=Filters(survey_ids=["s2"])).detractors == 1
    assert nps(files, filters=Filters(survey_ids=["s1", "s2"])).n == 4
    assert nps(files, filters=Filters(touchpoints=["checkout"], channels=["web"])).n == 1
    assert nps(files, filters=Filters(languages=["th", "en"])).n == 1
    assert nps(files, filters=Filters(stages=["Retention"])).promoters == 1


def test_an_edit_moves_the_response_to_the_edits_time(tmp_path: Path) -> None:
    jan, feb = datetime(2026, 1, 31, 23, tzinfo=UTC), datetime(2026, 2, 1, 1, tzinfo=UTC)
    rows = [
        response(3, response_id="late", at=jan),
        response(9, response_id="late", at=feb),
        response(7, at=jan),
    ]
    files = write(tmp_path, rows)
    january = Filters(
        since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2026, 2, 1, tzinfo=UTC)
    )
    february = Filters(since=datetime(2026, 2, 1, tzinfo=UTC))
    assert nps(files, filters=january).n == 1  # only the passive; not the old version
    assert nps(files, filters=february).promoters == 1


def test_the_score_of_a_question_instead_of_the_metrics_field(tmp_path: Path) -> None:
    rows = [
        response(10, answers={"ltr": 2, "other": 9}),
        response(None, answers={"ltr": "9"}),
        response(None, answers={"ltr": 8.5}),  # not a score of the scale
        response(None, answers={"ltr": None}),
    ]
    files = write(tmp_path, rows)
    figure = nps(files, question_id="ltr")
    assert (figure.n, figure.promoters, figure.detractors) == (2, 1, 1)
    with pytest.raises(SpecError) as caught:
        Spec(Metric.NPS, question_id="a'b")
    assert caught.value.field == "question_id"


# -- breakdowns, customers, trends ----------------------------------------------------------


def test_breakdown_by_touchpoint_with_a_none_group(tmp_path: Path) -> None:
    rows = [
        *(response(10, touchpoint="checkout") for _ in range(3)),
        response(0, touchpoint="checkout"),
        response(9, touchpoint="delivery"),
        response(4, touchpoint=None),
        response(8, touchpoint=""),
    ]
    result = measure(write(tmp_path, rows), {}, Spec(Metric.NPS, by="touchpoint", min_n=2))
    groups = {g.key: g.figure for g in result.groups}
    assert [g.key for g in result.groups] == ["checkout", NONE, "delivery"]  # largest first
    assert isinstance(groups["checkout"], NpsFigure)
    assert groups["checkout"].nps == pytest.approx(50.0)
    assert groups[NONE].n == 2
    assert groups["delivery"].small_sample is True
    assert result.overall.n == 7


def test_breakdown_by_a_trait_counts_a_merged_customer_once(tmp_path: Path) -> None:
    rows = [
        response(10, profile="old", survey_id="s1"),  # before the merge: old -> new
        response(3, profile="new", survey_id="s1"),
        response(9, profile="other"),
        response(6, profile="nobody-knows"),
    ]
    files = write(tmp_path, rows)
    merges = {"old": "new"}
    spec = Spec(Metric.NPS, by="trait.plan", min_n=1)
    assert sorted(respondents(files, merges, spec)) == ["new", "nobody-knows", "other"]
    traits = pa.table({"profile_id": ["new", "other"], "value": ["gold", "silver"]})
    result = measure(files, merges, spec, traits)
    groups = {g.key: g.figure.n for g in result.groups}
    assert groups == {"gold": 2, "silver": 1, NONE: 1}
    per_customer = measure(
        files, merges, Spec(Metric.NPS, per_customer=True, by="trait.plan"), traits
    )
    assert {g.key: g.figure.n for g in per_customer.groups} == {"gold": 1, "silver": 1, NONE: 1}
    assert isinstance(per_customer.overall, NpsFigure)
    assert per_customer.overall.detractors == 2  # the merged customer's latest answer: 3
    with pytest.raises(SpecError):
        Spec(Metric.NPS, by="plan")


def test_trend_by_day_week_and_month_with_gaps_and_time_zones(tmp_path: Path) -> None:
    rows = [
        response(10, at=datetime(2026, 11, 2, 10, tzinfo=UTC)),
        response(0, at=datetime(2026, 11, 2, 20, tzinfo=UTC)),  # Nov 3 in Bangkok (+7)
        response(9, at=datetime(2026, 11, 5, 10, tzinfo=UTC)),
        response(9, at=datetime(2026, 12, 1, 10, tzinfo=UTC)),
    ]
    files = write(tmp_path, rows)
    daily = measure(files, {}, Spec(Metric.NPS, interval=Interval.DAY, min_n=1))
    assert daily.trend[0].period == date(2026, 11, 2)
    assert daily.trend[-1].period == date(2026, 12, 1)
    assert len(daily.trend) == 30  # empty days between are there, with n = 0
    by_day = {b.period: b.figure for b in daily.trend}
    assert by_day[date(2026, 11, 2)].n == 2
    assert by_day[date(2026, 11, 3)].n == 0
    assert by_day[date(2026, 11, 3)].small_sample is True
    assert daily.overall.n == 4
    bangkok = measure(files, {}, Spec(Metric.NPS, interval=Interval.DAY, tz="Asia/Bangkok"))
    assert {b.period: b.figure.n for b in bangkok.trend}[date(2026, 11, 3)] == 1
    weekly = measure(files, {}, Spec(Metric.NPS, interval=Interval.WEEK))
    assert [(b.period, b.figure.n) for b in weekly.trend] == [
        (date(2026, 11, 2), 3),
        (date(2026, 11, 9), 0),
        (date(2026, 11, 16), 0),
        (date(2026, 11, 23), 0),
        (date(2026, 11, 30), 1),
    ]
    monthly = measure(files, {}, Spec(Metric.NPS, interval=Interval.MONTH, by="touchpoint"))
    assert [(b.period, b.figure.n) for b in monthly.trend] == [
        (date(2026, 11, 1), 3),
        (date(2026, 12, 1), 1),
    ]
    assert monthly.overall.n == 4
    assert monthly.groups[0].figure.n == 4


def test_small_sample_follows_the_minimum(tmp_path: Path) -> None:
    files = write(tmp_path, nps_rows(10, 10, 9))
    assert nps(files).small_sample is True  # 29 < 30
    assert nps(files, min_n=29).small_sample is False
    with pytest.raises(SpecError):
        Spec(Metric.NPS, min_n=0)


# -- significance ---------------------------------------------------------------------------


def test_a_clearly_different_pair_is_significant(tmp_path: Path) -> None:
    rows = nps_rows(60, 20, 20, touchpoint="checkout") + nps_rows(20, 20, 60, touchpoint="support")
    files = write(tmp_path, rows)
    result = compare(files, {}, Spec(Metric.NPS, by="touchpoint"), Sides("checkout", "support"))
    (diff,) = result.differences
    assert isinstance(result.a, NpsFigure)
    assert isinstance(result.b, NpsFigure)
    assert (result.a.nps, result.b.nps) == (pytest.approx(40.0), pytest.approx(-40.0))
    assert diff.difference == pytest.approx(-80.0)
    assert diff.significant is True
    assert diff.refused is False
    assert diff.p_value is not None
    assert diff.p_value < 1e-6
    assert diff.ci_low is not None
    assert diff.ci_high is not None
    assert diff.ci_low < -80 < diff.ci_high < 0
    se = 100 * math.sqrt(
        stats.nps_variance(60.75, 20.75, 103) + stats.nps_variance(20.75, 60.75, 103)
    )
    assert diff.statistic == pytest.approx(-80 / se)


def test_two_halves_of_the_same_data_do_not_differ(tmp_path: Path) -> None:
    first = datetime(2026, 10, 1, tzinfo=UTC)
    rows = []
    for i, score in enumerate([10, 9, 8, 7, 6, 3, 10, 9, 0, 8] * 20):
        rows.append(
            response(
                score, at=first + timedelta(hours=i), csat=(score // 2) or 1, ces=(score % 7) + 1
            )
        )
    files = write(tmp_path, rows)
    half = first + timedelta(hours=100)
    sides = Sides(Period(first, half), Period(half, first + timedelta(hours=200)))
    for metric in Metric:
        result = compare(files, {}, Spec(metric), sides)
        assert result.a.n == result.b.n == 100
        for diff in result.differences:
            assert diff.refused is False
            assert diff.significant is False, (metric, diff)
            assert diff.difference == pytest.approx(0.0)
            assert diff.p_value == pytest.approx(1.0)


def test_csat_and_ces_tests_by_hand() -> None:
    test = stats.proportion_test((40, 100), (60, 100))
    pooled_se = math.sqrt(0.5 * 0.5 * (2 / 100))
    assert test.difference == pytest.approx(0.2)
    assert test.statistic == pytest.approx(0.2 / pooled_se)
    assert test.p_value == pytest.approx(2 * (1 - NormalDist().cdf(0.2 / pooled_se)))
    assert test.ci_low < 0.2 < test.ci_high
    welch = stats.welch_test((10, 3.0, 1.0), (20, 4.0, 4.0))
    se = math.sqrt(1 / 10 + 4 / 20)
    df = (0.1 + 0.2) ** 2 / (0.1**2 / 9 + 0.2**2 / 19)
    assert welch.statistic == pytest.approx(1 / se)
    assert welch.p_value == pytest.approx(stats.t_two_sided_p(1 / se, df))
    assert welch.ci_high - welch.difference == pytest.approx(stats.t_quantile(0.975, df) * se)
    flat = stats.welch_test((5, 4.0, 0.0), (5, 4.0, 0.0))
    assert (flat.p_value, flat.significant) == (1.0, False)


def test_a_side_under_the_minimum_is_refused_not_an_error(tmp_path: Path) -> None:
    rows = nps_rows(20, 5, 5, touchpoint="checkout") + nps_rows(3, 3, 3, touchpoint="support")
    files = write(tmp_path, rows)
    result = compare(files, {}, Spec(Metric.CSAT, by="touchpoint"), Sides("checkout", "support"))
    for diff in result.differences:
        assert diff.refused is True
        assert diff.significant is None
        assert diff.p_value is None
        assert diff.reason is not None
        assert "b has 0" in diff.reason
    result = compare(files, {}, Spec(Metric.NPS, by="touchpoint"), Sides("checkout", "support"))
    (diff,) = result.differences
    assert diff.refused is True
    assert diff.reason == "b has 9 answers; each side needs at least 30"
    assert diff.difference == pytest.approx(0.0 - 50.0)  # shown, not tested
