"""Feedback metrics of a workspace: NPS, CSAT and CES over its survey responses.

The figures come from the event store (``analytics.feedback``): this module gathers what
the analytics need from the operational store (the current files, the merge map, the
traits of the customers who answered), turns API parameters into a spec, and the results
into the API's shape.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import pyarrow as pa
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cxloop.analytics import drivers as driver_analysis
from cxloop.analytics import feedback
from cxloop.analytics.feedback import Metric, Period, Sides, Spec, SpecError
from cxloop.core.db import among
from cxloop.core.errors import InvalidInput
from cxloop.core.time import utcnow
from cxloop.eventstore.service import current_files
from cxloop.models import Profile, TextAnalysis, TextSource
from cxloop.profiles.service import merge_map
from cxloop.surveys.metrics_schemas import CompareQuery, MeasureQuery, MetricFilters

log = logging.getLogger(__name__)


class InvalidParameter(InvalidInput):
    """A query parameter that breaks a rule, located as the framework locates its own."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.extra = {"errors": [{"loc": ["query", name], "msg": reason, "type": "value_error"}]}


DEFAULT_WINDOW = timedelta(days=30)  # compare: the last 30 days against the 30 before
_CHUNK = 2000
_PROFILE = cast(Table, Profile.__table__)
_ANALYSIS = cast(Table, TextAnalysis.__table__)


def measure(
    session: Session, workspace_id: uuid.UUID, root: Path, metric: Metric, query: MeasureQuery
) -> dict[str, Any]:
    """The metric overall, per group of ``by`` and per ``interval``, as the API shows it."""
    spec = _spec(metric, query, by=query.by, interval=query.interval)
    files, merges, traits = _inputs(session, workspace_id, root, spec)
    labels = None
    if spec.labelled and files:
        ids = feedback.responses(files, merges, spec)
        labels = _labels(session, workspace_id, ids)[spec.by == "theme"]
    result = feedback.measure(files, merges, spec, traits, labels)
    body: dict[str, Any] = {"metric": metric.value, "min_n": spec.min_n, **asdict(result.overall)}
    if spec.by is not None:
        body["groups"] = [{"key": g.key, **asdict(g.figure)} for g in result.groups]
    if spec.interval is not None:
        body["trend"] = [{"period": b.period, **asdict(b.figure)} for b in result.trend]
    return body


def compare(
    session: Session, workspace_id: uuid.UUID, root: Path, metric: Metric, query: CompareQuery
) -> dict[str, Any]:
    """Two groups of ``by``, or two periods, side by side, and whether they differ (b - a)."""
    spec, sides = _sides(metric, query)
    a, b = sides.a, sides.b
    since = min(a.start, b.start) if isinstance(a, Period) and isinstance(b, Period) else None
    files, merges, traits = _inputs(session, workspace_id, root, spec, since=since)
    result = feedback.compare(files, merges, spec, sides, traits)
    headline, *secondary = result.differences
    return {
        "metric": metric.value,
        "min_n": spec.min_n,
        "by": spec.by,
        **asdict(headline),
        "secondary": [asdict(d) for d in secondary],
        "a": _side(sides.a, result.a),
        "b": _side(sides.b, result.b),
    }


def nps_drivers(
    session: Session, workspace_id: uuid.UUID, root: Path, query: MetricFilters
) -> dict[str, Any]:
    """The themes and touchpoints whose responses' NPS differs most from the others'."""
    spec = _spec(Metric.NPS, query, by="touchpoint")
    files, merges, _ = _inputs(session, workspace_id, root, spec)
    found: list[driver_analysis.Driver] = []
    if files:
        sentiments, themes = _labels(session, workspace_id, feedback.responses(files, merges, spec))
        by_touchpoint = feedback.measure(files, merges, spec)
        by_theme = feedback.measure(files, merges, replace(spec, by="theme"), labels=themes)
        by_sentiment = feedback.measure(
            files, merges, replace(spec, by="sentiment"), labels=sentiments
        )
        analysed = [g for g in by_sentiment.groups if g.key != feedback.NONE]
        found = driver_analysis.drivers(
            by_theme.groups,
            sum((driver_analysis.side(g.figure) for g in analysed), _NOBODY),
            by_touchpoint.groups,
            driver_analysis.side(by_touchpoint.overall),
            spec.min_n,
        )
    return {"min_n": spec.min_n, "items": [asdict(d) for d in found]}


_NOBODY = driver_analysis.Side(0, 0, 0)


# -- parameters -----------------------------------------------------------------------------


def _spec(metric: Metric, query: MetricFilters, **fields: Any) -> Spec:
    zone = _zone(query.tz)
    try:
        filters = feedback.Filters(
            survey_ids=query.survey_id,
            since=_aware(query.since, zone),
            until=_aware(query.until, zone),
            touchpoints=query.touchpoint,
            channels=query.channel,
            languages=query.language,
            stages=query.stage,
            complete_only=query.complete_only,
        )
        return Spec(
            metric=metric,
            filters=filters,
            question_id=query.question_id,
            tz=query.tz,
            min_n=query.min_n,
            per_customer=query.per_customer,
            **fields,
        )
    except SpecError as exc:
        raise InvalidParameter(exc.field, exc.reason) from None


def _sides(metric: Metric, query: CompareQuery) -> tuple[Spec, Sides]:
    """The spec and the two sides of a comparison; see :class:`CompareQuery`."""
    zone = _zone(query.tz)
    ends = {
        "a.from": query.a_since,
        "a.to": query.a_until,
        "b.from": query.b_since,
        "b.to": query.b_until,
    }
    given = [name for name, value in ends.items() if value is not None]
    if query.by in feedback.TEXT_FIELDS:
        raise InvalidParameter("by", "sentiment and theme are breakdowns, not compared here")
    if query.by is not None:
        if given:
            raise InvalidParameter(given[0], "compare either two groups of `by` or two periods")
        spec = _spec(metric, query, by=query.by)
        for name, value in (("a", query.a), ("b", query.b)):
            if value is None:
                raise InvalidParameter(name, f"the value of `{query.by}` on side {name} is needed")
        if query.a == query.b:
            raise InvalidParameter("b", "must differ from a")
        return spec, Sides(str(query.a), str(query.b))
    for name in ("a", "b"):
        if getattr(query, name) is not None:
            raise InvalidParameter(name, "needs `by`: the field whose value it is")
    for name in ("from", "to"):
        if getattr(query, "since" if name == "from" else "until") is not None:
            raise InvalidParameter(name, "comparing periods takes a.from, a.to, b.from and b.to")
    periods = _periods({k: _aware(v, zone) for k, v in ends.items()}, given)
    return _spec(metric, query), Sides(*periods)


def _periods(ends: dict[str, datetime | None], given: list[str]) -> tuple[Period, Period]:
    if given and set(given) not in ({"b.from", "b.to"}, set(ends)):
        missing = next(name for name in ends if name not in given)
        raise InvalidParameter(
            missing, "give b.from and b.to, or all of a.from, a.to, b.from, b.to"
        )
    b_end = ends["b.to"] or utcnow()
    b_start = ends["b.from"] or b_end - DEFAULT_WINDOW
    a_end = ends["a.to"] or b_start
    a_start = ends["a.from"] or a_end - (b_end - b_start)
    for name, start, end in (("a.to", a_start, a_end), ("b.to", b_start, b_end)):
        if start >= end:
            raise InvalidParameter(name, f"must be later than {name[0]}.from")
    if a_start < b_end and b_start < a_end:
        raise InvalidParameter("b.from", "the periods overlap; the two samples must be apart")
    return Period(a_start, a_end), Period(b_start, b_end)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(
            "tz", f"no time zone {name!r} (an IANA name like Asia/Bangkok)"
        ) from None


def _aware(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A time given without a zone is read in the query's zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone)


def _side(side: str | Period, figure: feedback.Figure) -> dict[str, Any]:
    if isinstance(side, Period):
        label = f"{side.start.isoformat()}/{side.end.isoformat()}"
        return {"label": label, "from": side.start, "to": side.end, **asdict(figure)}
    return {"label": side, **asdict(figure)}


# -- what the analytics need ----------------------------------------------------------------


def _inputs(
    session: Session,
    workspace_id: uuid.UUID,
    root: Path,
    spec: Spec,
    *,
    since: datetime | None = None,
) -> tuple[list[str], dict[str, str], pa.Table | None]:
    """The current files, the merge map when customers matter, and the traits.

    Files are skipped only before the window: a version after it still outranks an older
    one inside it, so the response then counts at that later time (outside the window).
    """
    since = since or spec.filters.since
    files = current_files(session, workspace_id, root, since=since)
    merges: dict[str, str] = {}
    if spec.per_customer or spec.trait is not None:
        merges = merge_map(session, workspace_id)
    traits = None
    if spec.trait is not None and files:
        ids = feedback.respondents(files, merges, spec)
        traits = _traits(session, workspace_id, ids, spec.trait)
    return files, merges, traits


def _traits(session: Session, workspace_id: uuid.UUID, ids: list[str], name: str) -> pa.Table:
    """``(profile_id, value)`` of the trait ``name`` of these customers, as text."""
    found: dict[str, str] = {}
    wanted = [uuid.UUID(i) for i in ids]
    columns = _PROFILE.c
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(columns.id, columns.traits).where(
                columns.workspace_id == workspace_id,
                among(session, columns.id, wanted[start : start + _CHUNK]),
            )
        )
        for profile_id, traits in rows:
            value = traits.get(name)
            if value is not None and value != "":
                found[str(profile_id)] = _text(value)
    return pa.table(
        {
            "profile_id": pa.array(list(found), pa.string()),
            "value": pa.array(list(found.values()), pa.string()),
        }
    )


def _labels(session: Session, workspace_id: uuid.UUID, ids: list[str]) -> tuple[pa.Table, pa.Table]:
    """``(response_id, value)`` of these responses' free-text answers: their sentiment (of
    the answer read most surely, when there are several), and one row per theme mentioned."""
    sentiment: dict[str, tuple[float, str]] = {}
    themes: dict[str, set[str]] = {}
    columns = _ANALYSIS.c
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(columns.source_id, columns.sentiment, columns.score, columns.themes).where(
                columns.workspace_id == workspace_id,
                columns.source_kind == TextSource.SURVEY_RESPONSE,
                among(session, columns.source_id, ids[start : start + _CHUNK]),
            )
        )
        for source_id, label, score, mentioned in rows:
            if source_id not in sentiment or score > sentiment[source_id][0]:
                sentiment[source_id] = (score, label)
            themes.setdefault(source_id, set()).update(mentioned or ())
    pairs = [(r, t) for r, found in themes.items() for t in sorted(found)]
    return (
        pa.table(
            {
                "response_id": pa.array(list(sentiment), pa.string()),
                "value": pa.array([label for _, label in sentiment.values()], pa.string()),
            }
        ),
        pa.table(
            {
                "response_id": pa.array([r for r, _ in pairs], pa.string()),
                "value": pa.array([t for _, t in pairs], pa.string()),
            }
        ),
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
