"""What the text page shows: the themes customers write about, week by week and by
sentiment, the themes detractors mention, the NPS drivers, and example comments.

Every analysed text is counted at the time its customer wrote it: a survey answer at its
response's submission, a review or message at its event's time in the event store (it may
have been imported long after it was written, and analysed later still).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cxloop.analytics import events as event_store
from cxloop.analytics.feedback import NONE, Metric
from cxloop.config import Settings
from cxloop.core.db import among
from cxloop.core.time import utcnow
from cxloop.dashboard.surveys_data import key_text
from cxloop.eventstore.service import current_files
from cxloop.ingest.feedback import TEXT_PROPERTIES
from cxloop.models import SurveyResponse, TextAnalysis, TextSource
from cxloop.surveys import metrics
from cxloop.surveys.metrics_schemas import MeasureQuery, MetricFilters
from cxloop.text import service as text_service

SOURCES = tuple(s.value for s in TextSource)
TOP_THEMES = 5  # lines in the chart of themes over time
EXAMPLES_PER_THEME = 3
_CHUNK = 2000
_RESPONSE_KEY = cast(Table, SurveyResponse.__table__).c.response_key


@dataclass(frozen=True)
class Mention:
    """One analysed text: where it came from, when it was written and what was read."""

    source_kind: str
    source_id: str
    field: str
    at: datetime
    language: str
    sentiment: str
    themes: tuple[str, ...]


@dataclass
class Example:
    text: str
    language: str
    sentiment: str
    source_kind: str
    at: datetime


@dataclass
class DetractorTheme:
    theme: str
    detractors: int  # detractors whose text mentions the theme
    share: float | None  # of the detractors with an analysed text
    nps: float | None  # of every response mentioning it
    n: int
    small_sample: bool


@dataclass
class TextOverview:
    since: datetime
    total: int  # analysed texts in the period
    labels: dict[str, str]  # theme id -> its name in the page's language
    weeks: list[date]
    over_time: dict[str, list[int]]  # theme -> texts mentioning it, per week
    sentiments: list[str]
    by_sentiment: dict[str, dict[str, int]]  # theme -> sentiment -> texts
    detractors: list[DetractorTheme]
    analysed_detractors: int
    drivers: list[dict[str, Any]]
    min_n: int
    examples: dict[str, list[Example]] = field(default_factory=dict)


def overview(
    session: Session,
    settings: Settings,
    root: Path,
    workspace_id: uuid.UUID,
    *,
    lang: str,
    timezone: str,
    since: datetime,
    until: datetime,
    sources: Sequence[str] = SOURCES,
) -> TextOverview:
    """Everything the text page shows of the texts written in ``[since, until)``."""
    zone = _zone(timezone)
    found = mentions(session, root, workspace_id, since, until, sources)
    taxonomy = text_service.get_taxonomy(settings, workspace_id)
    labels = {t.id: t.label.get(lang) or t.label.get("en") or t.id for t in taxonomy.themes}
    for mention in found:
        for theme in mention.themes:
            labels.setdefault(theme, theme)
    weeks, over_time = _weekly(found, zone, since, until)
    by_sentiment: dict[str, Counter[str]] = defaultdict(Counter)
    for mention in found:
        for theme in mention.themes:
            by_sentiment[theme][mention.sentiment] += 1
    ordered = sorted(by_sentiment, key=lambda t: (-sum(by_sentiment[t].values()), t))
    sentiments = _sentiment_order({s for m in found for s in [m.sentiment]})
    detractors, analysed = _detractor_themes(session, workspace_id, root, since, until)
    drivers = metrics.nps_drivers(
        session, workspace_id, root, MetricFilters.model_validate({"from": since, "to": until})
    )
    return TextOverview(
        since=since,
        total=len(found),
        labels=labels,
        weeks=weeks,
        over_time={t: over_time[t] for t in ordered[:TOP_THEMES]},
        sentiments=sentiments,
        by_sentiment={t: dict(by_sentiment[t]) for t in ordered},
        detractors=detractors,
        analysed_detractors=analysed,
        drivers=drivers["items"],
        min_n=drivers["min_n"],
        examples=examples(session, root, workspace_id, found, ordered, lang),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _sentiment_order(labels: Iterable[str]) -> list[str]:
    known = ["negative", "neutral", "positive"]
    rest = sorted(set(labels) - set(known))
    return [s for s in known if s in set(labels)] + rest


# -- the analysed texts and when they were written -----------------------------------------------


def mentions(
    session: Session,
    root: Path,
    workspace_id: uuid.UUID,
    since: datetime,
    until: datetime,
    sources: Sequence[str] = SOURCES,
) -> list[Mention]:
    """The analysed texts written in ``[since, until)``, each dated by its customer's time."""
    out: list[Mention] = []
    if TextSource.SURVEY_RESPONSE.value in sources:
        out.extend(_survey_mentions(session, workspace_id, since, until))
    others = [s for s in sources if s != TextSource.SURVEY_RESPONSE.value and s in SOURCES]
    if others:
        out.extend(_event_mentions(session, root, workspace_id, since, until, others))
    return out


def _survey_mentions(
    session: Session, workspace_id: uuid.UUID, since: datetime, until: datetime
) -> list[Mention]:
    r, a = SurveyResponse, TextAnalysis
    rows = session.execute(
        select(a.source_id, a.field, a.language, a.sentiment, a.themes, r.submitted_at)
        .join(
            a,
            (a.workspace_id == r.workspace_id)
            & (a.source_kind == TextSource.SURVEY_RESPONSE)
            & (a.source_id == key_text(session, r.response_key)),
        )
        .where(r.workspace_id == workspace_id, r.submitted_at >= since, r.submitted_at < until)
    )
    return [
        Mention(
            TextSource.SURVEY_RESPONSE.value,
            source_id,
            field_,
            _utc(at),
            language,
            sentiment,
            tuple(themes or ()),
        )
        for source_id, field_, language, sentiment, themes, at in rows
    ]


def _event_mentions(
    session: Session,
    root: Path,
    workspace_id: uuid.UUID,
    since: datetime,
    until: datetime,
    kinds: Sequence[str],
) -> list[Mention]:
    a = TextAnalysis
    rows = session.execute(
        select(a.source_kind, a.source_id, a.field, a.language, a.sentiment, a.themes).where(
            a.workspace_id == workspace_id, a.source_kind.in_([TextSource(k) for k in kinds])
        )
    ).all()
    if not rows:
        return []
    ids = [row.source_id for row in rows]
    times = _event_times(session, root, workspace_id, since, until, ids)
    return [
        Mention(
            row.source_kind.value,
            row.source_id,
            row.field,
            times[row.source_id],
            row.language,
            row.sentiment,
            tuple(row.themes or ()),
        )
        for row in rows
        if row.source_id in times
    ]


def _event_times(
    session: Session,
    root: Path,
    workspace_id: uuid.UUID,
    since: datetime,
    until: datetime,
    ids: list[str],
) -> dict[str, datetime]:
    """The time of each of these messages written in ``[since, until)``."""
    files = current_files(session, workspace_id, root, since=since)
    if not files:
        return {}
    found = event_store.query(
        files,
        {},
        "SELECT message_id, max(timestamp) AS at FROM events "
        "WHERE timestamp >= ? AND timestamp < ? "
        "AND message_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY message_id",
        [since, until, ids],
    )
    return {row["message_id"]: _utc(row["at"]) for row in found}


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _weekly(
    found: Sequence[Mention], zone: ZoneInfo, since: datetime, until: datetime
) -> tuple[list[date], dict[str, list[int]]]:
    """Texts mentioning each theme per week (from Monday, in the workspace's zone)."""
    first = _monday(since.astimezone(zone).date())
    last = _monday((min(until, utcnow()) - timedelta(microseconds=1)).astimezone(zone).date())
    weeks = [first + timedelta(days=7 * i) for i in range((last - first).days // 7 + 1)]
    index = {week: i for i, week in enumerate(weeks)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(weeks))
    for mention in found:
        week = index.get(_monday(mention.at.astimezone(zone).date()))
        if week is None:
            continue
        for theme in mention.themes:
            counts[theme][week] += 1
    return weeks, dict(counts)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


# -- detractors ---------------------------------------------------------------------------------


def _detractor_themes(
    session: Session, workspace_id: uuid.UUID, root: Path, since: datetime, until: datetime
) -> tuple[list[DetractorTheme], int]:
    """The themes of detractors' answers, most mentioned first, and how many detractors
    wrote an analysed text."""
    base = {"from": since, "to": until}
    by_theme = metrics.measure(
        session,
        workspace_id,
        root,
        Metric.NPS,
        MeasureQuery.model_validate({**base, "by": "theme"}),
    )
    by_sentiment = metrics.measure(
        session,
        workspace_id,
        root,
        Metric.NPS,
        MeasureQuery.model_validate({**base, "by": "sentiment"}),
    )
    analysed = sum(g["detractors"] for g in by_sentiment.get("groups") or [] if g["key"] != NONE)
    out = [
        DetractorTheme(
            theme=g["key"],
            detractors=g["detractors"],
            share=100 * g["detractors"] / analysed if analysed else None,
            nps=g["nps"],
            n=g["n"],
            small_sample=g["small_sample"],
        )
        for g in by_theme.get("groups") or []
        if g["key"] != NONE and g["detractors"]
    ]
    out.sort(key=lambda d: (-d.detractors, d.theme))
    return out, analysed


# -- examples -----------------------------------------------------------------------------------


def examples(
    session: Session,
    root: Path,
    workspace_id: uuid.UUID,
    found: Sequence[Mention],
    themes: Sequence[str],
    lang: str,
    per_theme: int = EXAMPLES_PER_THEME,
) -> dict[str, list[Example]]:
    """A few recent texts of each theme, those in the reader's language first, each shown
    in the language it was written in."""
    chosen: dict[str, list[Mention]] = {}
    ranked = sorted(found, key=lambda m: (m.language != lang, -m.at.timestamp()))
    for theme in themes:
        # a few more than shown: the same words written twice are shown once
        picks = [m for m in ranked if theme in m.themes][: per_theme * 4]
        if picks:
            chosen[theme] = picks
    wanted = {m for picks in chosen.values() for m in picks}
    texts = _survey_texts(session, workspace_id, [m for m in wanted if _is_survey(m)])
    texts.update(
        _event_texts(session, root, workspace_id, [m for m in wanted if not _is_survey(m)])
    )
    out: dict[str, list[Example]] = {}
    for theme, picks in chosen.items():
        shown: dict[str, Example] = {}
        for m in picks:
            text = texts.get((m.source_id, m.field))
            if text and text.casefold() not in shown and len(shown) < per_theme:
                shown[text.casefold()] = Example(text, m.language, m.sentiment, m.source_kind, m.at)
        out[theme] = list(shown.values())
    return out


def _is_survey(mention: Mention) -> bool:
    return mention.source_kind == TextSource.SURVEY_RESPONSE.value


def _survey_texts(
    session: Session, workspace_id: uuid.UUID, wanted: Sequence[Mention]
) -> dict[tuple[str, str], str]:
    keys = []
    for mention in wanted:
        try:
            keys.append(uuid.UUID(mention.source_id))
        except ValueError:
            continue
    out: dict[tuple[str, str], str] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = session.execute(
            select(SurveyResponse.response_key, SurveyResponse.answers).where(
                SurveyResponse.workspace_id == workspace_id,
                among(session, _RESPONSE_KEY, keys[start : start + _CHUNK]),
            )
        )
        answers = {str(key): values for key, values in rows}
        for mention in wanted:
            value = answers.get(mention.source_id, {}).get(mention.field)
            if isinstance(value, str):
                out[(mention.source_id, mention.field)] = value
    return out


def _event_texts(
    session: Session, root: Path, workspace_id: uuid.UUID, wanted: Sequence[Mention]
) -> dict[tuple[str, str], str]:
    if not wanted:
        return {}
    since = min(m.at for m in wanted) - timedelta(days=1)
    files = current_files(session, workspace_id, root, since=since)
    if not files:
        return {}
    rows = event_store.query(
        files,
        {},
        "SELECT message_id, properties FROM events "
        "WHERE message_id IN (SELECT unnest(?::VARCHAR[]))",
        [sorted({m.source_id for m in wanted})],
    )
    words = {row["message_id"]: _words(row["properties"]) for row in rows}
    return {(m.source_id, m.field): words[m.source_id] for m in wanted if words.get(m.source_id)}


def _words(properties: str | None) -> str:
    """The words of a review or message, from the property the loader read them from."""
    try:
        data: Mapping[str, Any] = orjson.loads(properties or "{}")
    except orjson.JSONDecodeError:
        return ""
    for name in TEXT_PROPERTIES:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""
