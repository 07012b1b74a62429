"""Errors of the journeys domain."""

from __future__ import annotations

from collections.abc import Sequence

from cxloop.core.errors import Conflict, CxloopError, InvalidInput, NotFound


class InvalidQuery(InvalidInput):
    """A funnel, retention, churn or path query that cannot run; names the field."""


class JourneyNotFound(NotFound):
    code = "journey_not_found"


class JourneyExists(Conflict):
    code = "journey_exists"


class InvalidJourney(CxloopError):
    """A journey map whose parts do not fit the workspace (a survey it does not have): every
    problem with its path, in the shape of the API's other validation errors."""

    status_code = 422
    code = "validation_error"

    def __init__(self, problems: Sequence[tuple[Sequence[str | int], str]]) -> None:
        errors = [{"loc": list(loc), "msg": msg, "type": "value_error"} for loc, msg in problems]
        summary = "; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems[:5])
        if len(problems) > 5:
            summary += f"; and {len(problems) - 5} more"
        super().__init__(summary, extra={"errors": errors})
