"""KPI packs (``/app/kpis?pack=``): each KPI of a pack with its definition, its value, the
period before, the change and its series; admins pin the one metric that matters here."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.analytics.kpis import PACK_NAMES, PACKS
from cxloop.analytics.kpis import Interval as KpiInterval
from cxloop.core.actors import Actor
from cxloop.core.deps import ReadsDep, ReadSessionDep, SessionDep, SettingsDep, client_ip
from cxloop.core.errors import Forbidden, InvalidInput
from cxloop.dashboard import kpi_views, memo, periods
from cxloop.dashboard.auth import FormDep, PageDep, ViewerDep, safe_next
from cxloop.eventstore.service import events_root
from cxloop.kpis import schemas as kpi_schemas
from cxloop.kpis import service as kpi_service

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 28
PINNING_ROLES = ("owner", "admin")


@router.get("/app/kpis")
def kpi_pack(
    page: PageDep,
    session: ReadSessionDep,
    reads: ReadsDep,
    settings: SettingsDep,
    pack: str | None = Query(None, max_length=40),
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
    interval: KpiInterval = Query(KpiInterval.WEEK),
) -> Response:
    if pack is not None and pack != "" and pack not in PACKS:
        raise InvalidInput("pack", f"one of {', '.join(PACKS)}, not {pack!r}")
    period = periods.choose(start, end, page.viewer.timezone, DEFAULT_DAYS)
    keep = memo.Keeper(session, page.viewer.workspace_id, reads, settings.dashboard_stale_seconds)
    report = kpi_service.report(
        session,
        events_root(settings),
        page.viewer.workspace_id,
        pack=pack or None,
        start=period.start,
        end=period.end,
        interval=interval,
        keep=keep,
    )
    currency = report["currency"]
    series = [kpi_views.series_chart(page, kpi, currency) for kpi in report["kpis"]]
    return page.render(
        "app/kpis.html",
        section="kpis",
        title=page.t("kpis.title"),
        charts=series,
        tables=[kpi_views.table(page, report, "kpis")],
        period=period,
        report=report,
        tiles=kpi_views.tiles(page, report),
        packs=[(p, PACK_NAMES[p][page.lang]) for p in PACKS],
        interval=interval.value,
        can_pin=page.viewer.workspace.role in PINNING_ROLES,
        as_of=keep.as_of,
    )


@router.post("/app/kpis/pin")
def pin_kpi(
    request: Request, form: FormDep, viewer: ViewerDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Make a KPI the one metric that matters (owners and admins)."""
    if viewer.workspace.role not in PINNING_ROLES:
        raise Forbidden("pinning the metric that matters needs the owner or admin role")
    pack, kpi = form.get("pack", ""), form.get("kpi", "")
    if pack not in PACKS:
        raise InvalidInput("pack", f"one of {', '.join(PACKS)}, not {pack!r}")
    current = kpi_service.get_settings(session, viewer.workspace_id)
    omtm = kpi_schemas.Omtm.model_validate({"pack": pack, "kpi": kpi})
    actor = Actor(
        kind="user",
        id=viewer.email,
        ip=client_ip(request, settings.trusted_proxies),
        user_agent=request.headers.get("user-agent", ""),
    )
    kpi_service.set_settings(
        session, viewer.workspace_id, current.model_copy(update={"omtm": omtm}), actor
    )
    return RedirectResponse(safe_next(form.get("next"), "/app/kpis"), status_code=303)
