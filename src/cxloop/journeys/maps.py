"""Journey maps of a workspace, and where its customers are on them.

A map is kept whole in the ``journey`` row (its stages and milestones as documents, see
:mod:`cxloop.journeys.documents`). Stages and milestones of customers are read from the event
files at query time by :mod:`cxloop.analytics.stages` (placement rule in its docstring), with
merged customers counted once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.accounts import service as accounts
from cxloop.analytics import stages as placement
from cxloop.analytics.portable import SpecError, day_range, day_start
from cxloop.core.actors import Actor
from cxloop.core.time import utcnow
from cxloop.journeys import errors, templates
from cxloop.journeys.documents import (
    JourneyDoc,
    MilestoneDoc,
    StageDoc,
    as_matcher,
    parse_milestones,
    parse_stages,
)
from cxloop.journeys.map_schemas import JourneyCreate
from cxloop.journeys.service import Reader
from cxloop.models import Journey, Survey
from cxloop.profiles import service as profiles

DEFAULT_DAYS = {"day": 30, "week": 12 * 7, "month": 365}


# -- maps -----------------------------------------------------------------------------------


def get_journey(session: Session, workspace_id: uuid.UUID, journey_id: uuid.UUID) -> Journey:
    journey = session.scalar(
        select(Journey).where(Journey.id == journey_id, Journey.workspace_id == workspace_id)
    )
    if journey is None:
        raise errors.JourneyNotFound("no such journey in this workspace")
    return journey


def default_journey(session: Session, workspace_id: uuid.UUID) -> Journey:
    """The workspace's first journey: the one a customer's journey is read on by default."""
    journey = session.scalar(
        select(Journey).where(Journey.workspace_id == workspace_id).order_by(Journey.id).limit(1)
    )
    if journey is None:
        raise errors.JourneyNotFound(
            "this workspace has no journey map yet; create one with POST /api/v1/journeys"
        )
    return journey


def list_journeys(
    session: Session, workspace_id: uuid.UUID, *, limit: int = 50, after: uuid.UUID | None = None
) -> Sequence[Journey]:
    """Oldest first (ids are time-ordered); ``after`` is the last id of the previous page."""
    query = select(Journey).where(Journey.workspace_id == workspace_id)
    if after is not None:
        query = query.where(Journey.id > after)
    return session.scalars(query.order_by(Journey.id).limit(limit)).all()


def create_journey(
    session: Session, workspace_id: uuid.UUID, body: JourneyCreate, actor: Actor
) -> Journey:
    """Create a map from a document, or from a template under the name given."""
    doc = body
    if body.template is not None:
        language = accounts.get_workspace(session, workspace_id).default_language
        base = templates.template(body.template, language)
        doc = JourneyCreate(
            name=body.name,
            description=body.description or base.description,
            stages=base.stages,
            milestones=base.milestones,
        )
    _check_surveys(session, workspace_id, doc)
    _check_name(session, workspace_id, doc.name)
    now = utcnow()
    journey = Journey(workspace_id=workspace_id, created_at=now, updated_at=now)
    _fill(journey, doc)
    _flush_unique(session, journey)
    _audit(session, actor, "journey.created", journey, {"template": body.template})
    return journey


def update_journey(
    session: Session, workspace_id: uuid.UUID, journey_id: uuid.UUID, doc: JourneyDoc, actor: Actor
) -> Journey:
    """Replace a map's name, description, stages and milestones."""
    journey = get_journey(session, workspace_id, journey_id)
    _check_surveys(session, workspace_id, doc)
    _check_name(session, workspace_id, doc.name, journey.id)
    _fill(journey, doc)
    journey.updated_at = utcnow()
    _flush_unique(session, journey)
    _audit(session, actor, "journey.updated", journey, {})
    return journey


def delete_journey(
    session: Session, workspace_id: uuid.UUID, journey_id: uuid.UUID, actor: Actor
) -> None:
    journey = get_journey(session, workspace_id, journey_id)
    _audit(session, actor, "journey.deleted", journey, {})
    session.delete(journey)
    session.flush()


def read_journey(journey: Journey) -> dict[str, Any]:
    """A row as the API shows it, its documents parsed."""
    return {
        "id": journey.id,
        "name": journey.name,
        "description": journey.description,
        "stages": parse_stages(journey.stages),
        "milestones": parse_milestones(journey.milestones),
        "created_at": journey.created_at,
        "updated_at": journey.updated_at,
    }


def _fill(journey: Journey, doc: JourneyDoc) -> None:
    journey.name = doc.name.strip()
    journey.description = doc.description
    journey.stages = [s.model_dump(mode="json", exclude_defaults=True) for s in doc.stages]
    journey.milestones = [m.model_dump(mode="json", exclude_defaults=True) for m in doc.milestones]


def _check_name(
    session: Session, workspace_id: uuid.UUID, name: str, own: uuid.UUID | None = None
) -> None:
    if not name.strip():
        raise errors.InvalidJourney([(("body", "name"), "must not be blank")])
    query = select(Journey.id).where(
        Journey.workspace_id == workspace_id, Journey.name == name.strip()
    )
    if own is not None:
        query = query.where(Journey.id != own)
    if session.scalar(query) is not None:
        raise errors.JourneyExists(f"a journey named {name.strip()!r} exists in this workspace")


def _flush_unique(session: Session, journey: Journey) -> None:
    try:
        with session.begin_nested():
            session.add(journey)
    except IntegrityError as exc:  # a journey of the same name raced this one in
        raise errors.JourneyExists(
            f"a journey named {journey.name!r} exists in this workspace"
        ) from exc


def _check_surveys(session: Session, workspace_id: uuid.UUID, doc: JourneyDoc) -> None:
    """Every survey a touchpoint names is one of the workspace's."""
    wanted = {sid for stage in doc.stages for tp in stage.touchpoints for sid in tp.survey_ids}
    if not wanted:
        return
    known = set(
        session.scalars(
            select(Survey.id).where(Survey.workspace_id == workspace_id, Survey.id.in_(wanted))
        )
    )
    problems = [
        (
            ("body", "stages", i, "touchpoints", j, "survey_ids", k),
            "no such survey in this workspace",
        )
        for i, stage in enumerate(doc.stages)
        for j, tp in enumerate(stage.touchpoints)
        for k, sid in enumerate(tp.survey_ids)
        if sid not in known
    ]
    if problems:
        raise errors.InvalidJourney(problems)


def _audit(
    session: Session, actor: Actor, action: str, journey: Journey, details: dict[str, Any]
) -> None:
    accounts.record_audit(
        session,
        actor,
        action,
        workspace_id=journey.workspace_id,
        target_type="journey",
        target_id=str(journey.id),
        details={"name": journey.name, **details},
    )


# -- where customers are --------------------------------------------------------------------


def _targets_of_stages(stages: Sequence[StageDoc]) -> list[placement.Target]:
    return [
        placement.Target(s.key, [placement.Rule(as_matcher(m), m.count) for m in s.entry])
        for s in stages
    ]


def _targets_of_milestones(milestones: Sequence[MilestoneDoc]) -> list[placement.Target]:
    return [
        placement.Target(m.key, [placement.Rule(as_matcher(m.matcher), m.count)])
        for m in milestones
    ]


def _range(start: date | None, end: date | None, interval: str) -> placement.Range:
    try:
        start, end = day_range(start, end, DEFAULT_DAYS[interval], utcnow().date())
        result = placement.Range(start, end, placement.Interval(interval))
        result.check()
    except SpecError as exc:
        raise errors.InvalidQuery(exc.field, exc.reason) from exc
    return result


def _stage_ref(index: int, stage: StageDoc) -> dict[str, Any]:
    return {"index": index, "key": stage.key, "name": stage.name}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def stage_distribution(
    reader: Reader,
    journey: Journey,
    start: date | None,
    end: date | None,
    interval: str,
) -> dict[str, Any]:
    """Customers per current stage at the end of each day, week or month, and now."""
    stages = parse_stages(journey.stages)
    spec = placement.DistributionSpec(
        _targets_of_stages(stages), _range(start, end, interval), utcnow()
    )
    result = placement.distribution(reader.engine(None, spec.until), spec)

    def figures(snapshot: placement.Snapshot, entered: bool) -> list[dict[str, Any]]:
        return [
            {
                **_stage_ref(c.stage, stages[c.stage]),
                "customers": c.customers,
                "share": _share(c.customers, snapshot.customers),
                **({"entered": c.entered} if entered else {}),
            }
            for c in snapshot.stages
        ]

    return {
        "journey_id": journey.id,
        "from": spec.range.start,
        "to": spec.range.end,
        "interval": interval,
        "current": {
            "at": spec.now,
            "customers": result.current.customers,
            "stages": figures(result.current, entered=False),
        },
        "series": [
            {
                "start": s.start,
                "end": s.end,
                "customers": s.customers,
                "stages": figures(s, entered=True),
            }
            for s in result.series
        ],
    }


def milestone_figures(
    reader: Reader,
    journey: Journey,
    start: date | None,
    end: date | None,
    interval: str,
) -> dict[str, Any]:
    """Customers reaching each milestone per day, week or month, and before the range."""
    milestones = parse_milestones(journey.milestones)
    spec = placement.MilestoneSpec(_targets_of_milestones(milestones), _range(start, end, interval))
    until = day_start(spec.range.edges[-1])
    rows = placement.milestones(reader.engine(None, until), spec) if milestones else []
    return {
        "journey_id": journey.id,
        "from": spec.range.start,
        "to": spec.range.end,
        "interval": interval,
        "milestones": [
            {
                "key": m.key,
                "name": m.name,
                "count": m.count,
                "reached_before": f.reached_before,
                "reached": f.reached,
                "total": f.total,
                "series": [
                    {"start": c.start, "end": c.end, "reached": c.reached} for c in f.series
                ],
            }
            for m, f in zip(milestones, rows, strict=True)
        ],
    }


def customer_journey(
    reader: Reader, customer_id: uuid.UUID, journey_id: uuid.UUID | None
) -> dict[str, Any]:
    """One customer's current stage, the stages they entered and the milestones reached."""
    session, workspace_id = reader.session, reader.workspace_id
    profile = profiles.get_profile(session, workspace_id, customer_id)
    journey = (
        get_journey(session, workspace_id, journey_id)
        if journey_id is not None
        else default_journey(session, workspace_id)
    )
    stages, milestones = parse_stages(journey.stages), parse_milestones(journey.milestones)
    now = utcnow()
    found = placement.customer_journey(
        reader.engine(None, now),
        _targets_of_stages(stages),
        _targets_of_milestones(milestones),
        str(profile.id),
        now,
    )
    history = [
        {
            **_stage_ref(h.target, stages[h.target]),
            "entered_at": _moment(h.ts),
            "event": _event(h),
        }
        for h in found.entries
    ]
    current = max(history, key=lambda h: int(h["index"]), default=None)
    return {
        "customer_id": profile.id,
        "journey": {"id": journey.id, "name": journey.name},
        "current_stage": current,
        "history": history,
        "milestones": [
            {
                "key": milestones[h.target].key,
                "name": milestones[h.target].name,
                "reached_at": _moment(h.ts),
                "event": _event(h),
            }
            for h in found.milestones
        ],
    }


def _moment(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def _event(hit: placement.Hit) -> dict[str, Any]:
    return {
        "message_id": hit.message_id,
        "type": hit.type,
        "name": hit.name,
        "channel": hit.channel,
    }
