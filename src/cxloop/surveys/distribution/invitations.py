"""Invitations: who is invited, with which personal link, and the job that sends each.

An invitation row, its link and its send job are written in the caller's transaction (an
outbox): a request that fails invites nobody, and one that commits is sent by the worker
even after a restart. Sending is :mod:`.delivery`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.ids import uuid7
from cxloop.core.time import utcnow
from cxloop.jobs import enqueue
from cxloop.models import (
    InvitationStatus,
    Survey,
    SurveyDistribution,
    SurveyInvitation,
    SurveyLink,
    SurveyStatus,
)
from cxloop.profiles import errors as profile_errors
from cxloop.profiles import service as profiles
from cxloop.surveys.distribution import audience, customers, errors, schemas, suppressions
from cxloop.surveys.distribution.customers import Recipient
from cxloop.surveys.links import issue_link
from cxloop.surveys.service import get_survey
from cxloop.surveys.service.surveys import to_utc

SEND_JOB = "surveys.send_invitation"


@dataclass
class Batch:
    items: list[SurveyInvitation] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return sum(i.status == InvitationStatus.QUEUED for i in self.items)

    @property
    def skipped(self) -> int:
        return len(self.items) - self.queued


def create_invitations(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    body: schemas.InvitationCreate,
    settings: Settings,
) -> Batch:
    """Invite customers given one by one and/or by an event they did; each address once.

    Customers without an email address or on the suppression list are recorded as skipped
    with the reason, so the caller sees what happened to everyone it named.
    """
    survey = get_survey(session, workspace_id, survey_id)
    ensure_sendable(survey)
    now = utcnow()
    send_at = max(to_utc(body.send_at) or now, now)
    batch = Batch()
    seen: set[str] = set()
    for recipient in _recipients(session, workspace_id, body, settings):
        if recipient.email is not None:
            if recipient.email in seen:
                continue
            seen.add(recipient.email)
        batch.items.append(
            invite(
                session,
                survey,
                recipient,
                send_at=send_at,
                touchpoint=body.touchpoint,
                expires_at=to_utc(body.expires_at),
                settings=settings,
            )
        )
    return batch


def ensure_sendable(survey: Survey) -> None:
    if survey.status != SurveyStatus.ACTIVE:
        raise errors.SurveyNotSendable(
            f"this survey is {survey.status.value}; invitations go out only while it is active"
        )


def invite(
    session: Session,
    survey: Survey,
    recipient: Recipient,
    *,
    send_at: datetime,
    settings: Settings,
    touchpoint: str | None = None,
    expires_at: datetime | None = None,
    source: str = "api",
    trigger_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
) -> SurveyInvitation:
    """Record one invitation with its personal link and its send job (or as skipped).

    With ``dedupe_key``, an invitation already recorded under it is returned instead.
    """
    if dedupe_key is not None:
        existing = find_by_key(session, survey.workspace_id, dedupe_key)
        if existing is not None:
            return existing
        try:
            with session.begin_nested():
                return _invite(
                    session, survey, recipient, send_at, settings, touchpoint, expires_at,
                    source, trigger_id, dedupe_key,
                )  # fmt: skip
        except IntegrityError:
            raced = find_by_key(session, survey.workspace_id, dedupe_key)
            if raced is None:
                raise
            return raced
    return _invite(
        session, survey, recipient, send_at, settings, touchpoint, expires_at,
        source, trigger_id, None,
    )  # fmt: skip


def _invite(
    session: Session,
    survey: Survey,
    recipient: Recipient,
    send_at: datetime,
    settings: Settings,
    touchpoint: str | None,
    expires_at: datetime | None,
    source: str,
    trigger_id: uuid.UUID | None,
    dedupe_key: str | None,
) -> SurveyInvitation:
    now = utcnow()
    invitation = SurveyInvitation(
        id=uuid7(),
        workspace_id=survey.workspace_id,
        survey_id=survey.id,
        profile_id=recipient.profile_id,
        customer=recipient.ids,
        email=recipient.email,
        name=recipient.name,
        language=recipient.language or survey.default_language,
        channel="email",
        touchpoint=touchpoint or survey.touchpoint,
        source=source,
        trigger_id=trigger_id,
        dedupe_key=dedupe_key,
        status=InvitationStatus.QUEUED,
        send_at=send_at,
        created_at=now,
        updated_at=now,
    )
    session.add(invitation)
    reason = _refusal(session, survey.workspace_id, recipient)
    if reason is not None:
        invitation.status, invitation.skip_reason = InvitationStatus.SKIPPED, reason
        session.flush()
        return invitation
    link = issue_link(
        session,
        survey.workspace_id,
        survey.id,
        customer={**recipient.ids, "email": invitation.email or ""},
        channel="email",
        language=invitation.language,
        touchpoint=invitation.touchpoint,
        expires_at=expires_at,
        settings=settings,
    )
    invitation.link_id = link.link_id
    session.flush()
    enqueue(
        session,
        SEND_JOB,
        {"invitation_id": str(invitation.id), "number": 0},
        workspace_id=survey.workspace_id,
        run_at=send_at,
        dedupe_key=f"{SEND_JOB}:{invitation.id}:0",
    )
    return invitation


def _refusal(session: Session, workspace_id: uuid.UUID, recipient: Recipient) -> str | None:
    if recipient.problems:
        return "invalid_customer"
    if recipient.email is None:
        return "no_email"
    if suppressions.is_suppressed(
        session, workspace_id, email=recipient.email, phone=recipient.phone
    ):
        return "unsubscribed"
    return None


def find_by_key(session: Session, workspace_id: uuid.UUID, key: str) -> SurveyInvitation | None:
    return session.scalar(
        select(SurveyInvitation).where(
            SurveyInvitation.workspace_id == workspace_id, SurveyInvitation.dedupe_key == key
        )
    )


def trigger_key(trigger_id: uuid.UUID, customer_id: str, message_id: str) -> str:
    """The key that invites a customer once per trigger and triggering message."""
    digest = hashlib.sha256(f"{trigger_id}:{customer_id}:{message_id}".encode()).hexdigest()
    return f"trigger:{digest}"


def _recipients(
    session: Session,
    workspace_id: uuid.UUID,
    body: schemas.InvitationCreate,
    settings: Settings,
) -> list[Recipient]:
    found = [
        customers.resolve(
            session,
            workspace_id,
            given.identifiers(),
            profile_id=given.profile_id,
            language=given.language,
            name=given.name,
        )
        for given in body.customers
    ]
    if body.did_event is not None:
        found.extend(_did_event(session, workspace_id, body.did_event, settings))
    return found


def _did_event(
    session: Session,
    workspace_id: uuid.UUID,
    spec: schemas.EventAudience,
    settings: Settings,
) -> list[Recipient]:
    rows = audience.find_events(
        session,
        workspace_id,
        settings,
        names=[spec.event],
        since=to_utc(spec.since) or spec.since,
        until=to_utc(spec.until) or spec.until,
    )
    ids: list[str] = []
    for row in rows:
        if audience.matches(spec.where, row["properties"]) and row["customer_id"] not in ids:
            ids.append(row["customer_id"])
    found = []
    for customer_id in ids[: spec.limit]:
        try:
            profile = profiles.get_profile(session, workspace_id, uuid.UUID(customer_id))
        except (profile_errors.CustomerNotFound, ValueError):
            continue
        found.append(customers.of_profile(session, workspace_id, profile))
    return found


# -- reading --------------------------------------------------------------------------------


def list_invitations(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    *,
    status: InvitationStatus | None = None,
    limit: int = 50,
    before: uuid.UUID | None = None,
) -> list[schemas.InvitationRead]:
    """Newest first. A sent invitation whose link was answered reads as ``answered`` even
    before its next reminder notices."""
    survey = get_survey(session, workspace_id, survey_id)
    query = select(SurveyInvitation).where(
        SurveyInvitation.survey_id == survey.id, SurveyInvitation.workspace_id == workspace_id
    )
    if status is not None:
        query = query.where(SurveyInvitation.status == status)
    if before is not None:
        query = query.where(SurveyInvitation.id < before)
    rows = session.scalars(query.order_by(SurveyInvitation.id.desc()).limit(limit)).all()
    used = _used_links(session, workspace_id, [r.link_id for r in rows if r.link_id])
    items = []
    for row in rows:
        item = schemas.InvitationRead.model_validate(row)
        if row.status == InvitationStatus.SENT and row.link_id in used:
            item.status, item.answered_at = InvitationStatus.ANSWERED, used[row.link_id]
        items.append(item)
    return items


def _used_links(
    session: Session, workspace_id: uuid.UUID, link_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    if not link_ids:
        return {}
    rows = session.execute(
        select(SurveyLink.id, SurveyLink.used_at).where(
            SurveyLink.workspace_id == workspace_id,
            SurveyLink.id.in_(link_ids),
            SurveyLink.used_at.is_not(None),
        )
    )
    return {link_id: used_at for link_id, used_at in rows if used_at is not None}


# -- per-survey settings --------------------------------------------------------------------


def distribution(
    session: Session, workspace_id: uuid.UUID, survey_id: uuid.UUID
) -> SurveyDistribution:
    """The survey's reminder and cooldown settings (the defaults until some are set)."""
    survey = get_survey(session, workspace_id, survey_id)
    found = session.get(SurveyDistribution, survey.id)
    if found is not None:
        return found
    return SurveyDistribution(
        survey_id=survey.id,
        workspace_id=workspace_id,
        reminder_after_days=3,
        max_reminders=1,
        answer_cooldown_days=90,
        updated_at=survey.created_at,
    )


def update_distribution(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    body: schemas.DistributionUpdate,
) -> SurveyDistribution:
    """Set the reminders and the answer cooldown of a survey; later sends follow them."""
    survey = get_survey(session, workspace_id, survey_id)
    found = session.get(SurveyDistribution, survey.id)
    if found is None:
        found = SurveyDistribution(survey_id=survey.id, workspace_id=workspace_id)
        session.add(found)
    found.reminder_after_days = body.reminder_after_days
    found.max_reminders = body.max_reminders
    found.answer_cooldown_days = body.answer_cooldown_days
    found.updated_at = utcnow()
    session.flush()
    return found
