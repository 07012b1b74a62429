"""KPI packs per business model, computed over the event files (see ``compute``)."""

from cxloop.analytics.kpis.compute import Interval, KpiResult, KpiSpec, Point, compute
from cxloop.analytics.kpis.definitions import PACK_NAMES, PACKS, Kpi, Unit
from cxloop.analytics.kpis.roles import DEFAULT_ROLES

__all__ = [
    "DEFAULT_ROLES",
    "PACKS",
    "PACK_NAMES",
    "Interval",
    "Kpi",
    "KpiResult",
    "KpiSpec",
    "Point",
    "Unit",
    "compute",
]
