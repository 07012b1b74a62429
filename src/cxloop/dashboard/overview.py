"""The overview (``/app``): NPS, CSAT and CES by week with their 95 % bands, each metric now
against the period before with the test of the difference, the pinned metric, and the
tiles of the workspace's KPI pack against the period before."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from cxloop.analytics.feedback import Interval, Metric
from cxloop.analytics.kpis import Interval as KpiInterval
from cxloop.core.deps import ReadsDep, ReadSessionDep, SettingsDep
from cxloop.dashboard import kpi_views, memo, periods
from cxloop.dashboard.auth import PageDep
from cxloop.eventstore.service import events_root
from cxloop.kpis import service as kpi_service
from cxloop.surveys import metrics
from cxloop.surveys.metrics_schemas import CompareQuery, MeasureQuery
from cxloop.web import charts, formatting
from cxloop.web.charts import Chart, Part, Series
from cxloop.web.page import Page
from cxloop.web.tables import Column, Table

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 90
KPI_TABLE = "kpi-tiles"


@dataclass(frozen=True)
class MetricShape:
    """How one feedback metric is read from its figures and drawn."""

    metric: Metric
    value: str  # the figure's field
    decimals: int
    unit: str  # "" or "%"
    colour: str
    bounds: tuple[float, float]  # what the scale can take


SHAPES = (
    MetricShape(Metric.NPS, "nps", 1, "", charts.BLUE, (-100, 100)),
    MetricShape(Metric.CSAT, "csat", 1, "%", charts.BLUISH_GREEN, (0, 100)),
    MetricShape(Metric.CES, "ces", 2, "", charts.REDDISH_PURPLE, (1, 7)),
)


@dataclass(frozen=True)
class Headline:
    """A metric in the period, the period before, and whether the change is real."""

    shape: MetricShape
    value: float | None
    n: int
    small_sample: bool
    previous: float | None
    previous_n: int
    change: float | None
    p_value: float | None
    significant: bool | None
    refused: bool


@router.get("/app")
def overview(
    page: PageDep,
    session: ReadSessionDep,
    reads: ReadsDep,
    settings: SettingsDep,
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
) -> Response:
    period = periods.choose(start, end, page.viewer.timezone, DEFAULT_DAYS)
    root = events_root(settings)
    workspace_id = page.viewer.workspace_id
    trends = {
        shape.metric: metrics.measure(
            session, workspace_id, root, shape.metric, _measure_query(period)
        )
        for shape in SHAPES
    }
    built = [_trend_chart(page, shape, trends[shape.metric]) for shape in SHAPES]
    built.insert(1, _nps_mix_chart(page, trends[Metric.NPS]))
    if page.wants_download and page.request.query_params.get("table") != KPI_TABLE:
        # a chart or its data: the tests against the period before and the KPIs can wait
        return page.render("app/overview.html", section="overview", title="", charts=built)
    headlines = [
        _headline(
            shape,
            metrics.compare(session, workspace_id, root, shape.metric, _compare_query(period)),
        )
        for shape in SHAPES
    ]
    keep = memo.Keeper(session, workspace_id, reads, settings.dashboard_stale_seconds)
    report = kpi_service.report(
        session,
        root,
        workspace_id,
        pack=None,
        start=period.start,
        end=period.end,
        interval=KpiInterval.WEEK,
        keep=keep,
    )
    omtm = kpi_views.pinned(session, root, workspace_id, report, period, keep)
    return page.render(
        "app/overview.html",
        section="overview",
        title=page.t("overview.title"),
        charts=built,
        tables=[kpi_views.table(page, report, KPI_TABLE)],
        period=period,
        headlines=headlines,
        report=report,
        tiles=kpi_views.tiles(page, report),
        pinned=kpi_views.tile(page, omtm["kpi"], omtm["currency"]) if omtm else None,
        as_of=keep.as_of,
    )


def _measure_query(period: periods.Period) -> MeasureQuery:
    return MeasureQuery.model_validate(
        {"from": period.since, "to": period.until, "tz": period.tz, "interval": Interval.WEEK}
    )


def _compare_query(period: periods.Period) -> CompareQuery:
    before = period.previous
    return CompareQuery.model_validate(
        {
            "a.from": before.since,
            "a.to": before.until,
            "b.from": period.since,
            "b.to": period.until,
            "tz": period.tz,
        }
    )


def _headline(shape: MetricShape, compared: dict[str, Any]) -> Headline:
    now, before = compared["b"], compared["a"]
    return Headline(
        shape=shape,
        value=now[shape.value],
        n=now["n"],
        small_sample=now["small_sample"],
        previous=before[shape.value],
        previous_n=before["n"],
        change=compared["difference"],
        p_value=compared["p_value"],
        significant=compared["significant"],
        refused=compared["refused"],
    )


def _trend_chart(page: Page, shape: MetricShape, body: dict[str, Any]) -> Chart:
    return trend_chart(page, shape, body.get("trend") or [], "overview.trend", shape.bounds)


def trend_chart(
    page: Page,
    shape: MetricShape,
    buckets: Sequence[dict[str, Any]],
    keys: str,
    bounds: tuple[float, float] | None = None,
) -> Chart:
    """A metric week by week with its 95 % band, weeks with too few answers hollow; its
    title and description are the ``{keys}.title`` and ``{keys}.desc`` texts."""
    t, lang = page.t, page.lang
    name = t(f"metric.{shape.metric.value}")
    table = Table(
        id=f"{shape.metric.value}-trend",
        title=t(f"{keys}.title").format(metric=name),
        columns=[
            Column(t("table.week"), "date"),
            Column(name, "number", shape.decimals, shape.unit),
            Column(t("table.ci_low"), "number", shape.decimals, shape.unit),
            Column(t("table.ci_high"), "number", shape.decimals, shape.unit),
            Column(t("table.n"), "int"),
        ],
        rows=[[b["period"], b[shape.value], b["ci_low"], b["ci_high"], b["n"]] for b in buckets],
        caption=t("chart.no_data"),
    )
    known = [b for b in buckets if b[shape.value] is not None]
    description = t("chart.no_data")
    if known:
        last = known[-1]
        description = t(f"{keys}.desc").format(
            metric=name,
            weeks=len(buckets),
            week=formatting.day(last["period"], lang),
            value=formatting.number(last[shape.value], lang, shape.decimals),
            low=formatting.number(last["ci_low"], lang, shape.decimals),
            high=formatting.number(last["ci_high"], lang, shape.decimals),
            n=formatting.number(last["n"], lang),
        )
    series = Series(
        name,
        [b[shape.value] for b in buckets],
        low=[b["ci_low"] for b in buckets],
        high=[b["ci_high"] for b in buckets],
        colour=shape.colour,
        hollow=[b["small_sample"] for b in buckets],
    )
    return charts.line_chart(
        table.id,
        table.title,
        description,
        [formatting.short_day(b["period"], lang) for b in buckets],
        [series],
        table,
        bounds=bounds,
        band_label=t("chart.band"),
    )


def _nps_mix_chart(page: Page, body: dict[str, Any]) -> Chart:
    t, lang = page.t, page.lang
    buckets = body.get("trend") or []
    names = (t("nps.promoters"), t("nps.passives"), t("nps.detractors"))
    table = Table(
        id="nps-mix",
        title=t("overview.mix.title"),
        columns=[
            Column(t("table.week"), "date"),
            *(Column(name, "int") for name in names),
            Column(t("table.n"), "int"),
        ],
        rows=[
            [b["period"], b["promoters"], b["passives"], b["detractors"], b["n"]] for b in buckets
        ],
        caption=t("chart.no_data"),
    )
    total = {k: sum(b[k] for b in buckets) for k in ("promoters", "passives", "detractors")}
    answers = sum(total.values())
    share: Callable[[str], str] = lambda k: formatting.percent(  # noqa: E731
        total[k] / answers if answers else None, lang, 0
    )
    description = (
        t("overview.mix.desc").format(
            promoters=share("promoters"),
            passives=share("passives"),
            detractors=share("detractors"),
            n=formatting.number(answers, lang),
        )
        if answers
        else t("chart.no_data")
    )
    layers = [
        Part(names[0], [b["promoters"] for b in buckets], charts.PROMOTER),
        Part(names[1], [b["passives"] for b in buckets], charts.PASSIVE),
        Part(names[2], [b["detractors"] for b in buckets], charts.DETRACTOR),
    ]
    return charts.stacked_bars(
        table.id,
        table.title,
        description,
        [formatting.short_day(b["period"], lang) for b in buckets],
        layers,
        table,
    )
