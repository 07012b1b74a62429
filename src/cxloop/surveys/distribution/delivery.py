"""Sending an invitation (delivery 0) and its reminders (deliveries 1..N) by email.

Each delivery is one ``surveys.send_invitation`` job run in the worker's transaction:

- The invitation row is locked, and ``deliveries`` says which emails went out already, so
  a delivery that ran before (a duplicate job, a retry by hand) does nothing.
- An SMTP failure is recorded on the invitation (``attempts``, ``last_error``) and the
  delivery is queued again with backoff, as a new job; after ``CXLOOP_SMTP_MAX_ATTEMPTS``
  it is ``failed``. A recipient refused for good (5xx) is ``bounced`` and suppressed.
- Those are the only outcomes a run commits. A job that the worker runs a second time
  therefore ended its first run without committing (a crash, a lost lease, a failed
  commit), possibly after the server accepted the email: it is marked ``failed`` instead of
  sent again, so an invitation is sent at most once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core import mail
from cxloop.core.time import utcnow
from cxloop.jobs import enqueue
from cxloop.jobs.queue import backoff
from cxloop.models import (
    InvitationStatus,
    Survey,
    SurveyInvitation,
    SurveyLink,
    SurveyStatus,
    Workspace,
)
from cxloop.surveys import fatigue
from cxloop.surveys.distribution import emails, suppressions
from cxloop.surveys.distribution.invitations import SEND_JOB, distribution
from cxloop.surveys.links import sign

INTERRUPTED = (
    "interrupted after the email may have reached the mail server; not sent again, so that "
    "the customer does not get it twice"
)


def deliver(
    session: Session,
    workspace_id: uuid.UUID,
    invitation_id: uuid.UUID,
    number: int,
    *,
    attempt: int,
    settings: Settings,
) -> None:
    """Send delivery ``number`` of an invitation, unless it went out already or must not."""
    invitation = session.scalar(
        select(SurveyInvitation)
        .where(SurveyInvitation.id == invitation_id, SurveyInvitation.workspace_id == workspace_id)
        .with_for_update()
    )
    if invitation is None or not _due(invitation, number):
        return
    now = utcnow()
    if attempt > 1:
        _stop(invitation, now, error=INTERRUPTED, failed=number == 0)
        return
    survey = session.get(Survey, invitation.survey_id)
    link = session.get(SurveyLink, invitation.link_id) if invitation.link_id else None
    if (
        survey is None
        or link is None
        or not _may_send(session, invitation, survey, link, number, now)
    ):
        return
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:  # deleted meanwhile, with its invitations
        return
    email = emails.invitation_email(
        invitation,
        survey,
        workspace,
        number=number,
        survey_path="/s/t/" + sign(link.id, settings),
        unsubscribe_path=suppressions.unsubscribe_path(invitation.id, settings),
        expires_at=link.expires_at,
        settings=settings,
    )
    invitation.message_id = email.message_id
    try:
        mail.send(email, settings)
    except mail.MailError as exc:
        _failed(session, invitation, number, exc, now, settings)
        return
    _sent(session, invitation, number, now)


def _due(invitation: SurveyInvitation, number: int) -> bool:
    if invitation.deliveries != number:
        return False  # sent already (or an earlier delivery has not been)
    if number == 0:
        return invitation.status == InvitationStatus.QUEUED
    return invitation.status == InvitationStatus.SENT


def _may_send(
    session: Session,
    invitation: SurveyInvitation,
    survey: Survey,
    link: SurveyLink,
    number: int,
    now: datetime,
) -> bool:
    """Check everything that can change between recording an invitation and sending it;
    record why not when it must not go out."""
    if link.used_at is not None or (
        number > 0
        and fatigue.answered(
            session,
            invitation.workspace_id,
            survey.id,
            _customer(invitation),
            invitation.created_at,
        )
    ):
        invitation.status, invitation.answered_at = InvitationStatus.ANSWERED, link.used_at or now
        _stop(invitation, now)
        return False
    closed = survey.status != SurveyStatus.ACTIVE or (
        survey.closes_at is not None and survey.closes_at <= now
    )
    if closed or link.revoked_at is not None or link.expires_at <= now:
        if number == 0:
            reason = "survey_not_open" if closed else "link_expired"
            invitation.status, invitation.skip_reason = InvitationStatus.SKIPPED, reason
        _stop(invitation, now)
        return False
    if number == 0:
        decision = fatigue.allowed(
            session, invitation.workspace_id, survey.id, _customer(invitation), now
        )
        if not decision.allowed:
            invitation.status, invitation.skip_reason = InvitationStatus.SKIPPED, decision.reason
            _stop(invitation, now)
            return False
    elif suppressions.is_suppressed(
        session, invitation.workspace_id, email=invitation.email, phone=None
    ):
        invitation.status = InvitationStatus.UNSUBSCRIBED
        _stop(invitation, now)
        return False
    return True


def _customer(invitation: SurveyInvitation) -> dict[str, str]:
    ids = {k: str(v) for k, v in invitation.customer.items()}
    if invitation.email:
        ids["email"] = invitation.email
    if invitation.profile_id is not None:
        ids["profile_id"] = str(invitation.profile_id)
    return ids


def _sent(session: Session, invitation: SurveyInvitation, number: int, now: datetime) -> None:
    invitation.deliveries = number + 1
    invitation.last_sent_at = now
    invitation.attempts, invitation.last_error = 0, None
    invitation.updated_at = now
    if number == 0:
        invitation.status, invitation.sent_at = InvitationStatus.SENT, now
        fatigue.record_contact(
            session, invitation.workspace_id, invitation.survey_id, _customer(invitation),
            invitation.channel, now,
        )  # fmt: skip
    settings = distribution(session, invitation.workspace_id, invitation.survey_id)
    invitation.next_reminder_at = None
    if number < settings.max_reminders:
        at = now + timedelta(days=settings.reminder_after_days)
        invitation.next_reminder_at = at
        enqueue(
            session,
            SEND_JOB,
            {"invitation_id": str(invitation.id), "number": number + 1},
            workspace_id=invitation.workspace_id,
            run_at=at,
            dedupe_key=f"{SEND_JOB}:{invitation.id}:{number + 1}",
        )
    session.flush()


def _failed(
    session: Session,
    invitation: SurveyInvitation,
    number: int,
    exc: mail.MailError,
    now: datetime,
    settings: Settings,
) -> None:
    invitation.attempts += 1
    invitation.last_error = str(exc)[-2000:]
    invitation.updated_at = now
    if exc.permanent:
        invitation.status = InvitationStatus.BOUNCED
        if invitation.email:
            suppressions.suppress(
                session, invitation.workspace_id, "email", invitation.email, "bounced",
                invitation_id=invitation.id,
            )  # fmt: skip
        _stop(invitation, now)
    elif invitation.attempts >= settings.smtp_max_attempts:
        _stop(invitation, now, failed=number == 0)
    else:
        enqueue(
            session,
            SEND_JOB,
            {"invitation_id": str(invitation.id), "number": number},
            workspace_id=invitation.workspace_id,
            run_at=now + backoff(invitation.attempts, settings.job_backoff_seconds),
            dedupe_key=f"{SEND_JOB}:{invitation.id}:{number}:retry-{invitation.attempts}",
        )
    session.flush()


def _stop(
    invitation: SurveyInvitation, now: datetime, *, error: str | None = None, failed: bool = False
) -> None:
    """No more emails for this invitation (its last delivery failed, or it must not go out)."""
    if failed:
        invitation.status = InvitationStatus.FAILED
    if error is not None:
        invitation.last_error = error
    invitation.next_reminder_at = None
    invitation.updated_at = now
