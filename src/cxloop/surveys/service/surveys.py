"""Surveys: their settings, status and the versions of their questions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cxloop.accounts import service as accounts
from cxloop.core.actors import Actor
from cxloop.core.time import utcnow
from cxloop.models import Survey, SurveyResponse, SurveyStatus, SurveyVersion
from cxloop.surveys import definitions, errors
from cxloop.surveys.definitions import Problem
from cxloop.surveys.schemas import (
    LANGUAGES,
    SurveyCreate,
    SurveyDefinition,
    SurveySettings,
    SurveyUpdate,
)

TRANSITIONS = {
    SurveyStatus.DRAFT: {SurveyStatus.ACTIVE},
    SurveyStatus.ACTIVE: {SurveyStatus.PAUSED, SurveyStatus.CLOSED},
    SurveyStatus.PAUSED: {SurveyStatus.ACTIVE, SurveyStatus.CLOSED},
    SurveyStatus.CLOSED: set(),
}


# -- surveys ----------------------------------------------------------------------------------


def get_survey(session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID) -> Survey:
    survey = session.scalar(
        select(Survey).where(Survey.id == survey_id, Survey.workspace_id == workspace_id)
    )
    if survey is None:
        raise errors.SurveyNotFound("no such survey in this workspace")
    return survey


def list_surveys(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    limit: int = 50,
    before: uuid.UUID | None = None,
    status: SurveyStatus | None = None,
) -> Sequence[Survey]:
    """Newest first; ``before`` is the id of the last survey of the previous page."""
    query = select(Survey).where(Survey.workspace_id == workspace_id)
    if status is not None:
        query = query.where(Survey.status == status)
    if before is not None:
        query = query.where(Survey.id < before)  # ids are time-ordered (UUIDv7)
    return session.scalars(query.order_by(Survey.id.desc()).limit(limit)).all()


def create_survey(
    session: Session, workspace_id: uuid.UUID, body: SurveyCreate, actor: Actor
) -> Survey:
    """Create a survey with its first version; active at once unless a draft is asked for."""
    definition = definitions.normalise(
        SurveyDefinition(questions=body.questions, intro=body.intro, thank_you=body.thank_you)
    )
    workspace = accounts.get_workspace(session, workspace_id)
    default, languages = _languages(body, definition, workspace.default_language)
    problems = definitions.check_definition(definition)
    problems += _check_settings(body, default, languages, response_count=0)
    if problems:
        raise errors.InvalidDefinition(problems)
    now = utcnow()
    survey = Survey(
        workspace_id=workspace_id,
        name=body.name.strip(),
        status=SurveyStatus(body.status),
        touchpoint=body.touchpoint,
        stage=body.stage,
        default_language=default,
        languages=languages,
        response_limit=body.response_limit,
        closes_at=to_utc(body.closes_at),
        current_version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    session.flush()
    session.add(_version_row(survey, 1, definition))
    session.flush()
    audit(session, actor, "survey.created", survey, {"name": survey.name})
    return survey


def _languages(
    body: SurveySettings, definition: SurveyDefinition, workspace_language: str
) -> tuple[str, list[str]]:
    """The default language and the languages offered, from what the titles are written in
    when the body does not say."""
    common: list[str] = [
        lang for lang in LANGUAGES if all(lang in q.title for q in definition.questions)
    ]
    default: str | None = body.default_language
    if default is None:
        preferred = [workspace_language, "en", *LANGUAGES]
        default = next((lang for lang in preferred if lang in common), "en")
    given: list[str] | None = list(body.languages) if body.languages is not None else None
    languages = list(dict.fromkeys(given or common or [default]))
    if body.languages is None and default not in languages:
        languages.insert(0, default)
    return default, languages


def _check_settings(
    body: SurveySettings, default: str, languages: list[str], *, response_count: int
) -> list[Problem]:
    problems: list[Problem] = []
    if default not in languages:
        problems.append((["default_language"], f"{default!r} is not among the languages"))
    closes_at = to_utc(body.closes_at)
    if closes_at is not None and closes_at <= utcnow():
        problems.append((["closes_at"], "is in the past"))
    if body.response_limit is not None and body.response_limit <= response_count:
        problems.append(
            (
                ["response_limit"],
                f"the survey already has {response_count} responses; a limit must be above that",
            )
        )
    return problems


def _version_row(survey: Survey, number: int, definition: SurveyDefinition) -> SurveyVersion:
    return SurveyVersion(
        workspace_id=survey.workspace_id,
        survey_id=survey.id,
        version=number,
        definition=definition.model_dump(mode="json", exclude_none=True),
    )


def update_survey(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    body: SurveyUpdate,
    actor: Actor,
) -> Survey:
    """Change a survey. New questions edit the current version in place while nobody has
    answered it, and become a new version once someone has, so earlier responses keep the
    questions they answered."""
    survey = get_survey(session, workspace_id, survey_id)
    given = body.model_fields_set
    versions = _versions(session, survey)
    current = definition_of(versions[-1])
    changed = current
    if given & {"questions", "intro", "thank_you"}:
        changed = definitions.normalise(
            SurveyDefinition(
                questions=body.questions if body.questions is not None else current.questions,
                intro=body.intro if "intro" in given else current.intro,
                thank_you=body.thank_you if "thank_you" in given else current.thank_you,
            )
        )
    default = body.default_language or survey.default_language
    languages = list(dict.fromkeys(body.languages or survey.languages))
    problems = _check_settings(body, default, languages, response_count=survey.response_count)
    answered = changed != current and has_responses(session, survey, survey.current_version)
    if changed != current:
        if survey.status == SurveyStatus.CLOSED:
            problems.append((["questions"], "a closed survey keeps the questions it had"))
        earlier = versions if answered else versions[:-1]
        problems += definitions.check_definition(
            changed, [(v.version, definition_of(v)) for v in earlier]
        )
    if problems:
        raise errors.InvalidDefinition(problems)
    for name in ("name", "touchpoint", "stage", "response_limit"):
        if name in given and (name != "name" or body.name is not None):
            setattr(survey, name, getattr(body, name))
    if "closes_at" in given:
        survey.closes_at = to_utc(body.closes_at)
    survey.default_language, survey.languages = default, languages
    if changed != current:
        if answered:
            survey.current_version += 1
            session.add(_version_row(survey, survey.current_version, changed))
        else:
            versions[-1].definition = changed.model_dump(mode="json", exclude_none=True)
    survey.updated_at = utcnow()
    session.flush()
    audit(session, actor, "survey.updated", survey, {"fields": sorted(given)})
    return survey


def change_status(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    status: SurveyStatus,
    actor: Actor,
) -> Survey:
    """Move a survey along draft -> active <-> paused -> closed; closed is final."""
    survey = get_survey(session, workspace_id, survey_id)
    if status == survey.status:
        return survey
    if status not in TRANSITIONS[survey.status]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[survey.status])) or "nothing"
        hint = " (delete a draft that is not needed)" if survey.status == SurveyStatus.DRAFT else ""
        raise errors.BadTransition(
            f"a {survey.status.value} survey cannot become {status.value}; it can become "
            f"{allowed}{hint}"
        )
    now = utcnow()
    if status == SurveyStatus.ACTIVE:
        if survey.closes_at is not None and survey.closes_at <= now:
            raise errors.BadTransition(
                f"its close date {survey.closes_at.isoformat()} has passed; move closes_at first"
            )
        if is_full(survey):
            raise errors.BadTransition(
                f"it has reached its limit of {survey.response_limit} responses; "
                "raise response_limit first"
            )
    survey.status = status
    if status == SurveyStatus.CLOSED:
        survey.closed_at = now
    survey.updated_at = now
    session.flush()
    audit(session, actor, f"survey.{status.value}", survey, {})
    return survey


def delete_survey(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, actor: Actor
) -> None:
    """Delete a draft; a survey that was ever active is closed instead, to keep its history."""
    survey = get_survey(session, workspace_id, survey_id)
    if survey.status != SurveyStatus.DRAFT or has_responses(session, survey):
        raise errors.NotDeletable(
            f"only a draft without responses can be deleted; this one is {survey.status.value}"
            ": close it instead"
        )
    audit(session, actor, "survey.deleted", survey, {"name": survey.name})
    session.execute(
        delete(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.workspace_id == workspace_id
        )
    )
    session.delete(survey)
    session.flush()


def close_expired(session: Session) -> int:
    """Close every survey past its close date; returns how many."""
    now = utcnow()
    result = session.execute(
        update(Survey)
        .where(
            Survey.status.in_([SurveyStatus.ACTIVE, SurveyStatus.PAUSED]),
            Survey.closes_at.is_not(None),
            Survey.closes_at <= now,
        )
        .values(status=SurveyStatus.CLOSED, closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def audit(
    session: Session, actor: Actor, action: str, survey: Survey, details: dict[str, Any]
) -> None:
    accounts.record_audit(
        session,
        actor,
        action,
        workspace_id=survey.workspace_id,
        target_type="survey",
        target_id=str(survey.id),
        details=details,
    )


# -- versions ---------------------------------------------------------------------------------


def _versions(session: Session, survey: Survey) -> list[SurveyVersion]:
    return list(
        session.scalars(
            select(SurveyVersion)
            .where(
                SurveyVersion.survey_id == survey.id,
                SurveyVersion.workspace_id == survey.workspace_id,
            )
            .order_by(SurveyVersion.version)
        )
    )


def definition_of(version: SurveyVersion) -> SurveyDefinition:
    return SurveyDefinition.model_validate(version.definition)


_DEFINITIONS: dict[tuple[uuid.UUID, int, datetime | None], SurveyDefinition] = {}
_MAX_CACHED = 1024


def version_definition(session: Session, survey: Survey, number: int) -> SurveyDefinition | None:
    """The questions of one version of ``survey``, parsed once per process.

    An answered version never changes, so it is cached by number; the current one may still
    be edited in place, and every edit moves the survey's ``updated_at``, which is part of
    its key. Pages and submissions read definitions on every request: this saves a query
    and a parse each time."""
    key = (survey.id, number, survey.updated_at if number == survey.current_version else None)
    found = _DEFINITIONS.get(key)
    if found is not None:
        return found
    row = session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id,
            SurveyVersion.workspace_id == survey.workspace_id,
            SurveyVersion.version == number,
        )
    )
    if row is None:
        return None
    if len(_DEFINITIONS) >= _MAX_CACHED:
        _DEFINITIONS.clear()
    found = _DEFINITIONS[key] = definition_of(row)
    return found


def get_version(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, version: int
) -> SurveyVersion:
    """One version of a survey's questions: what the responses to it answered."""
    row = session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey_id,
            SurveyVersion.workspace_id == workspace_id,
            SurveyVersion.version == version,
        )
    )
    if row is None:
        raise errors.VersionNotFound(f"no version {version} of this survey")
    return row


def survey_detail(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID
) -> dict[str, Any]:
    """A survey with its current questions and each version's number of responses."""
    survey = get_survey(session, workspace_id, survey_id)
    versions = _versions(session, survey)
    counts = dict(
        session.execute(
            select(SurveyResponse.version, func.count())
            .where(
                SurveyResponse.survey_id == survey.id,
                SurveyResponse.workspace_id == workspace_id,
            )
            .group_by(SurveyResponse.version)
        ).all()
    )
    summaries = []
    for row in versions:
        definition = definition_of(row)
        summaries.append(
            {
                "version": row.version,
                "created_at": row.created_at,
                "question_ids": [q.id for q in definition.questions],
                "response_count": counts.get(row.version, 0),
            }
        )
    return {
        **{c.key: getattr(survey, c.key) for c in Survey.__table__.columns},
        "definition": definition_of(versions[-1]),
        "versions": summaries,
    }


def has_responses(session: Session, survey: Survey, version: int | None = None) -> bool:
    query = select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.workspace_id == survey.workspace_id
    )
    if version is not None:
        query = query.where(SurveyResponse.version == version)
    return session.scalar(query.limit(1)) is not None


def is_full(survey: Survey) -> bool:
    return survey.response_limit is not None and survey.response_count >= survey.response_limit


def to_utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC (as Segment does)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
