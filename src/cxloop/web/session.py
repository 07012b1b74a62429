"""Signed cookies of the dashboard: the sign-in session and the CSRF token of every form.

The session cookie holds who is signed in, which workspace they look at, a random session id
and an expiry, signed with a key derived from the server's secret. Nothing is stored on the
server: a password change ends every session, because the cookie also carries a fingerprint
of the password hash that the request checks against the user's row.

A form's CSRF token is an HMAC of the session id (or, before sign-in, of a random value in
a cookie of its own), so a page of another site can neither read nor forge it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

import orjson

from cxloop.config import Settings
from cxloop.core.secret_key import derive

SESSION_COOKIE = "cxloop_session"
CSRF_COOKIE = "cxloop_csrf"
LANGUAGE_COOKIE = "cxloop_lang"
SESSION_SECONDS = 14 * 86400
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class SessionToken:
    """What the session cookie says: checked against the database on every request."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID | None
    session_id: str
    expires_at: int
    password_mark: str


def password_mark(settings: Settings, password_hash: str) -> str:
    """A short fingerprint of the password hash: changing the password ends old sessions."""
    key = derive(settings, "dashboard-password-mark")
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:16]


def new_session(
    settings: Settings,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    password_hash: str,
    *,
    now: float | None = None,
) -> SessionToken:
    moment = time.time() if now is None else now
    return SessionToken(
        user_id=user_id,
        workspace_id=workspace_id,
        session_id=secrets.token_urlsafe(16),
        expires_at=int(moment) + SESSION_SECONDS,
        password_mark=password_mark(settings, password_hash),
    )


def encode_session(settings: Settings, token: SessionToken) -> str:
    payload = orjson.dumps(
        {
            "u": str(token.user_id),
            "w": str(token.workspace_id) if token.workspace_id else None,
            "s": token.session_id,
            "e": token.expires_at,
            "p": token.password_mark,
        }
    )
    body = _b64(payload)
    return f"{body}.{_sign(settings, 'dashboard-session', body)}"


def decode_session(
    settings: Settings, cookie: str | None, *, now: float | None = None
) -> SessionToken | None:
    """The token in ``cookie`` when its signature holds and it has not expired, else None."""
    if not cookie or cookie.count(".") != 1:
        return None
    body, signature = cookie.split(".")
    if not hmac.compare_digest(signature, _sign(settings, "dashboard-session", body)):
        return None
    try:
        data = orjson.loads(_unb64(body))
        token = SessionToken(
            user_id=uuid.UUID(data["u"]),
            workspace_id=uuid.UUID(data["w"]) if data.get("w") else None,
            session_id=str(data["s"]),
            expires_at=int(data["e"]),
            password_mark=str(data["p"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if token.expires_at < (time.time() if now is None else now):
        return None
    return token


def csrf_token(settings: Settings, binding: str) -> str:
    """The token a form carries for a session id (or the pre-sign-in cookie's value)."""
    return _sign(settings, "dashboard-csrf", binding)


def csrf_matches(settings: Settings, binding: str | None, given: str | None) -> bool:
    if not binding or not given:
        return False
    return hmac.compare_digest(csrf_token(settings, binding), given)


def new_csrf_binding() -> str:
    return secrets.token_urlsafe(16)


def _sign(settings: Settings, purpose: str, body: str) -> str:
    digest = hmac.new(derive(settings, purpose), body.encode(), hashlib.sha256).digest()
    return _b64(digest)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
