"""One touchpoint (``/app/touchpoints/{key}?journey_id=``): its scorecard (volume, reach,
NPS, CSAT and CES with their 95 % intervals, conversion to the next stage), where it ranks
and why, the touchpoints customers meet just before and just after it, and its scores week
by week. A key the journey (or, without one, the period's responses) does not have is a 404."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from cxloop.analytics.feedback import Metric
from cxloop.core.deps import ReadsDep, ReadSessionDep, SettingsDep
from cxloop.dashboard import journeys_data, periods
from cxloop.dashboard.auth import PageDep
from cxloop.dashboard.journeys_data import TouchpointDetail
from cxloop.dashboard.journeys_pages import DEFAULT_DAYS, SYMBOLS, score_text
from cxloop.dashboard.journeys_pages import Metric as MetricName
from cxloop.dashboard.overview import SHAPES, trend_chart
from cxloop.eventstore.service import events_root
from cxloop.web import charts, formatting
from cxloop.web.charts import Chart
from cxloop.web.page import Page
from cxloop.web.tables import Column, Table

router = APIRouter(include_in_schema=False)
SHAPE = {shape.metric.value: shape for shape in SHAPES}


@router.get("/app/touchpoints/{touchpoint_key}")
def touchpoint_page(
    page: PageDep,
    session: ReadSessionDep,
    reads: ReadsDep,
    settings: SettingsDep,
    touchpoint_key: str = Path(max_length=200),
    journey_id: uuid.UUID | None = Query(None),
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
    metric: MetricName = Query("nps"),
) -> Response:
    period = periods.choose(start, end, page.viewer.timezone, DEFAULT_DAYS)
    detail = journeys_data.touchpoint(
        session,
        events_root(settings),
        page.viewer.workspace_id,
        touchpoint_key,
        journey_id,
        period,
        page.lang,
        metric,
        reads=reads,
        stale_seconds=settings.dashboard_stale_seconds,
    )
    trends = [
        trend_chart(page, SHAPE[m], _weeks(detail, m), "touchpoint.trend", SHAPE[m].bounds)
        for m in journeys_data.METRICS
        if detail.card.scorecard[m]["n"]
    ]
    paths = [path_chart(page, detail, "previous"), path_chart(page, detail, "next")]
    back = "/app/journeys"
    if detail.journey is not None:
        back = f"/app/journeys/{detail.journey.id}?from={period.start}&to={period.end}"
    return page.render(
        "app/journeys/touchpoint.html",
        section="journeys",
        title=detail.card.name,
        charts=[*trends, *paths],
        tables=[weekly_table(page, detail)],
        period=period,
        detail=detail,
        card=detail.card,
        figures=[_figure(page, detail, m) for m in journeys_data.METRICS],
        trends=[c.id for c in trends],
        metric=metric,
        metrics=journeys_data.METRICS,
        symbols=SYMBOLS,
        score=lambda s: score_text(page, s.metric, s.value),
        back=back,
    )


def _weeks(detail: TouchpointDetail, metric: str) -> list[dict[str, Any]]:
    """The weeks as the trend chart reads them (``period``, the figure's fields)."""
    return [{"period": week.start, **asdict(week.figures[Metric(metric)])} for week in detail.trend]


def _figure(page: Page, detail: TouchpointDetail, metric: str) -> dict[str, Any]:
    """One metric's tile: the value, its interval and n, in the page's language."""
    figure = detail.card.scorecard[metric]
    decimals = SHAPE[metric].decimals
    unit = " %" if metric == "csat" else ""
    value = figure[metric]
    return {
        "metric": metric,
        "name": page.t(f"metric.{metric}"),
        "value": formatting.number(value, page.lang, decimals)
        + (unit if value is not None else ""),
        "low": formatting.number(figure["ci_low"], page.lang, decimals),
        "high": formatting.number(figure["ci_high"], page.lang, decimals),
        "has_interval": figure["ci_low"] is not None and figure["ci_high"] is not None,
        "n": figure["n"],
        "small_sample": figure["small_sample"],
        "band": journeys_data.band(metric, value),
    }


def weekly_table(page: Page, detail: TouchpointDetail) -> Table:
    t = page.t
    return Table(
        id="weekly",
        title=t("touchpoint.weekly.title"),
        columns=[
            Column(t("table.week"), "date"),
            Column(t("journeys.column.volume"), "int"),
            Column(t("journeys.column.reach"), "int"),
            Column(t("touchpoint.responses"), "int"),
        ],
        rows=[[w.start, w.volume, w.reach, w.responses] for w in detail.trend],
        caption=t("chart.no_data"),
    )


def path_chart(page: Page, detail: TouchpointDetail, direction: str) -> Chart:
    """The touchpoints customers met just before (or after) this one, most customers first."""
    t, lang = page.t, page.lang
    found = detail.previous if direction == "previous" else detail.next
    steps = (found or {}).get("steps") or []
    items = steps[0]["items"] if steps else []
    table = Table(
        id=f"{direction}-touchpoints",
        title=t(f"touchpoint.{direction}.title"),
        columns=[
            Column(t("journeys.column.touchpoint")),
            Column(t("touchpoint.customers"), "int"),
            Column(t("touchpoint.share"), "share", 1),
        ],
        rows=[[i["label"], i["customers"], i["share"]] for i in items],
        caption=t("touchpoint.paths.none" if found is not None else "touchpoint.paths.no_journey"),
    )
    description = table.caption
    if items and found is not None:
        description = t(f"touchpoint.{direction}.desc").format(
            n=formatting.number(found["customers"], lang),
            top=items[0]["label"],
            share=formatting.percent(items[0]["share"], lang, 0),
        )
    return charts.bar_chart(
        table.id,
        table.title,
        description,
        [i["label"] for i in items],
        [float(i["customers"]) for i in items],
        table,
        colour=charts.SKY_BLUE if direction == "previous" else charts.BLUE,
        value_labels=[
            f"{formatting.number(i['customers'], lang)} ({formatting.percent(i['share'], lang, 0)})"
            for i in items
        ],
    )
