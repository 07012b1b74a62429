"""The ``Survey Responded`` event: the one contract between survey responses and everything
that reads the event store (metrics, the customer timeline, segments, playbooks).

``properties`` always holds exactly these keys::

    survey_id, survey_name, survey_version, response_id, touchpoint, stage, language,
    channel, source, is_complete, answers, nps, csat, ces, rating

where ``nps``, ``csat``, ``ces`` and ``rating`` are the answers to the survey's first
question of that type (null when it has none or it was not answered). A response saved
again with other answers is a new message with the same ``response_id``: readers keep the
newest message of each ``response_id``.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson

from cxloop.models import Survey, SurveyResponse
from cxloop.surveys.schemas import SurveyDefinition

EVENT = "Survey Responded"
SCORE_PROPERTIES = ("nps", "csat", "ces", "rating")
# identifier kinds that Segment messages carry as traits (the loader reads context.traits)
TRAIT_KINDS = {"email": "email", "phone": "phone"}
# a UUIDv5 namespace for the anonymous ids of customers known only by email, phone, ...
ANONYMOUS_NAMESPACE = uuid.UUID("5d0c7b5e-3f59-4f0e-9c55-2b1f3a0c9e11")


def message_id(response: SurveyResponse) -> str:
    """The response key plus a digest of what was answered: sending the same response
    again is dropped by the loader as a duplicate, a changed one is a new message."""
    content = orjson.dumps(
        {"v": response.version, "a": response.answers, "c": response.is_complete},
        option=orjson.OPT_SORT_KEYS,
    )
    return f"survey-response-{response.response_key}-{hashlib.sha256(content).hexdigest()[:16]}"


def anonymous_id_for(workspace_id: uuid.UUID, kind: str, value: str) -> str:
    """A stable anonymous id for a customer known only by ``kind``: every response of the
    same email carries the same one, so the profile gains one identifier, not one each."""
    return f"cxl-{uuid.uuid5(ANONYMOUS_NAMESPACE, f'{workspace_id}:{kind}:{value}')}"


def properties(
    survey: Survey, definition: SurveyDefinition, response: SurveyResponse
) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    for kind in SCORE_PROPERTIES:
        question = definition.first_of(kind)
        scores[kind] = response.answers.get(question.id) if question is not None else None
    return {
        "survey_id": str(survey.id),
        "survey_name": survey.name,
        "survey_version": response.version,
        "response_id": str(response.response_key),
        "touchpoint": response.touchpoint,
        "stage": survey.stage,
        "language": response.language,
        "channel": response.channel,
        "source": response.source.value,
        "is_complete": response.is_complete,
        "answers": response.answers,
        **scores,
    }


def message(
    survey: Survey, definition: SurveyDefinition, response: SurveyResponse
) -> dict[str, Any]:
    """The Segment ``track`` message of a response.

    It carries the identifiers the customer was given by the way the loader reads them
    (``userId``, ``anonymousId``, ``context.traits`` for email and phone,
    ``context.externalIds`` for the other kinds), so it resolves to the same profile as the
    customer's other events and links any of those identifiers seen for the first time.
    """
    context: dict[str, Any] = {"channel": response.channel, "locale": response.language}
    traits = {TRAIT_KINDS[k]: v for k, v in response.customer.items() if k in TRAIT_KINDS}
    external = [
        {"id": value, "type": kind, "collection": "users", "encoding": "none"}
        for kind, value in response.customer.items()
        if kind not in TRAIT_KINDS and kind not in ("user_id", "anonymous_id")
    ]
    if traits:
        context["traits"] = traits
    if external:
        context["externalIds"] = external
    moment = response.submitted_at or response.updated_at
    body: dict[str, Any] = {
        "type": "track",
        "event": EVENT,
        "messageId": message_id(response),
        "timestamp": moment.isoformat(),
        "properties": properties(survey, definition, response),
        "context": context,
    }
    if response.user_id is not None:
        body["userId"] = response.user_id
    if response.anonymous_id is not None:
        body["anonymousId"] = response.anonymous_id
    return body
