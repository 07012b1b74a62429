"""Touchpoint scorecards, the weakest-touchpoint ranking and paths of a workspace.

The figures come from :mod:`cxloop.analytics.touchpoints` and :mod:`cxloop.analytics.paths`
over the workspace's current event files, merged customers mapped to the profile they
became. A journey map gives the touchpoints (what meets each, which responses are
attributed to it) and the stages (whose entry rules measure conversion); without one, the
touchpoints are the values of the survey responses' ``touchpoint`` field and paths run
between event names.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.analytics import paths as path_analysis
from cxloop.analytics import touchpoints as analysis
from cxloop.analytics.feedback import EVENT, Figure, Metric
from cxloop.analytics.portable import DuckDBEngine, Matcher, SpecError, day_range, day_start
from cxloop.core.errors import NotFound
from cxloop.core.time import utcnow
from cxloop.journeys import errors
from cxloop.journeys.documents import StageDoc, TouchpointDoc, parse_stages
from cxloop.journeys.schemas import EventMatcher
from cxloop.journeys.service import Reader, to_matcher
from cxloop.journeys.touchpoint_reasons import detail, order, text
from cxloop.journeys.touchpoint_schemas import PathQuery, RankingQuery, ScorecardQuery
from cxloop.models import Journey

DEFAULT_DAYS = 30


class TouchpointNotFound(NotFound):
    code = "touchpoint_not_found"


class Map:
    """A journey's stages and touchpoints as the analytics read them, or none."""

    def __init__(self, journey: Journey | None) -> None:
        self.journey = journey
        self.stages: list[StageDoc] = []
        if journey is not None:
            try:
                self.stages = parse_stages(journey.stages)
            except ValidationError as exc:
                raise errors.InvalidQuery(
                    "journey_id", f"the journey's stages cannot be read: {exc.errors()[0]['msg']}"
                ) from None
        self.docs: dict[str, tuple[int, StageDoc, TouchpointDoc]] = {
            tp.key: (i, stage, tp)
            for i, stage in enumerate(self.stages)
            for tp in stage.touchpoints
        }

    @property
    def journey_id(self) -> uuid.UUID | None:
        return self.journey.id if self.journey is not None else None

    def touchpoints(self) -> list[analysis.Touchpoint] | None:
        if self.journey is None:
            return None
        return [
            analysis.Touchpoint(
                key=tp.key,
                stage=i,
                matchers=[
                    _checked(m, f"stages.{i}.touchpoints.{tp.key}.matchers.{j}")
                    for j, m in enumerate(tp.matchers)
                ],
                survey_ids=[str(s) for s in tp.survey_ids],
            )
            for i, stage in enumerate(self.stages)
            for tp in stage.touchpoints
        ]

    def entries(self) -> list[list[analysis.Entry]]:
        return [
            [
                analysis.Entry(
                    _checked(rule, f"stages.{i}.entry.{j}"), int(getattr(rule, "count", 1))
                )
                for j, rule in enumerate(stage.entry)
            ]
            for i, stage in enumerate(self.stages)
        ]

    def nodes(self) -> list[path_analysis.Node] | None:
        """Each touchpoint as a path node: its matchers or its attributed responses."""
        tps = self.touchpoints()
        if tps is None:
            return None
        return [path_analysis.Node(tp.key, _meets(tp)) for tp in tps]


def _checked(model: EventMatcher, path: str) -> Matcher:
    matcher = to_matcher(model)
    try:
        matcher.check(path)
    except SpecError as exc:
        raise errors.InvalidQuery(
            "journey_id", f"the journey's {exc.field}: {exc.reason}"
        ) from None
    return matcher


def _meets(tp: analysis.Touchpoint) -> str:
    """SQL: the event meets the touchpoint (a matcher, or a response attributed to it)."""
    matchers = [Matcher(EVENT, where={"touchpoint": tp.key})]
    if tp.survey_ids:
        matchers.append(Matcher(EVENT, where={"survey_id": list(tp.survey_ids)}))
    return "(" + " OR ".join(m.sql() for m in [*tp.matchers, *matchers]) + ")"


def load_map(session: Session, workspace_id: uuid.UUID, journey_id: uuid.UUID | None) -> Map:
    """The journey of this workspace, or no journey; another workspace's is not found."""
    if journey_id is None:
        return Map(None)
    journey = session.scalars(
        select(Journey).where(Journey.id == journey_id, Journey.workspace_id == workspace_id)
    ).one_or_none()
    if journey is None:
        raise errors.JourneyNotFound(f"no journey {journey_id} in this workspace")
    return Map(journey)


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    try:
        return day_range(start, end, DEFAULT_DAYS, utcnow().date())
    except SpecError as exc:
        raise errors.InvalidQuery(exc.field, exc.reason) from exc


def journey_with(session: Session, workspace_id: uuid.UUID, key: str) -> Map:
    """The workspace's oldest journey that has the touchpoint ``key``, else no journey."""
    found = session.scalars(
        select(Journey)
        .where(Journey.workspace_id == workspace_id)
        .order_by(Journey.created_at, Journey.id)
    )
    for journey in found:
        try:
            candidate = Map(journey)
        except errors.InvalidQuery:
            continue  # a journey that cannot be read has no touchpoint to offer
        if key in candidate.docs:
            return candidate
    return Map(None)


def _spec(
    reader: Reader, query: ScorecardQuery, journey: Map | None = None
) -> tuple[Map, analysis.ScorecardSpec]:
    start, end = _range(query.from_, query.to)
    if journey is None:
        journey = load_map(reader.session, reader.workspace_id, query.journey_id)
    spec = analysis.ScorecardSpec(
        start=start,
        end=end,
        touchpoints=journey.touchpoints(),
        stages=journey.entries(),
        window=timedelta(days=query.window_days),
        min_n=query.min_responses,
    )
    try:
        spec.check()
    except SpecError as exc:
        raise errors.InvalidQuery(exc.field, exc.reason) from None
    return journey, spec


def _engine(reader: Reader, spec: analysis.ScorecardSpec) -> DuckDBEngine:
    # entering the next stage is read over the whole history ("first ever")
    since = None if spec.next_stages() else day_start(spec.start)
    return reader.engine(since, day_start(spec.end + timedelta(days=1)) + spec.window)


# -- scorecards -----------------------------------------------------------------------------


def scorecards(reader: Reader, query: ScorecardQuery) -> dict[str, Any]:
    """Every touchpoint's scorecard in journey order (by key without a journey)."""
    journey, spec = _spec(reader, query)
    result = analysis.run(_engine(reader, spec), spec)
    return {
        **_head(journey, spec),
        "window_days": query.window_days,
        "min_responses": spec.min_n,
        "journey": {"responses": result.responses, **_figures(result.journey)},
        "items": [_card(journey, c, query) for c in result.items],
    }


def measured(reader: Reader, query: ScorecardQuery) -> analysis.Scorecards:
    """What :func:`ranking` reads from the event store: the same for every metric and
    language, so a caller may keep it and rank it again."""
    _, spec = _spec(reader, query)
    return analysis.run(_engine(reader, spec), spec)


def ranking(
    reader: Reader, query: RankingQuery, read: analysis.Scorecards | None = None
) -> dict[str, Any]:
    """Touchpoints weakest first by ``metric``; those under the minimum sample after them.
    ``read``: what :func:`measured` gave for the same query, if it is at hand."""
    journey, spec = _spec(reader, query)
    metric = Metric(query.metric)
    if read is None:
        read = analysis.run(_engine(reader, spec), spec)
    result = analysis.rank(read, metric, spec.min_n)
    items = []
    for item in result.items:
        card = _card(journey, item.card, query)
        reason = {
            "code": item.code,
            "detail": detail(item, metric, result.ranked, spec.min_n, query.lang),
            "vs_journey": _plain(item.vs_journey),
            "vs_next": _plain(item.vs_next),
        }
        items.append(
            {
                "rank": item.rank,
                "key": item.card.key,
                "name": card["name"],
                "value": item.value,
                "ci_low": item.ci_low,
                "ci_high": item.ci_high,
                "n": item.n,
                "reason": reason,
                "scorecard": card,
            }
        )
    return {
        **_head(journey, spec),
        "metric": metric.value,
        "min_responses": spec.min_n,
        "ranked": result.ranked,
        "order": order(metric, spec.min_n, query.lang),
        "journey": asdict(result.journey),
        "items": items,
    }


def touchpoint(reader: Reader, key: str, query: ScorecardQuery) -> dict[str, Any]:
    """One touchpoint's scorecard and its weekly volume, reach and scores. Without a
    journey id, the touchpoint is looked for in the workspace's journeys first."""
    journey = None
    if query.journey_id is None:
        journey = journey_with(reader.session, reader.workspace_id, key)
    journey, spec = _spec(reader, query, journey)
    if journey.journey is not None and key not in journey.docs:
        raise TouchpointNotFound(f"the journey has no touchpoint {key!r}")
    only = replace(spec, only=key)
    engine = _engine(reader, only)
    cards = analysis.run(engine, only).items
    if not cards:
        raise TouchpointNotFound(f"no response names the touchpoint {key!r} in this range")
    trend = [
        {
            "week": week.start,
            "volume": week.volume,
            "reach": week.reach,
            "responses": week.responses,
            **_figures(week.figures),
        }
        for week in analysis.weekly(engine, only, key)
    ]
    return {**_head(journey, spec), "scorecard": _card(journey, cards[0], query), "trend": trend}


def _head(journey: Map, spec: analysis.ScorecardSpec) -> dict[str, Any]:
    return {"journey_id": journey.journey_id, "from": spec.start, "to": spec.end}


def _figures(figures: dict[Metric, Figure]) -> dict[str, Any]:
    return {metric.value: asdict(figure) for metric, figure in figures.items()}


def _plain(value: Any) -> dict[str, Any] | None:
    return None if value is None else asdict(value)


def _card(journey: Map, card: analysis.Scorecard, query: ScorecardQuery) -> dict[str, Any]:
    found = journey.docs.get(card.key)
    body: dict[str, Any] = {
        "key": card.key,
        "name": card.key,
        "names": None,
        "stage": None,
        "stage_name": None,
        "channel": None,
        "volume": card.volume,
        "reach": card.reach,
        "responses": card.responses,
        "respondents": card.respondents,
        "small_sample": card.small_sample,
        **_figures(card.figures),
        "conversion": None,
    }
    if found is not None:
        _, stage, tp = found
        nxt = card.conversion.next_stage
        body |= {
            "name": tp.name.get(query.lang),
            "names": tp.name.model_dump(),
            "stage": stage.key,
            "stage_name": stage.name.get(query.lang),
            "channel": tp.channel,
            "conversion": {
                "next_stage": journey.stages[nxt].key if nxt is not None else None,
                "customers": card.conversion.customers,
                "rate": card.conversion.rate,
                "window_days": query.window_days,
            },
        }
    return body


# -- paths ----------------------------------------------------------------------------------


def paths(reader: Reader, query: PathQuery) -> dict[str, Any]:
    """The most common next (or previous) touchpoints or events after an anchor, per step,
    with the Sankey of the same counts."""
    start, end = _range(query.from_, query.to)
    journey = load_map(reader.session, reader.workspace_id, query.journey_id)
    anchor: str | Matcher = (
        query.anchor if isinstance(query.anchor, str) else to_matcher(query.anchor)
    )
    spec = path_analysis.PathSpec(
        anchor=anchor,
        start=start,
        end=end,
        nodes=journey.nodes(),
        direction=path_analysis.Direction(query.direction),
        steps=query.steps,
        top=query.top,
    )
    try:
        spec.check()
    except SpecError as exc:
        raise errors.InvalidQuery(exc.field, exc.reason) from None
    engine = reader.engine(day_start(start), day_start(end + timedelta(days=1)))
    result = path_analysis.run(engine, spec)

    def label(key: str) -> str:
        if key == path_analysis.OTHER:
            return text("other", query.lang)
        found = journey.docs.get(key)
        return found[2].name.get(query.lang) if found is not None else key

    steps = [
        {
            "step": step.step,
            "customers": step.customers,
            "share": step.share,
            "items": [{**asdict(item), "label": label(item.key)} for item in step.items],
            "other_keys": step.other_keys,
        }
        for step in result.steps
    ]
    return {
        "journey_id": journey.journey_id,
        "from": start,
        "to": end,
        "anchor": result.anchor,
        "direction": result.direction.value,
        "customers": result.customers,
        "steps": steps,
        "sankey": {
            "nodes": [{**asdict(n), "label": label(n.key)} for n in result.nodes],
            "links": [asdict(link) for link in result.links],
        },
    }
