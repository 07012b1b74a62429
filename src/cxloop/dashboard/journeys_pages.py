"""The journey map (``/app/journeys`` and ``/app/journeys/{id}``): the stages in journey order
with the customers in each and their touchpoints coloured by score, the weakest touchpoint
and why, the funnel between stages and the stage distribution over time. Owners and admins
of a workspace without a journey create one from the default template here."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.core.actors import Actor
from cxloop.core.deps import ReadsDep, ReadSessionDep, SessionDep, SettingsDep, client_ip
from cxloop.core.errors import Forbidden
from cxloop.dashboard import journeys_data, periods
from cxloop.dashboard.auth import FormDep, PageDep, ViewerDep
from cxloop.dashboard.journeys_data import JourneyView, TouchpointCard
from cxloop.eventstore.service import events_root
from cxloop.journeys import maps, templates
from cxloop.journeys.map_schemas import JourneyCreate
from cxloop.web import charts, formatting
from cxloop.web.charts import Chart, Part
from cxloop.web.page import Page
from cxloop.web.shell import dashboard_language
from cxloop.web.tables import Column, Table

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = journeys_data.MAP_DAYS
CREATING_ROLES = ("owner", "admin")
Metric = Literal["nps", "csat", "ces"]
SYMBOLS = {"strong": "▲", "fair": "●", "weak": "▼", "none": "○"}


@router.get("/app/journeys")
@router.get("/app/journeys/{journey_id}")
def journey_page(
    page: PageDep,
    session: ReadSessionDep,
    reads: ReadsDep,
    settings: SettingsDep,
    journey_id: uuid.UUID | None = None,
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
    metric: Metric = Query("nps"),
) -> Response:
    """The map of a journey (without an id, the workspace's first one)."""
    return _journey_page(page, session, reads, settings, journey_id, start, end, metric)


def _journey_page(
    page: Page,
    session: ReadSessionDep,
    reads: ReadsDep,
    settings: SettingsDep,
    journey_id: uuid.UUID | None,
    start: date | None,
    end: date | None,
    metric: str,
) -> Response:
    period = periods.choose(start, end, page.viewer.timezone, DEFAULT_DAYS)
    workspace_id = page.viewer.workspace_id
    journey = journeys_data.chosen(session, workspace_id, journey_id)
    if journey is None:
        return page.render(
            "app/journeys/empty.html",
            section="journeys",
            title=page.t("journeys.title"),
            can_create=page.viewer.workspace.role in CREATING_ROLES,
        )
    view = journeys_data.journey_map(
        session,
        events_root(settings),
        workspace_id,
        journey,
        period,
        page.lang,
        metric,
        reads=reads,
        stale_seconds=settings.dashboard_stale_seconds,
    )
    return page.render(
        "app/journeys/map.html",
        section="journeys",
        title=view.journey.name,
        charts=[funnel_chart(page, view), distribution_chart(page, view)],
        tables=[touchpoints_table(page, view, period)],
        period=period,
        view=view,
        metric=metric,
        metrics=journeys_data.METRICS,
        bands=journeys_data.BANDS,
        symbols=SYMBOLS,
        link=lambda card: touchpoint_link(view, card, period, metric),
        score=lambda s: score_text(page, s.metric, s.value),
    )


@router.post("/app/journeys")
def create_journey(
    request: Request, form: FormDep, viewer: ViewerDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Create the workspace's journey map from the default template (owners and admins)."""
    if viewer.workspace.role not in CREATING_ROLES:
        raise Forbidden("creating a journey map needs the owner or admin role")
    names = next(n for key, n, _, _ in templates.templates() if key == templates.DEFAULT)
    name = names.get(dashboard_language(request, viewer))
    actor = Actor(
        kind="user",
        id=viewer.email,
        ip=client_ip(request, settings.trusted_proxies),
        user_agent=request.headers.get("user-agent", ""),
    )
    body = JourneyCreate.model_validate({"template": templates.DEFAULT, "name": name})
    journey = maps.create_journey(session, viewer.workspace_id, body, actor)
    return RedirectResponse(f"/app/journeys/{journey.id}", status_code=303)


def touchpoint_link(
    view: JourneyView, card: TouchpointCard, period: periods.Period, metric: str
) -> str:
    return (
        f"/app/touchpoints/{card.key}?journey_id={view.journey.id}"
        f"&from={period.start.isoformat()}&to={period.end.isoformat()}&metric={metric}"
    )


def score_text(page: Page, metric: str | None, value: float | None) -> str:
    """``NPS 12``, ``CSAT 82 %``, ``CES 5.3`` in the page's language; words without a figure."""
    if metric is None:
        return page.t("journeys.no_score")
    shown = formatting.number(value, page.lang, journeys_data.DECIMALS[metric])
    unit = " %" if metric == "csat" and value is not None else ""
    return f"{page.t('metric.' + metric)} {shown}{unit}"


def funnel_chart(page: Page, view: JourneyView) -> Chart:
    t, lang = page.t, page.lang
    stages = view.stages
    table = Table(
        id="funnel",
        title=t("journeys.funnel.title"),
        columns=[
            Column(t("journeys.column.stage")),
            Column(t("journeys.column.reached"), "int"),
            Column(t("journeys.column.conversion"), "share", 1),
            Column(t("journeys.column.entered"), "int"),
            Column(t("journeys.column.in_stage"), "int"),
        ],
        rows=[[s.name, s.reached, s.conversion, s.entered, s.customers] for s in stages],
        caption=t("journeys.funnel.none"),
    )
    description = t("journeys.funnel.none")
    if stages and stages[0].reached:
        steps = [s for s in stages[1:] if s.conversion is not None]
        worst = min(steps, key=lambda s: s.conversion or 0.0, default=None)
        description = t("journeys.funnel.desc").format(
            first=stages[0].name,
            n=formatting.number(stages[0].reached, lang),
            last=stages[-1].name,
            last_n=formatting.number(stages[-1].reached, lang),
            worst=worst.name if worst else formatting.DASH,
            rate=formatting.percent(worst.conversion if worst else None, lang, 0),
        )
    labels = [
        formatting.number(s.reached, lang)
        + ("" if s.conversion is None else f" ({formatting.percent(s.conversion, lang, 0)})")
        for s in stages
    ]
    return charts.bar_chart(
        table.id,
        table.title,
        description,
        [s.name for s in stages],
        [float(s.reached) for s in stages],
        table,
        colour=charts.BLUE,
        value_labels=labels,
    )


def distribution_chart(page: Page, view: JourneyView) -> Chart:
    t, lang = page.t, page.lang
    names = [s.name for s in view.stages]
    table = Table(
        id="stages-over-time",
        title=t("journeys.spread.title"),
        columns=[
            Column(t("table.period"), "date"),
            *(Column(name, "int") for name in names),
            Column(t("journeys.column.placed"), "int"),
        ],
        rows=[[w.start, *w.customers, sum(w.customers)] for w in view.weeks],
        caption=t("chart.no_data"),
    )
    layers = [
        Part(name, [float(w.customers[i]) for w in view.weeks], _colour(i))
        for i, name in enumerate(names)
    ]
    description = t("chart.no_data")
    if view.weeks and view.placed:
        biggest = max(view.stages, key=lambda s: s.customers)
        description = t("journeys.spread.desc").format(
            periods=len(view.weeks),
            n=formatting.number(view.placed, lang),
            stage=biggest.name,
            share=formatting.percent(biggest.share, lang, 0),
        )
    return charts.stacked_bars(
        table.id,
        table.title,
        description,
        [formatting.short_day(w.start, lang) for w in view.weeks],
        layers,
        table,
    )


def _colour(index: int) -> str:
    return charts.PALETTE[index % len(charts.PALETTE)]


def touchpoints_table(page: Page, view: JourneyView, period: periods.Period) -> Table:
    """Every touchpoint with its figures: the map's colours in words and numbers."""
    t = page.t
    cards = [c for s in view.stages for c in s.touchpoints]
    return Table(
        id="touchpoints",
        title=t("journeys.touchpoints.title"),
        columns=[
            Column(t("journeys.column.touchpoint")),
            Column(t("journeys.column.stage")),
            Column(t("journeys.column.score")),
            Column(t("journeys.column.value"), "number", 1),
            Column(t("table.ci_low"), "number", 1),
            Column(t("table.ci_high"), "number", 1),
            Column(t("table.n"), "int"),
            Column(t("journeys.column.band")),
            Column(t("journeys.column.volume"), "int"),
            Column(t("journeys.column.reach"), "int"),
            Column(t("journeys.column.next"), "share", 1),
            Column(t("journeys.column.rank").format(metric=t(f"metric.{view.metric}")), "int"),
        ],
        rows=[
            [
                c.name,
                view.stages[c.stage].name if c.stage is not None else "",
                t(f"metric.{c.score.metric}") if c.score.metric else "",
                c.score.value,
                c.score.ci_low,
                c.score.ci_high,
                c.score.n,
                t(f"journeys.band.{c.score.band}"),
                c.volume,
                c.reach,
                (c.conversion or {}).get("rate"),
                c.rank,
            ]
            for c in cards
        ],
        caption=t("journeys.touchpoints.none"),
        links=[touchpoint_link(view, c, period, view.metric) for c in cards],
    )
