"""Surveys in the dashboard: the list (``/app/surveys``) with each survey's figures at a
glance and its status buttons, and a survey's results (``/app/surveys/{id}``): NPS, CSAT and
CES with their intervals, trends, breakdowns and the comments with their text analysis."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.core.actors import Actor
from cxloop.core.deps import ReadSessionDep, SessionDep, SettingsDep, client_ip
from cxloop.core.errors import Forbidden, InvalidInput
from cxloop.dashboard import periods, surveys_data, surveys_results
from cxloop.dashboard.auth import FormDep, PageDep, ViewerDep, safe_next
from cxloop.eventstore.service import events_root
from cxloop.models import SurveyStatus
from cxloop.surveys import service
from cxloop.text import service as text_service
from cxloop.web.page import Page
from cxloop.web.shell import Viewer
from cxloop.web.tables import BOM, Column, Table, file_name

router = APIRouter(include_in_schema=False)
EDIT_ROLES = ("owner", "admin", "analyst")
DEFAULT_DAYS = 90
_SENTIMENTS = ("negative", "neutral", "positive")


def can_edit(viewer: Viewer) -> bool:
    return viewer.workspace.role in EDIT_ROLES


def require_editor(viewer: Viewer) -> None:
    if not can_edit(viewer):
        raise Forbidden("changing surveys needs the owner, admin or analyst role")


def actor_of(request: Request, viewer: Viewer, settings: Any) -> Actor:
    return Actor(
        kind="user",
        id=viewer.email,
        ip=client_ip(request, settings.trusted_proxies),
        user_agent=request.headers.get("user-agent", ""),
    )


@router.get("/app/surveys")
def survey_list(
    page: PageDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    status: str = Query("", max_length=20),
    before: uuid.UUID | None = Query(None, description="next_cursor of the page before"),
) -> Response:
    wanted = _status(status)
    found = surveys_data.survey_list(
        session, page.viewer.workspace_id, events_root(settings), status=wanted, before=before
    )
    table = _list_table(page, found)
    return page.render(
        "app/surveys/list.html",
        section="surveys",
        title=page.t("surveys.title"),
        tables=[table],
        rows=found.rows,
        next_cursor=found.next_cursor,
        status_filter=wanted.value if wanted else "",
        statuses=[s.value for s in SurveyStatus],
        can_edit=can_edit(page.viewer),
    )


def _status(value: str) -> SurveyStatus | None:
    if not value:
        return None
    try:
        return SurveyStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in SurveyStatus)
        raise InvalidInput("status", f"one of {known}, not {value!r}") from None


def _list_table(page: Page, found: surveys_data.SurveyList) -> Table:
    t = page.t
    return Table(
        id="surveys",
        title=t("surveys.title"),
        columns=[
            Column(t("surveys.column.name")),
            Column(t("surveys.column.status")),
            Column(t("surveys.column.touchpoint")),
            Column(t("surveys.column.stage")),
            Column(t("surveys.column.responses"), "int"),
            Column(t("metric.nps"), "number", 1),
            Column(t("surveys.column.nps_n"), "int"),
            Column(t("metric.csat"), "number", 1, "%"),
            Column(t("surveys.column.csat_n"), "int"),
        ],
        rows=[
            [
                r.name,
                t(f"surveys.status.{r.status}"),
                r.touchpoint or "",
                t(f"surveys.stage.{r.stage}") if r.stage else "",
                r.response_count,
                r.nps.value if r.nps else None,
                r.nps.n if r.nps else 0,
                r.csat.value if r.csat else None,
                r.csat.n if r.csat else 0,
            ]
            for r in found.rows
        ],
        caption=t("surveys.empty"),
        links=[f"/app/surveys/{r.id}" for r in found.rows],
    )


@router.post("/app/surveys/{survey_id}/status")
def change_status(
    survey_id: uuid.UUID,
    request: Request,
    form: FormDep,
    viewer: ViewerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Activate, pause or close a survey (the surveys service decides what may follow what)."""
    require_editor(viewer)
    try:
        status = SurveyStatus(form.get("status", ""))
    except ValueError:
        known = ", ".join(s.value for s in SurveyStatus)
        raise InvalidInput("status", f"one of {known}") from None
    actor = actor_of(request, viewer, settings)
    service.change_status(session, viewer.workspace_id, survey_id, status, actor)
    return RedirectResponse(safe_next(form.get("next"), "/app/surveys"), status_code=303)


# -- results ----------------------------------------------------------------------------------


@router.get("/app/surveys/{survey_id}")
def survey_results(
    survey_id: uuid.UUID,
    page: PageDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
    metric: str = Query("", max_length=10),
    sentiment: str = Query("", max_length=40),
    theme: str = Query("", max_length=64),
    language: str = Query("", max_length=8),
    cursor: str | None = Query(None, max_length=200),
) -> Response:
    workspace_id = page.viewer.workspace_id
    detail = service.survey_detail(session, workspace_id, survey_id)
    definition = detail["definition"]
    period = periods.choose(start, end, page.viewer.timezone, DEFAULT_DAYS)
    asked = surveys_data.metrics_asked(definition)
    chosen = surveys_results.metric_of(metric)
    if metric and chosen is None:
        raise InvalidInput("metric", "one of nps, csat, ces")
    found = surveys_data.results(
        session,
        workspace_id,
        events_root(settings),
        survey_id,
        asked,
        timezone=period.tz,
        since=period.since,
        until=period.until,
        metric=chosen,
    )
    flt = surveys_data.CommentFilter(sentiment or None, theme or None, language or None)
    comments = surveys_data.comments(
        session,
        workspace_id,
        survey_id,
        definition,
        page.lang,
        detail["default_language"],
        flt,
        cursor=cursor,
    )
    taxonomy = text_service.get_taxonomy(settings, workspace_id)
    labels = {
        th.id: th.label.get(page.lang) or th.label.get("en") or th.id for th in taxonomy.themes
    }
    built = [surveys_results.trend_chart(page, r) for r in found.metrics]
    nps = next((r for r in found.metrics if r.metric == "nps"), None)
    if nps is not None:
        built.insert(1, surveys_results.mix_chart(page, nps))
    if found.metric is not None:
        built += [
            surveys_results.breakdown_chart(page, found.metric, b, found.min_n)
            for b in found.breakdowns
        ]
    comment_table = surveys_results.comments_table(page, comments, labels)
    return page.render(
        "app/surveys/results.html",
        section="surveys",
        title=detail["name"],
        charts=built,
        tables=[comment_table],
        survey=detail,
        period=period,
        tiles=surveys_results.tiles(page, found.metrics),
        asked=[m.value for m in asked],
        metric=found.metric,
        comments=comments,
        comment_filter=flt,
        sentiments=sorted(set(comments.sentiments) | set(_SENTIMENTS)),
        themes=sorted(labels.items(), key=lambda item: item[1]),
        labels=labels,
        can_edit=can_edit(page.viewer),
        next_statuses=surveys_data.next_statuses(detail["status"]),
        min_n=found.min_n,
        request_cursor=cursor,
    )


@router.get("/app/surveys/{survey_id}/responses.csv")
def responses_csv(survey_id: uuid.UUID, viewer: ViewerDep, session: ReadSessionDep) -> Response:
    """Every response of the survey, one row each, a column per question ever asked."""
    detail = service.survey_detail(session, viewer.workspace_id, survey_id)
    questions = surveys_data.response_columns(detail)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*surveys_data.RESPONSE_FIELDS, *questions])
    for row in surveys_data.response_rows(session, viewer.workspace_id, survey_id, questions):
        writer.writerow([_cell(v) for v in row])
    name = file_name("survey", f"{detail['name'][:40]}-responses", "csv")
    return Response(
        (BOM + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # a cell starting with = + - @ would run as a formula in a spreadsheet
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
