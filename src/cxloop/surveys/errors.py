"""Errors of the surveys domain."""

from __future__ import annotations

from collections.abc import Sequence

from cxloop.core.errors import Conflict, CxloopError, NotFound

Loc = list[str | int]


class SurveyNotFound(NotFound):
    code = "survey_not_found"


class VersionNotFound(NotFound):
    code = "survey_version_not_found"


class Problems(CxloopError):
    """A payload that breaks rules spanning several fields: every problem with its path,
    in the shape of the API's other validation errors."""

    status_code = 422
    code = "validation_error"

    def __init__(self, problems: Sequence[tuple[Loc, str]]) -> None:
        errors = [{"loc": list(loc), "msg": msg, "type": "value_error"} for loc, msg in problems]
        summary = "; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems[:5])
        if len(problems) > 5:
            summary += f"; and {len(problems) - 5} more"
        super().__init__(summary, extra={"errors": errors})
        self.problems = list(problems)


class InvalidDefinition(Problems):
    """Questions, choices or conditions that do not fit together."""


class InvalidResponse(Problems):
    """Answers or customer identifiers that do not fit the survey."""


class BadTransition(Conflict):
    code = "bad_status_transition"


class SurveyNotOpen(Conflict):
    """The survey takes no responses: not active, past its close date or full."""

    code = "survey_not_open"


class NotDeletable(Conflict):
    code = "survey_not_deletable"


class ResponseConflict(Conflict):
    code = "response_conflict"


class LinkInvalid(NotFound):
    """A personal link whose signature does not check out, or that names no link."""

    code = "link_invalid"


class LinkExpired(Conflict):
    code = "link_expired"


class LinkUsed(Conflict):
    code = "link_used"


class LinkRevoked(Conflict):
    code = "link_revoked"
