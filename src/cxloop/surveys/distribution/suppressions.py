"""The suppression list: addresses that are never sent a survey again, and the signed
unsubscribe links that add to it.

An unsubscribe token is ``<invitation id>.<HMAC-SHA256 of it>`` (base64url), signed with a
key derived from the server secret for this purpose only, so it cannot pass for a survey
link. It needs no expiry: unsubscribing must keep working for as long as the email exists.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.errors import InvalidInput
from cxloop.core.secret_key import derive
from cxloop.core.time import utcnow
from cxloop.models import InvitationStatus, Suppression, SurveyInvitation
from cxloop.profiles import service as profiles
from cxloop.surveys.distribution import errors

CHANNELS = ("email", "phone")
UNSUBSCRIBE_PREFIX = "/u/"
_PURPOSE = "cxloop.unsubscribe.v1"


def normalise(session: Session, workspace_id: uuid.UUID, channel: str, address: str) -> str:
    """The address as invitations store it (emails lower-cased, phones in E.164)."""
    if channel not in CHANNELS:
        raise InvalidInput("channel", "one of email, phone")
    value = profiles.normaliser(session, workspace_id)(channel, address)
    if value is None:
        raise InvalidInput("address", f"not a usable {channel}")
    return value


def is_suppressed(
    session: Session, workspace_id: uuid.UUID, *, email: str | None, phone: str | None
) -> bool:
    """Is either address on the workspace's suppression list?"""
    wanted = [(c, a) for c, a in (("email", email), ("phone", phone)) if a]
    if not wanted:
        return False
    found = session.scalar(
        select(Suppression.id)
        .where(
            Suppression.workspace_id == workspace_id,
            or_(*[(Suppression.channel == c) & (Suppression.address == a) for c, a in wanted]),
        )
        .limit(1)
    )
    return found is not None


def suppress(
    session: Session,
    workspace_id: uuid.UUID,
    channel: str,
    address: str,
    reason: str,
    *,
    invitation_id: uuid.UUID | None = None,
) -> Suppression:
    """Add an (already normalised) address; adding it again keeps the first entry."""
    query = select(Suppression).where(
        Suppression.workspace_id == workspace_id,
        Suppression.channel == channel,
        Suppression.address == address,
    )
    existing = session.scalar(query)
    if existing is not None:
        return existing
    row = Suppression(
        workspace_id=workspace_id,
        channel=channel,
        address=address,
        reason=reason,
        invitation_id=invitation_id,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # a second unsubscribe of the same address raced this one in
        raced = session.scalar(query)
        if raced is None:
            raise
        return raced
    return row


def add(
    session: Session, workspace_id: uuid.UUID, channel: str, address: str, reason: str
) -> Suppression:
    """Suppress an address given through the API."""
    return suppress(
        session, workspace_id, channel, normalise(session, workspace_id, channel, address), reason
    )


def list_suppressions(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    limit: int = 50,
    before: uuid.UUID | None = None,
    address: str | None = None,
) -> Sequence[Suppression]:
    """Newest first."""
    query = select(Suppression).where(Suppression.workspace_id == workspace_id)
    if before is not None:
        query = query.where(Suppression.id < before)
    if address:
        query = query.where(Suppression.address == address.strip().lower())
    return session.scalars(query.order_by(Suppression.id.desc()).limit(limit)).all()


def remove(session: Session, workspace_id: uuid.UUID, suppression_id: uuid.UUID) -> None:
    """Take an address off the list: it may be sent surveys again."""
    row = session.scalar(
        select(Suppression).where(
            Suppression.id == suppression_id, Suppression.workspace_id == workspace_id
        )
    )
    if row is None:
        raise errors.SuppressionNotFound("no such suppression in this workspace")
    session.delete(row)
    session.flush()


# -- unsubscribe links ------------------------------------------------------------------------


def unsubscribe_path(invitation_id: uuid.UUID, settings: Settings) -> str:
    return UNSUBSCRIBE_PREFIX + sign(invitation_id, settings)


def sign(invitation_id: uuid.UUID, settings: Settings) -> str:
    raw = invitation_id.bytes
    return f"{_b64(raw)}.{_b64(_mac(raw, settings))}"


def verify(token: str, settings: Settings) -> uuid.UUID:
    head, dot, tail = token.strip().partition(".")
    try:
        raw, mac = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        raise errors.UnsubscribeLinkInvalid("this unsubscribe link is not valid") from None
    if not dot or len(raw) != 16 or not hmac.compare_digest(mac, _mac(raw, settings)):
        raise errors.UnsubscribeLinkInvalid("this unsubscribe link is not valid")
    return uuid.UUID(bytes=raw)


def invitation_of(session: Session, token: str, settings: Settings) -> SurveyInvitation:
    """The invitation an unsubscribe token was made for."""
    invitation = session.get(SurveyInvitation, verify(token, settings))
    if invitation is None:
        raise errors.UnsubscribeLinkInvalid("this unsubscribe link is not valid")
    return invitation


def unsubscribe(session: Session, token: str, settings: Settings) -> SurveyInvitation:
    """Put the address of the token's invitation on the suppression list (again: no-op)."""
    invitation = invitation_of(session, token, settings)
    if invitation.email:
        suppress(
            session,
            invitation.workspace_id,
            "email",
            invitation.email,
            "unsubscribed",
            invitation_id=invitation.id,
        )
    if invitation.unsubscribed_at is None:
        now = utcnow()
        invitation.unsubscribed_at = now
        invitation.updated_at = now
        if invitation.status in (InvitationStatus.QUEUED, InvitationStatus.SENT):
            invitation.status = InvitationStatus.UNSUBSCRIBED
            invitation.next_reminder_at = None
    session.flush()
    return invitation


def _mac(raw: bytes, settings: Settings) -> bytes:
    return hmac.new(derive(settings, _PURPOSE), raw, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if len(text) > 64:
        raise ValueError("too long")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
