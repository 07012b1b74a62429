"""KPI packs per business model, computed over the event files (see ``compute``)."""

from cxloop.analytics.kpis.compute import KpiResult, Point, compute
from cxloop.analytics.kpis.definitions import PACK_NAMES, PACKS, Kpi, Unit
from cxloop.analytics.kpis.roles import DEFAULT_ROLES
from cxloop.analytics.kpis.spec import Interval, KpiSpec

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
