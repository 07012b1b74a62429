"""Personal survey links: signed, expiring and single use.

A token is ``<link id>.<HMAC-SHA256 of the id>``, both base64url, signed with a key derived
from the server secret (:mod:`cxloop.core.secret_key`). The signature is checked before the
database is read, so guessed tokens cost nothing; expiry, use and revocation live in the
``survey_link`` row, so they hold across every process at once. The link's id is also the
key of its response: each step of the page saves to the same response, and the link is used
up when that response is complete.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.core.errors import InvalidInput
from cxloop.core.ids import uuid7
from cxloop.core.secret_key import derive
from cxloop.core.time import utcnow
from cxloop.models import SurveyLink
from cxloop.surveys import errors
from cxloop.surveys.schemas import LANGUAGES
from cxloop.surveys.service import get_survey
from cxloop.surveys.service.surveys import to_utc

DEFAULT_LIFETIME = timedelta(days=30)
PATH_PREFIX = "/s/t/"
_PURPOSE = "cxloop.survey-link.v1"
_MAX_IDENTIFIERS = 20


@dataclass(frozen=True)
class IssuedLink:
    token: str
    path: str
    link_id: uuid.UUID
    expires_at: datetime


@dataclass(frozen=True)
class LinkGrant:
    """What a valid link lets its holder do: answer one survey as one customer."""

    link_id: uuid.UUID
    workspace_id: uuid.UUID
    survey_id: uuid.UUID
    customer: dict[str, str]
    channel: str
    language: str | None
    touchpoint: str | None
    expires_at: datetime

    @property
    def response_key(self) -> uuid.UUID:
        return self.link_id


def issue_link(
    session: Session,
    workspace_id: uuid.UUID,
    survey_id: uuid.UUID,
    *,
    customer: dict[str, str] | None,
    channel: str = "email",
    language: str | None = None,
    touchpoint: str | None = None,
    expires_at: datetime | None = None,
    settings: Settings,
) -> IssuedLink:
    """Make a personal link to a survey of the workspace (default lifetime: 30 days)."""
    survey = get_survey(session, workspace_id, survey_id)
    now = utcnow()
    expires = to_utc(expires_at) or now + DEFAULT_LIFETIME
    _check(customer or {}, channel, language, expires, now)
    link = SurveyLink(
        id=uuid7(),
        workspace_id=workspace_id,
        survey_id=survey.id,
        customer={str(k): str(v) for k, v in (customer or {}).items()},
        channel=channel,
        language=language,
        touchpoint=touchpoint,
        expires_at=expires,
        created_at=now,
    )
    session.add(link)
    session.flush()
    token = sign(link.id, settings)
    return IssuedLink(
        token=token, path=PATH_PREFIX + token, link_id=link.id, expires_at=link.expires_at
    )


def _check(
    customer: dict[str, str], channel: str, language: str | None, expires: datetime, now: datetime
) -> None:
    if len(customer) > _MAX_IDENTIFIERS:
        raise InvalidInput("customer", f"at most {_MAX_IDENTIFIERS} identifiers")
    if not channel or len(channel) > 40:
        raise InvalidInput("channel", "a short name such as email, sms, line or zalo")
    if language is not None and language not in LANGUAGES:
        raise InvalidInput("language", f"one of {', '.join(LANGUAGES)}")
    if expires <= now:
        raise InvalidInput("expires_at", "is not in the future")


def read_link(session: Session, token: str, *, settings: Settings) -> LinkGrant:
    """The grant of a token; raises ``LinkInvalid``, ``LinkRevoked``, ``LinkUsed`` or
    ``LinkExpired`` (checked in that order: a used link that has since expired still says
    it was answered)."""
    link_id = verify(token, settings)
    link = session.get(SurveyLink, link_id)
    if link is None:
        raise errors.LinkInvalid("this link is not valid")
    _ensure_usable(link)
    return LinkGrant(
        link_id=link.id,
        workspace_id=link.workspace_id,
        survey_id=link.survey_id,
        customer=dict(link.customer),
        channel=link.channel,
        language=link.language,
        touchpoint=link.touchpoint,
        expires_at=link.expires_at,
    )


def _ensure_usable(link: SurveyLink) -> None:
    if link.revoked_at is not None:
        raise errors.LinkRevoked("this link was withdrawn")
    if link.used_at is not None:
        raise errors.LinkUsed("this link was used already")
    if link.expires_at <= utcnow():
        raise errors.LinkExpired(f"this link expired on {link.expires_at.date().isoformat()}")


def mark_used(session: Session, link_id: uuid.UUID) -> None:
    """Use the link up. One conditional UPDATE, so of two racing uses only one succeeds;
    the other gets the reason the link is no longer usable."""
    now = utcnow()
    done = session.execute(
        update(SurveyLink)
        .where(
            SurveyLink.id == link_id,
            SurveyLink.used_at.is_(None),
            SurveyLink.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session="evaluate")
    )
    if getattr(done, "rowcount", 0) == 1:
        return
    link = session.get(SurveyLink, link_id)
    if link is None:
        raise errors.LinkInvalid("this link is not valid")
    session.refresh(link)
    _ensure_usable(link)
    raise errors.LinkUsed("this link was used already")  # pragma: no cover (a race)


def revoke_link(session: Session, workspace_id: uuid.UUID, link_id: uuid.UUID) -> None:
    """Withdraw a link of the workspace; using it afterwards raises ``LinkRevoked``."""
    link = session.scalar(
        select(SurveyLink).where(SurveyLink.id == link_id, SurveyLink.workspace_id == workspace_id)
    )
    if link is None:
        raise errors.LinkInvalid("no such link in this workspace")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.flush()


# -- tokens -----------------------------------------------------------------------------------


def sign(link_id: uuid.UUID, settings: Settings) -> str:
    return f"{_b64(link_id.bytes)}.{_b64(_mac(link_id.bytes, settings))}"


def verify(token: str, settings: Settings) -> uuid.UUID:
    """The link id a token names, once its signature checks out."""
    head, dot, tail = token.strip().partition(".")
    try:
        raw, mac = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        raise errors.LinkInvalid("this link is not valid") from None
    if not dot or len(raw) != 16 or not hmac.compare_digest(mac, _mac(raw, settings)):
        raise errors.LinkInvalid("this link is not valid")
    return uuid.UUID(bytes=raw)


def _mac(raw: bytes, settings: Settings) -> bytes:
    return hmac.new(derive(settings, _PURPOSE), raw, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if len(text) > 64:
        raise ValueError("too long")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def describe(grant: LinkGrant) -> dict[str, Any]:
    """The grant as plain values (logs, job payloads)."""
    return {
        "link_id": str(grant.link_id),
        "workspace_id": str(grant.workspace_id),
        "survey_id": str(grant.survey_id),
        "customer": grant.customer,
        "channel": grant.channel,
        "language": grant.language,
        "touchpoint": grant.touchpoint,
    }
