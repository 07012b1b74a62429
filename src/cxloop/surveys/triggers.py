"""Survey triggers: when an event happens to a customer (``Order Delivered``), invite them
to a survey after a delay.

The ``surveys.evaluate_triggers`` job (every minute) reads what the loader added to the
event store since the last scan, without any hook in ingestion:

- The manifest is the watermark: each workspace's cursor keeps the newest
  ``event_file.created_at`` scanned, and a scan reads the current files created after it
  less a five-minute overlap (a file's row is stamped before its transaction commits, so a
  slow commit could otherwise be skipped). Files written by compaction are read again too.
- Reading an event twice does no harm: the invitation's unique key is the trigger, the
  customer and the triggering message, so each fires exactly once.
- Only events received after the trigger was made, and that happened within
  ``CXLOOP_TRIGGER_MAX_EVENT_AGE_HOURS``, fire: a trigger does not invite for history, and
  an import of old events does not flood customers.
- The invitation is due at the event's time plus the delay; the fatigue rules are checked
  when it is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.time import utcnow
from cxloop.eventstore import service as eventstore
from cxloop.models import (
    EventFile,
    Survey,
    SurveyStatus,
    SurveyTrigger,
    TriggerCursor,
)
from cxloop.profiles import errors as profile_errors
from cxloop.profiles import service as profiles
from cxloop.surveys import errors as survey_errors
from cxloop.surveys.distribution import audience, customers, errors, invitations, schemas
from cxloop.surveys.service import get_survey

SCAN_OVERLAP = timedelta(minutes=5)


def create_trigger(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, body: schemas.TriggerCreate
) -> SurveyTrigger:
    """Start inviting the customers an event happens to (from now on, not for history)."""
    survey = get_survey(session, workspace_id, survey_id)
    problems = audience.check_filters(body.where)
    if problems:
        raise survey_errors.Problems(problems)
    now = utcnow()
    trigger = SurveyTrigger(
        workspace_id=workspace_id,
        survey_id=survey.id,
        event=body.event,
        where=body.where,
        delay_minutes=body.delay_minutes,
        channel=body.channel,
        touchpoint=body.touchpoint,
        is_active=body.is_active,
        created_at=now,
        updated_at=now,
    )
    session.add(trigger)
    if session.get(TriggerCursor, workspace_id) is None:
        session.add(TriggerCursor(workspace_id=workspace_id, scanned_until=now, updated_at=now))
    session.flush()
    return trigger


def list_triggers(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID
) -> Sequence[SurveyTrigger]:
    survey = get_survey(session, workspace_id, survey_id)
    return session.scalars(
        select(SurveyTrigger)
        .where(SurveyTrigger.workspace_id == workspace_id, SurveyTrigger.survey_id == survey.id)
        .order_by(SurveyTrigger.created_at)
    ).all()


def delete_trigger(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID, trigger_id: uuid.UUID
) -> None:
    """Stop a trigger; invitations it already made stay (and are still sent)."""
    trigger = session.scalar(
        select(SurveyTrigger).where(
            SurveyTrigger.id == trigger_id,
            SurveyTrigger.survey_id == survey_id,
            SurveyTrigger.workspace_id == workspace_id,
        )
    )
    if trigger is None:
        raise errors.TriggerNotFound("no such trigger of this survey in this workspace")
    session.delete(trigger)
    session.flush()


def evaluate(session: Session, settings: Settings) -> int:
    """Scan every workspace with active triggers; returns how many invitations were made."""
    workspaces = session.scalars(
        select(SurveyTrigger.workspace_id).where(SurveyTrigger.is_active.is_(True)).distinct()
    ).all()
    return sum(evaluate_workspace(session, ws, settings) for ws in workspaces)


def evaluate_workspace(session: Session, workspace_id: uuid.UUID, settings: Settings) -> int:
    """Fire the workspace's triggers for events loaded since its last scan."""
    now = utcnow()
    cursor = session.scalar(
        select(TriggerCursor).where(TriggerCursor.workspace_id == workspace_id).with_for_update()
    )
    if cursor is None:
        cursor = TriggerCursor(workspace_id=workspace_id, scanned_until=now, updated_at=now)
        session.add(cursor)
        session.flush()
    triggers = _active(session, workspace_id)
    files = session.execute(
        select(EventFile.path, EventFile.created_at).where(
            EventFile.workspace_id == workspace_id,
            EventFile.replaced_at.is_(None),
            EventFile.created_at > cursor.scanned_until - SCAN_OVERLAP,
        )
    ).all()
    if not triggers or not files:
        return 0
    root = eventstore.events_root(settings)
    oldest = max(
        now - timedelta(hours=settings.trigger_max_event_age_hours),
        min(t.created_at for t, _ in triggers) - SCAN_OVERLAP,
    )
    rows = audience.find_events(
        session,
        workspace_id,
        settings,
        names=sorted({t.event for t, _ in triggers}),
        since=oldest,
        until=now + timedelta(days=1),
        files=[str(root / path) for path, _ in files],
    )
    fired = 0
    for row in rows:
        for trigger, survey in triggers:
            if _fires(trigger, row):
                fired += _fire(session, trigger, survey, row, now, settings)
    cursor.scanned_until = max(cursor.scanned_until, *(created for _, created in files))
    cursor.updated_at = now
    session.flush()
    return fired


def _active(session: Session, workspace_id: uuid.UUID) -> list[tuple[SurveyTrigger, Survey]]:
    rows = session.execute(
        select(SurveyTrigger, Survey)
        .join(Survey, Survey.id == SurveyTrigger.survey_id)
        .where(
            SurveyTrigger.workspace_id == workspace_id,
            SurveyTrigger.is_active.is_(True),
            Survey.workspace_id == workspace_id,
            Survey.status == SurveyStatus.ACTIVE,
        )
    ).all()
    return [(trigger, survey) for trigger, survey in rows]


def _fires(trigger: SurveyTrigger, row: dict[str, Any]) -> bool:
    return (
        row["event"] == trigger.event
        and row["received_at"] >= trigger.created_at
        and audience.matches(trigger.where, row["properties"])
    )


def _fire(
    session: Session,
    trigger: SurveyTrigger,
    survey: Survey,
    row: dict[str, Any],
    now: datetime,
    settings: Settings,
) -> int:
    """Invite the event's customer once per (trigger, customer, message); 1 when new."""
    key = invitations.trigger_key(trigger.id, row["customer_id"], row["message_id"])
    if invitations.find_by_key(session, trigger.workspace_id, key) is not None:
        return 0
    try:
        profile = profiles.get_profile(session, trigger.workspace_id, uuid.UUID(row["customer_id"]))
    except (profile_errors.CustomerNotFound, ValueError):
        return 0
    happened: datetime = min(row["timestamp"], row["received_at"])
    invitations.invite(
        session,
        survey,
        customers.of_profile(session, trigger.workspace_id, profile),
        send_at=max(now, happened + timedelta(minutes=trigger.delay_minutes)),
        settings=settings,
        touchpoint=trigger.touchpoint,
        source="trigger",
        trigger_id=trigger.id,
        dedupe_key=key,
    )
    return 1
