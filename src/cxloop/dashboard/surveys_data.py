"""What the survey pages show, computed through the surveys service and the feedback metrics:
the list with each survey's figures at a glance, a survey's results (NPS, CSAT and CES with
their intervals, weekly trends, breakdowns) and its comments with their text analysis.

Plain dataclasses and dicts out; the pages only lay them out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cxloop.analytics.feedback import Metric
from cxloop.models import SurveyResponse, SurveyStatus, TextAnalysis, TextSource
from cxloop.surveys import metrics, service
from cxloop.surveys.metrics_schemas import MeasureQuery
from cxloop.surveys.schemas import SurveyDefinition, localise
from cxloop.surveys.service.surveys import TRANSITIONS

METRICS = (Metric.NPS, Metric.CSAT, Metric.CES)
BREAKDOWNS = ("touchpoint", "channel", "language", "stage")
COMMENTS_PER_PAGE = 20
SURVEYS_PER_PAGE = 50
_EXPORT_PAGE = 1000


# -- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Glance:
    """A figure in one number: the value, how many answers, whether too few to trust."""

    value: float | None
    n: int
    small_sample: bool


@dataclass
class SurveyRow:
    id: uuid.UUID
    name: str
    status: str
    touchpoint: str | None
    stage: str | None
    languages: list[str]
    response_count: int
    response_limit: int | None
    closes_at: datetime | None
    updated_at: datetime
    nps: Glance | None = None
    csat: Glance | None = None
    next_statuses: list[str] = field(default_factory=list)


@dataclass
class SurveyList:
    rows: list[SurveyRow]
    next_cursor: str | None


def survey_list(
    session: Session,
    workspace_id: uuid.UUID,
    root: Path,
    *,
    status: SurveyStatus | None = None,
    before: uuid.UUID | None = None,
    limit: int = SURVEYS_PER_PAGE,
) -> SurveyList:
    """A page of surveys, newest first, each with its NPS and CSAT over all its responses
    (two queries of the event store for the whole page)."""
    surveys = service.list_surveys(session, workspace_id, limit=limit, before=before, status=status)
    rows = [
        SurveyRow(
            id=s.id,
            name=s.name,
            status=s.status.value,
            touchpoint=s.touchpoint,
            stage=s.stage,
            languages=list(s.languages),
            response_count=s.response_count,
            response_limit=s.response_limit,
            closes_at=s.closes_at,
            updated_at=s.updated_at,
            next_statuses=next_statuses(s.status),
        )
        for s in surveys
    ]
    if rows:
        ids = [str(r.id) for r in rows]
        nps = _glances(session, workspace_id, root, Metric.NPS, ids)
        csat = _glances(session, workspace_id, root, Metric.CSAT, ids)
        for row in rows:
            row.nps, row.csat = nps.get(str(row.id)), csat.get(str(row.id))
    cursor = str(rows[-1].id) if len(rows) == limit else None
    return SurveyList(rows, cursor)


def next_statuses(status: SurveyStatus) -> list[str]:
    """What a survey in ``status`` may become, in the order of the life of a survey."""
    return [s.value for s in SurveyStatus if s in TRANSITIONS[status]]


def _glances(
    session: Session, workspace_id: uuid.UUID, root: Path, metric: Metric, ids: list[str]
) -> dict[str, Glance]:
    query = MeasureQuery(survey_id=ids, by="survey")
    body = metrics.measure(session, workspace_id, root, metric, query)
    return {
        g["key"]: Glance(g[metric.value], g["n"], g["small_sample"])
        for g in body.get("groups") or []
        if g["n"]
    }


# -- results ----------------------------------------------------------------------------------


@dataclass
class MetricResult:
    """One metric of a survey: the figure over the period and its weekly trend."""

    metric: str
    figure: dict[str, Any]
    trend: list[dict[str, Any]]


@dataclass
class Breakdown:
    by: str
    groups: list[dict[str, Any]]


@dataclass
class Results:
    metrics: list[MetricResult]
    metric: str | None  # the one the breakdowns are of
    breakdowns: list[Breakdown]
    min_n: int
    since: datetime | None


def metrics_asked(definition: SurveyDefinition) -> list[Metric]:
    """The metrics a survey's questions give, in the order NPS, CSAT, CES."""
    kinds = {q.type for q in definition.questions}
    return [m for m in METRICS if m.value in kinds]


def results(
    session: Session,
    workspace_id: uuid.UUID,
    root: Path,
    survey_id: uuid.UUID,
    asked: Sequence[Metric],
    *,
    timezone: str,
    since: datetime | None = None,
    until: datetime | None = None,
    metric: Metric | None = None,
) -> Results:
    """Each metric the survey asks in ``[since, until)`` with its weekly trend, and the
    breakdowns of ``metric`` (default: the first asked)."""
    base = {"survey_id": [str(survey_id)], "tz": timezone, "from": since, "to": until}
    found = []
    for m in asked:
        query = MeasureQuery.model_validate({**base, "interval": "week"})
        body = metrics.measure(session, workspace_id, root, m, query)
        found.append(MetricResult(m.value, _figure(body), body.get("trend") or []))
    chosen = metric if metric in asked else (asked[0] if asked else None)
    breakdowns = []
    if chosen is not None:
        for by in BREAKDOWNS:
            query = MeasureQuery.model_validate({**base, "by": by})
            body = metrics.measure(session, workspace_id, root, chosen, query)
            breakdowns.append(Breakdown(by, body.get("groups") or []))
    min_n = MeasureQuery().min_n
    return Results(found, chosen.value if chosen else None, breakdowns, min_n, since)


def _figure(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("groups", "trend", "metric")}


# -- comments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentFilter:
    sentiment: str | None = None
    theme: str | None = None
    language: str | None = None


@dataclass
class Comment:
    response_id: uuid.UUID
    question_id: str
    question: str
    text: str
    language: str
    sentiment: str
    score: float
    themes: list[str]
    nps: int | None
    touchpoint: str | None
    submitted_at: datetime | None


@dataclass
class CommentPage:
    items: list[Comment]
    next_cursor: str | None
    sentiments: list[str]


def comments(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    definition: SurveyDefinition,
    lang: str,
    default_language: str,
    flt: CommentFilter,
    *,
    cursor: str | None = None,
    limit: int = COMMENTS_PER_PAGE,
) -> CommentPage:
    """The free-text answers of a survey with their analysis, newest response first.

    ``cursor`` is ``next_cursor`` of the page before (a response id and a question id).
    """
    r, a = SurveyResponse, TextAnalysis
    query = (
        select(
            r.id,
            r.answers,
            r.touchpoint,
            r.submitted_at,
            a.field,
            a.language,
            a.sentiment,
            a.score,
            a.themes,
        )
        .join(a, _analysis_of(session, r, a))
        .where(r.workspace_id == workspace_id, r.survey_id == survey_id)
    )
    if flt.sentiment:
        query = query.where(a.sentiment == flt.sentiment)
    if flt.language:
        query = query.where(a.language == flt.language)
    if flt.theme:
        escaped = flt.theme.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cast(a.themes, String).like(f'%"{escaped}"%', escape="\\"))
    after = _read_cursor(cursor)
    if after is not None:
        query = query.where(or_(r.id < after[0], and_(r.id == after[0], a.field > after[1])))
    rows = session.execute(query.order_by(r.id.desc(), a.field).limit(limit + 1)).all()
    nps = definition.first_of("nps")
    titles = {
        q.id: localise({str(k): v for k, v in q.title.items()}, lang, default_language)
        for q in definition.questions
    }
    items = []
    for row in rows[:limit]:
        text = row.answers.get(row.field)
        score = row.answers.get(nps.id) if nps is not None else None
        items.append(
            Comment(
                response_id=row.id,
                question_id=row.field,
                question=titles.get(row.field, row.field),
                text=text if isinstance(text, str) else "",
                language=row.language,
                sentiment=row.sentiment,
                score=row.score,
                themes=list(row.themes or []),
                nps=score if isinstance(score, int) else None,
                touchpoint=row.touchpoint,
                submitted_at=row.submitted_at,
            )
        )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = f"{last.id}:{last.field}"
    return CommentPage(items, next_cursor, _sentiments(session, workspace_id))


def _analysis_of(session: Session, r: type[SurveyResponse], a: type[TextAnalysis]) -> Any:
    """The join of a response to the analyses of its texts: their ``source_id`` is the
    response key as text, which each database spells from its own UUID column."""
    return and_(
        a.workspace_id == r.workspace_id,
        a.source_kind == TextSource.SURVEY_RESPONSE,
        a.source_id == key_text(session, r.response_key),
    )


def key_text(session: Session, column: Any) -> ColumnElement[str]:
    """A UUID column as ``str(uuid)`` spells it (hyphenated, lower case)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, String)
    hex_ = func.lower(cast(column, String))  # SQLite keeps UUIDs as 32 hex digits
    parts = [func.substr(hex_, start, length) for start, length in _UUID_PARTS]
    out: ColumnElement[str] = parts[0]
    for part in parts[1:]:
        out = out.concat("-").concat(part)
    return out


_UUID_PARTS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


def _read_cursor(cursor: str | None) -> tuple[uuid.UUID, str] | None:
    if not cursor:
        return None
    head, _, tail = cursor.partition(":")
    try:
        return uuid.UUID(head), tail
    except ValueError:
        return None


def _sentiments(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """The sentiment labels the workspace's analyses use (the model's classes)."""
    rows = session.scalars(
        select(TextAnalysis.sentiment).where(TextAnalysis.workspace_id == workspace_id).distinct()
    )
    return sorted(rows)


# -- export -----------------------------------------------------------------------------------


def response_columns(detail: Mapping[str, Any]) -> list[str]:
    """Every question id any version asked, in the order first asked."""
    ids: dict[str, None] = {}
    for version in detail["versions"]:
        ids.update(dict.fromkeys(version["question_ids"]))
    return list(ids)


RESPONSE_FIELDS = (
    "response_id",
    "submitted_at",
    "is_complete",
    "version",
    "language",
    "channel",
    "touchpoint",
    "source",
    "customer_id",
    "user_id",
    "email",
)


def response_rows(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, questions: Sequence[str]
) -> Iterator[list[Any]]:
    """Every response of the survey as one row per response (newest first), a page of
    responses per query; list answers are joined with ``;``."""
    before: uuid.UUID | None = None
    while True:
        page = service.list_responses(
            session, workspace_id, survey_id, limit=_EXPORT_PAGE, before=before
        )
        for row in page:
            answers = row.answers
            yield [
                str(row.response_key),
                row.submitted_at.isoformat() if row.submitted_at else "",
                row.is_complete,
                row.version,
                row.language,
                row.channel,
                row.touchpoint or "",
                row.source.value,
                str(row.profile_id) if row.profile_id else "",
                row.user_id or "",
                row.customer.get("email", ""),
                *[_cell(answers.get(q)) for q in questions],
            ]
        if len(page) < _EXPORT_PAGE:
            return
        before = page[-1].id


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value
