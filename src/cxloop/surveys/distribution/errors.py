"""Errors of survey distribution."""

from __future__ import annotations

from cxloop.core.errors import BadRequest, Conflict, NotFound


class SuppressionNotFound(NotFound):
    code = "suppression_not_found"


class TriggerNotFound(NotFound):
    code = "survey_trigger_not_found"


class UnsubscribeLinkInvalid(BadRequest):
    code = "unsubscribe_link_invalid"


class SurveyNotSendable(Conflict):
    """Invitations go out only for an active survey."""

    code = "survey_not_open"
