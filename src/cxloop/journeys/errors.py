"""Errors of the journeys domain."""

from __future__ import annotations

from cxloop.core.errors import Conflict, InvalidInput, NotFound


class InvalidQuery(InvalidInput):
    """A funnel, retention, churn or path query that cannot run; names the field."""


class JourneyNotFound(NotFound):
    code = "journey_not_found"


class JourneyExists(Conflict):
    code = "journey_exists"
