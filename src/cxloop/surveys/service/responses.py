"""Responses: checked against the version they answer, stored, and recorded as a
``Survey Responded`` event in the same transaction (see :mod:`cxloop.surveys.events`), so
the customer's timeline, the metrics and the segments read them from the event store.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from cxloop.core.actors import Actor
from cxloop.core.errors import CxloopError
from cxloop.core.ids import uuid7
from cxloop.core.time import utcnow
from cxloop.ingest import service as ingest
from cxloop.models import (
    ResponseSource,
    Survey,
    SurveyResponse,
    SurveyStatus,
    TextSource,
)
from cxloop.profiles import service as profiles
from cxloop.surveys import definitions, errors, events
from cxloop.surveys.definitions import Problem
from cxloop.surveys.schemas import ResponseCreate, SurveyDefinition
from cxloop.surveys.service.surveys import (
    audit,
    get_survey,
    is_full,
    to_utc,
    version_definition,
)
from cxloop.text import service as text

DEFAULT_CHANNELS = {
    ResponseSource.API: "api",
    ResponseSource.PAGE: "web",
    ResponseSource.WIDGET: "web",
    ResponseSource.EMAIL: "email",
    ResponseSource.IMPORT: "import",
}
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_CHANNEL_ALIASES = {"browser": "web", "mobile": "app", "website": "web"}
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# identifiers most trusted first, when one must be picked to find or name the customer
_KIND_ORDER = ("user_id", "email", "phone")
# clocks of the devices answering may run a little ahead
_FUTURE_SLACK = timedelta(minutes=10)
_MAX_EVENT_BYTES = 30 * 1024  # Segment's 32 KB per message, less room for the envelope
LINK_WINDOW = timedelta(days=1)


# -- responses --------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A response written to the session, and the event that goes with it (None when it
    was sent again unchanged)."""

    response: SurveyResponse
    message: dict[str, Any] | None


def submit_response(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    payload: ResponseCreate,
    *,
    source: ResponseSource = ResponseSource.API,
) -> SurveyResponse:
    """Check a response against the version it answers, store it and record its
    ``Survey Responded`` event in the same transaction.

    Posting the same ``response_id`` again replaces the answers (a partial response
    becomes complete); sent again unchanged, it changes nothing.
    """
    survey = get_survey(session, workspace_id, survey_id)
    prepared = prepare_response(session, survey, payload, source=source)
    if prepared.message is not None:
        ingest.record(session, workspace_id, [prepared.message])
    return prepared.response


@dataclass(frozen=True)
class Submission:
    """One response for :func:`submit_many`."""

    workspace_id: uuid.UUID
    survey_id: uuid.UUID
    payload: ResponseCreate
    source: ResponseSource = ResponseSource.API


def submit_many(
    session: Session, items: Sequence[Submission]
) -> list[SurveyResponse | BaseException]:
    """:func:`submit_response` for many responses at once: each survey read once, the
    responses sent again found with one query, inserted together, the surveys' counters
    moved once each, the events recorded as one inbox batch per workspace.

    Returns each item's response, or the error that refused it (a refused item leaves
    nothing behind). A response to a survey with a response limit, or whose key comes
    twice, takes the one-at-a-time path in its own savepoint, so limits stay exact.
    """
    outcomes: list[SurveyResponse | BaseException | None] = [None] * len(items)
    surveys: dict[tuple[uuid.UUID, uuid.UUID], Survey | BaseException] = {}
    found = _existing_many(session, items)
    counts: Counter[Survey] = Counter()
    messages: defaultdict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    alone: list[int] = []
    keys: set[uuid.UUID] = set()
    for pair in dict.fromkeys((i.workspace_id, i.survey_id) for i in items):
        try:
            surveys[pair] = get_survey(session, *pair)
        except errors.SurveyNotFound as exc:
            surveys[pair] = exc
    for index, item in enumerate(items):
        survey = surveys[(item.workspace_id, item.survey_id)]
        if isinstance(survey, BaseException):
            outcomes[index] = survey
            continue
        key = item.payload.response_id
        if survey.response_limit is not None or (key is not None and key in keys):
            alone.append(index)
            continue
        if key is not None:
            keys.add(key)
        existing = found.get(key) if key is not None else None
        try:
            with session.no_autoflush:  # the new rows go in together, at the flush below
                prepared = prepare_response(
                    session, survey, item.payload, source=item.source, existing=existing,
                    count=counts.update, flush=False,
                )  # fmt: skip
        except (CxloopError, ValueError) as exc:
            if existing is not None:
                session.expire(existing)  # what was set on it before the refusal is dropped
            outcomes[index] = exc
            continue
        outcomes[index] = prepared.response
        if prepared.message is not None:
            messages[item.workspace_id].append(prepared.message)
    session.flush()
    for survey, added in counts.items():
        _count(session, survey, enforce=False, by=added)
    for workspace_id, batch in messages.items():
        ingest.record(session, workspace_id, batch)
    for index in alone:
        item = items[index]
        try:
            with session.begin_nested():
                outcomes[index] = submit_response(
                    session, item.workspace_id, item.survey_id, item.payload, source=item.source
                )
        except (CxloopError, ValueError) as exc:
            outcomes[index] = exc
    return [o if o is not None else errors.SurveyNotFound("not processed") for o in outcomes]


def _existing_many(
    session: Session, items: Sequence[Submission]
) -> dict[uuid.UUID, SurveyResponse]:
    keys = {i.payload.response_id for i in items if i.payload.response_id is not None}
    if not keys:
        return {}
    rows = session.scalars(select(SurveyResponse).where(SurveyResponse.response_key.in_(keys)))
    by_item = {(i.workspace_id, i.payload.response_id) for i in items}
    return {r.response_key: r for r in rows if (r.workspace_id, r.response_key) in by_item}


_UNKNOWN: Any = object()


def prepare_response(
    session: Session,
    survey: Survey,
    payload: ResponseCreate,
    *,
    source: ResponseSource,
    response_key: uuid.UUID | None = None,
    historical: bool = False,
    existing: SurveyResponse | None = _UNKNOWN,
    count: Callable[[list[Survey]], None] | None = None,
    flush: bool = True,
) -> Prepared:
    """Everything of :func:`submit_response` but recording the event, which the caller
    does (an import records a chunk of them at once). ``historical`` responses (imports)
    are taken whatever the survey's status, dates and limit.

    A caller handling many responses may pass the ``existing`` response already looked up,
    a ``count`` that takes the survey to count one more complete response for (it then
    moves the counter itself), and ``flush=False`` to flush once for all of them."""
    key = payload.response_id or response_key
    if existing is _UNKNOWN:
        existing = _existing(session, survey, key)
    elif existing is not None and existing.survey_id != survey.id:
        raise errors.ResponseConflict(f"response {key} answers another survey")
    number = payload.version or (existing.version if existing else survey.current_version)
    becomes_complete = payload.is_complete and not (existing is not None and existing.is_complete)
    definition = _definition(session, survey, number)
    answers, problems = definitions.check_answers(
        definition, number, payload.answers, complete=payload.is_complete
    )
    ids, id_problems = _identifiers(session, survey.workspace_id, payload.customer or {})
    channel, channel_problems = _channel(payload.channel, source)
    submitted_at, time_problems = _times(payload)
    problems += id_problems + channel_problems + time_problems
    if existing is not None and existing.is_complete and not payload.is_complete:
        problems.append((["is_complete"], "this response was already submitted complete"))
    if problems:
        raise errors.InvalidResponse(problems)
    if existing is not None and _unchanged(existing, number, answers, payload.is_complete):
        return Prepared(existing, None)  # a retry: what it sent is stored already
    if not historical:
        _ensure_open(survey, counting=becomes_complete)
    now = utcnow()
    written_before = _texts(definition, existing.answers) if existing is not None else {}
    response = existing
    if response is None:
        made = uuid7()
        response = SurveyResponse(
            id=made,
            workspace_id=survey.workspace_id,
            survey_id=survey.id,
            response_key=key or made,
            source=source,
            created_at=now,
            started_at=to_utc(payload.started_at) or now,
        )
    _fill(response, survey, payload, ids, answers, number, channel, now)
    if payload.is_complete:
        response.submitted_at = submitted_at or now
    message = events.message(survey, definition, response)
    if len(orjson.dumps(message)) > _MAX_EVENT_BYTES:
        raise errors.InvalidResponse([(["answers"], "the answers are too long for one response")])
    if existing is None:
        session.add(response)
    if becomes_complete and count is not None:
        count([survey])
    elif becomes_complete:
        _count(session, survey, enforce=not historical)
    if response.profile_id is None and (existing is not None or ids):
        # a new response without identifiers has an id made from its key: nobody holds it
        response.profile_id = _known_profile(session, survey.workspace_id, response)
    if flush:
        session.flush()
    written = _texts(definition, answers)
    if written != written_before:
        text.enqueue_analysis(
            session,
            survey.workspace_id,
            TextSource.SURVEY_RESPONSE,
            str(response.response_key),
            written,
            response.profile_id,
        )
    return Prepared(response, message)


def _texts(definition: SurveyDefinition, answers: dict[str, Any]) -> dict[str, str]:
    """The free-text answers, by question id: what the text analysis reads."""
    found = {}
    for question in definition.questions:
        answer = answers.get(question.id)
        if question.type == "text" and isinstance(answer, str) and answer.strip():
            found[question.id] = answer
    return found


def _definition(session: Session, survey: Survey, number: int) -> SurveyDefinition:
    definition = version_definition(session, survey, number)
    if definition is None:
        raise errors.InvalidResponse([(["version"], f"this survey has no version {number}")])
    return definition


def _existing(session: Session, survey: Survey, key: uuid.UUID | None) -> SurveyResponse | None:
    if key is None:
        return None
    existing = session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.workspace_id == survey.workspace_id,
            SurveyResponse.response_key == key,
        )
    )
    if existing is not None and existing.survey_id != survey.id:
        raise errors.ResponseConflict(f"response {key} answers another survey")
    return existing


def _ensure_open(survey: Survey, *, counting: bool) -> None:
    if survey.status != SurveyStatus.ACTIVE:
        raise errors.SurveyNotOpen(
            f"this survey is {survey.status.value}; it takes responses only while active"
        )
    if survey.closes_at is not None and survey.closes_at <= utcnow():
        raise errors.SurveyNotOpen(
            f"this survey closed on {survey.closes_at.isoformat()} and takes no more responses"
        )
    if counting and is_full(survey):
        raise errors.SurveyNotOpen(
            f"this survey has reached its limit of {survey.response_limit} responses"
        )


_SURVEYS = cast(Table, Survey.__table__)


def _count(session: Session, survey: Survey, *, enforce: bool, by: int = 1) -> None:
    """Count ``by`` more complete responses; the survey closes when that makes it full.

    One conditional UPDATE, so two responses racing for the last place cannot both win.
    """
    table = _SURVEYS
    statement = update(table).where(
        table.c.id == survey.id, table.c.workspace_id == survey.workspace_id
    )
    if enforce:
        statement = statement.where(
            or_(table.c.response_limit.is_(None), table.c.response_count < table.c.response_limit)
        )
    counted = session.execute(
        statement.values(response_count=table.c.response_count + by).returning(
            table.c.response_count
        )
    ).scalar()
    if counted is None:
        raise errors.SurveyNotOpen(
            f"this survey has reached its limit of {survey.response_limit} responses"
        )
    set_committed_value(survey, "response_count", counted)
    if enforce and survey.response_limit is not None and counted >= survey.response_limit:
        now = utcnow()
        survey.status, survey.closed_at, survey.updated_at = SurveyStatus.CLOSED, now, now
        audit(session, Actor.system(), "survey.closed", survey, {"reason": "response_limit"})


def _identifiers(
    session: Session, workspace_id: uuid.UUID, customer: dict[str, str | int]
) -> tuple[dict[str, str], list[Problem]]:
    """The customer's identifiers, normalised as the loader normalises them."""
    if not customer:
        return {}, []
    normalise = profiles.normaliser(session, workspace_id)
    ids: dict[str, str] = {}
    problems: list[Problem] = []
    for given, raw in customer.items():
        kind = _CAMEL.sub("_", given).lower()  # userId, lineId: as Segment spells them
        if not _KIND.fullmatch(kind):
            problems.append(
                (["customer", given], "not an identifier kind (a-z, 0-9 and _, e.g. line_id)")
            )
            continue
        value = normalise(kind, raw)
        if value is None:
            problems.append((["customer", given], f"not a usable {kind.replace('_', ' ')}"))
        else:
            ids[kind] = value
    return ids, problems


def _channel(raw: str | None, source: ResponseSource) -> tuple[str, list[Problem]]:
    if raw is None or not raw.strip():
        return DEFAULT_CHANNELS[source], []
    name = raw.strip().lower()
    name = _CHANNEL_ALIASES.get(name, name)
    if not _CHANNEL.fullmatch(name):
        return name, [(["channel"], "a short name such as web, app, email, chat or store")]
    return name, []


def _times(payload: ResponseCreate) -> tuple[datetime | None, list[Problem]]:
    submitted_at = to_utc(payload.submitted_at)
    latest = utcnow() + _FUTURE_SLACK
    problems: list[Problem] = []
    for name, moment in (
        ("submitted_at", submitted_at),
        ("started_at", to_utc(payload.started_at)),
    ):
        if moment is not None and moment > latest:
            problems.append(([name], "is in the future"))
    return submitted_at, problems


def _unchanged(
    response: SurveyResponse, version: int, answers: dict[str, Any], complete: bool
) -> bool:
    return (
        response.version == version
        and response.answers == answers
        and response.is_complete == complete
    )


def _fill(
    response: SurveyResponse,
    survey: Survey,
    payload: ResponseCreate,
    ids: dict[str, str],
    answers: dict[str, Any],
    version: int,
    channel: str,
    now: datetime,
) -> None:
    if ids or not response.customer:
        response.customer = ids
    response.user_id = ids.get("user_id", response.user_id)
    response.anonymous_id = ids.get("anonymous_id", response.anonymous_id)
    if response.user_id is None and response.anonymous_id is None:
        response.anonymous_id = _anonymous_id(survey.workspace_id, ids, response.response_key)
    response.version = version
    response.answers = answers
    response.is_complete = payload.is_complete
    response.touchpoint = payload.touchpoint or response.touchpoint or survey.touchpoint
    response.channel = channel if payload.channel or not response.channel else response.channel
    response.language = payload.language or response.language or survey.default_language
    response.updated_at = now


def _anonymous_id(workspace_id: uuid.UUID, ids: dict[str, str], key: uuid.UUID) -> str:
    """The anonymous id of a response without user id or anonymous id: derived from the
    customer's most trusted identifier, or from the response itself when there is none."""
    for kind in (*_KIND_ORDER, *sorted(ids)):
        if kind in ids:
            return events.anonymous_id_for(workspace_id, kind, ids[kind])
    return f"cxl-{key}"


def _known_profile(
    session: Session, workspace_id: uuid.UUID, response: SurveyResponse
) -> uuid.UUID | None:
    """The customer already holding one of the response's identifiers, if any."""
    ids = dict(response.customer)
    if response.anonymous_id is not None:
        ids.setdefault("anonymous_id", response.anonymous_id)
    for kind in (*_KIND_ORDER, *sorted(k for k in ids if k != "anonymous_id"), "anonymous_id"):
        if kind in ids:
            profile = profiles.find_profile(session, workspace_id, kind, ids[kind])
            if profile is not None:
                return profile.id
    return None


def list_responses(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    *,
    limit: int = 50,
    before: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[SurveyResponse]:
    """Newest first; ``since`` and ``until`` bound the submission time (``until`` excluded)."""
    survey = get_survey(session, workspace_id, survey_id)
    query = select(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.workspace_id == workspace_id
    )
    if before is not None:
        query = query.where(SurveyResponse.id < before)
    if since is not None:
        query = query.where(SurveyResponse.submitted_at >= to_utc(since))
    if until is not None:
        query = query.where(SurveyResponse.submitted_at < to_utc(until))
    return session.scalars(query.order_by(SurveyResponse.id.desc()).limit(limit)).all()


def link_profiles(session: Session, *, batch: int = 500) -> int:
    """Give recent responses of customers unknown when they answered the profile their
    event was loaded into; returns how many were linked."""
    rows = session.scalars(
        select(SurveyResponse)
        .where(
            SurveyResponse.profile_id.is_(None),
            SurveyResponse.created_at >= utcnow() - LINK_WINDOW,
        )
        .order_by(SurveyResponse.created_at)
        .limit(batch)
    ).all()
    linked = 0
    for response in rows:
        response.profile_id = _known_profile(session, response.workspace_id, response)
        if response.profile_id is not None:
            linked += 1
            text.link_profile(
                session,
                response.workspace_id,
                TextSource.SURVEY_RESPONSE,
                [str(response.response_key)],
                response.profile_id,
            )
    session.flush()
    return linked
