"""KPI API: a pack's KPIs for a period, the packs' definitions, settings and marketing spend."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from cxloop.accounts.deps import AdminPrincipal, ReadPrincipal
from cxloop.analytics.kpis import Interval
from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.eventstore.service import events_root
from cxloop.ingest.deps import Settled
from cxloop.kpis import schemas, service

router = APIRouter(prefix="/api/v1", tags=["kpis"])


@router.get("/kpis", response_model=schemas.KpiReport)
def read_kpis(
    _: Settled,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReadPrincipal,
    pack: schemas.PackId | None = Query(None, description="Default: the workspace's pack"),
    start: date | None = Query(
        None, alias="from", description="First day (default: 27 days before `to`)"
    ),
    end: date | None = Query(
        None, alias="to", description="Last day, inclusive (default: today, UTC)"
    ),
    interval: Interval = Query(Interval.WEEK, description="Series of days, weeks or months"),
    kpi: list[str] = Query(default_factory=list, description="Only these KPIs"),
) -> object:
    """Each KPI of the pack with its value, the previous period's, the change and a series."""
    return service.report(
        session,
        events_root(settings),
        principal.workspace_id,
        pack=pack,
        start=start,
        end=end,
        interval=interval,
        only=kpi,
    )


@router.get("/kpis/packs", response_model=schemas.PackList)
def list_packs(principal: ReadPrincipal) -> object:
    """Every pack's KPIs with their definitions, and the default event of each role."""
    return service.packs()


@router.get("/kpis/settings", response_model=schemas.KpiSettings)
def read_kpi_settings(session: SessionDep, principal: ReadPrincipal) -> object:
    return service.get_settings(session, principal.workspace_id)


@router.put("/kpis/settings", response_model=schemas.KpiSettings)
def replace_kpi_settings(
    body: schemas.KpiSettings, session: SessionDep, principal: AdminPrincipal
) -> object:
    """The workspace's pack, its one metric that matters, its event mapping and currency."""
    return service.set_settings(session, principal.workspace_id, body, principal.actor)


@router.post("/marketing-spend", response_model=schemas.SpendImported)
def import_marketing_spend(
    body: schemas.SpendImport, session: SessionDep, principal: AdminPrincipal
) -> object:
    """Add spend per day, channel and campaign (a row sent again replaces the stored one)."""
    return {
        "imported": service.import_spend(
            session, principal.workspace_id, body.rows, principal.actor
        )
    }


@router.get("/marketing-spend", response_model=schemas.SpendList)
def list_marketing_spend(
    session: SessionDep,
    principal: ReadPrincipal,
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
    limit: int = Query(100, ge=1, le=1000),
) -> object:
    return service.list_spend(session, principal.workspace_id, start, end, limit)
