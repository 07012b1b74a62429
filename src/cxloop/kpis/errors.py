"""Errors of the KPIs domain."""

from __future__ import annotations

from cxloop.core.errors import InvalidInput


class InvalidKpiQuery(InvalidInput):
    """A pack, period, interval or mapping that cannot be computed; names the field."""


class UnknownKpi(InvalidInput):
    """The one metric that matters must be a KPI of a pack."""
