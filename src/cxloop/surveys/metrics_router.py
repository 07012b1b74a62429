"""JSON API of the feedback metrics: NPS, CSAT and CES, their breakdowns, trends and tests.

Every route first waits until what the caller's workspace has in the inbox is in the event
store, so a response posted just before counts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cxloop.accounts.deps import ReadPrincipal
from cxloop.analytics.feedback import Metric
from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.eventstore.service import events_root
from cxloop.ingest.deps import Settled
from cxloop.surveys import metrics
from cxloop.surveys import metrics_schemas as schemas

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])


Measure = Annotated[schemas.MeasureQuery, Query()]
Filters = Annotated[schemas.MetricFilters, Query()]
Compare = Annotated[schemas.CompareQuery, Query()]


@router.get("/nps", response_model=schemas.NpsRead, response_model_exclude_unset=True)
def read_nps(
    _: Settled, query: Measure, session: SessionDep, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """Net Promoter Score with its 95% interval; `groups` with `by`, `trend` with `interval`."""
    root = events_root(settings)
    return metrics.measure(session, principal.workspace_id, root, Metric.NPS, query)


@router.get("/nps/drivers", response_model=schemas.Drivers)
def read_nps_drivers(
    _: Settled, query: Filters, session: SessionDep, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """Themes and touchpoints that go with a higher or lower NPS, the largest effect first."""
    root = events_root(settings)
    return metrics.nps_drivers(session, principal.workspace_id, root, query)


@router.get("/csat", response_model=schemas.CsatRead, response_model_exclude_unset=True)
def read_csat(
    _: Settled, query: Measure, session: SessionDep, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """CSAT: % of 4-5 answers (Wilson interval) and the mean (t interval)."""
    root = events_root(settings)
    return metrics.measure(session, principal.workspace_id, root, Metric.CSAT, query)


@router.get("/ces", response_model=schemas.CesRead, response_model_exclude_unset=True)
def read_ces(
    _: Settled, query: Measure, session: SessionDep, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """CES: the mean (t interval) and % of 5-7 answers (Wilson interval)."""
    root = events_root(settings)
    return metrics.measure(session, principal.workspace_id, root, Metric.CES, query)


@router.get("/nps/compare", response_model=schemas.NpsComparison)
def compare_nps(
    _: Settled, query: Compare, session: SessionDep, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """NPS b - NPS a: two-sample z test. Two values of `by`, or two periods."""
    root = events_root(settings)
    return metrics.compare(session, principal.workspace_id, root, Metric.NPS, query)


@router.get("/csat/compare", response_model=schemas.CsatComparison)
def compare_csat(
    _: Settled, query: Compare, session: SessionDep, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """CSAT b - a: two-proportion z test; the means in `secondary` (Welch's t)."""
    root = events_root(settings)
    return metrics.compare(session, principal.workspace_id, root, Metric.CSAT, query)


@router.get("/ces/compare", response_model=schemas.CesComparison)
def compare_ces(
    _: Settled, query: Compare, session: SessionDep, settings: SettingsDep, principal: ReadPrincipal
) -> object:
    """CES b - a: Welch's t test; % easy in `secondary` (two-proportion z)."""
    root = events_root(settings)
    return metrics.compare(session, principal.workspace_id, root, Metric.CES, query)
