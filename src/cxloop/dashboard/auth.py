"""Who is signed in: the session cookie checked against the user's row and memberships, and
the CSRF check of every form posted to the dashboard."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cxloop.accounts import errors as account_errors
from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.core.deps import ReadSessionDep, SettingsDep
from cxloop.core.errors import Forbidden, Unauthorized
from cxloop.web.page import Page
from cxloop.web.session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    csrf_matches,
    decode_session,
    password_mark,
)
from cxloop.web.shell import Viewer, WorkspaceChoice

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024


class SignInRequired(Unauthorized):
    """Browsers are sent to the sign-in page (see :mod:`cxloop.web.errors`)."""

    code = "sign_in_required"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def load_viewer(session: Session, settings: Settings, cookie: str | None) -> Viewer | None:
    """The viewer a session cookie stands for, or None when it stands for nobody now: no
    valid signature, expired, user gone or inactive, password changed, or no workspace."""
    token = decode_session(settings, cookie)
    if token is None:
        return None
    try:
        user = accounts.get_user(session, token.user_id)
    except account_errors.UserNotFound:
        return None
    if not user.is_active or password_mark(settings, user.password_hash) != token.password_mark:
        return None
    memberships = accounts.user_workspaces(session, user.id)
    if not memberships:
        return None
    choices = tuple(WorkspaceChoice(w.id, w.name, w.display_name, r.value) for w, r in memberships)
    current = next((c for c in choices if c.id == token.workspace_id), choices[0])
    timezone = next(w.timezone for w, _ in memberships if w.id == current.id) or "UTC"
    return Viewer(
        user_id=user.id,
        email=user.email,
        name=user.name,
        language=user.language,
        session_id=token.session_id,
        workspace=current,
        workspaces=choices,
        timezone=timezone,
    )


def current_viewer(request: Request, session: ReadSessionDep, settings: SettingsDep) -> Viewer:
    viewer = load_viewer(session, settings, request.cookies.get(SESSION_COOKIE))
    if viewer is None:
        raise SignInRequired("sign in to see this page")
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def current_page(request: Request, viewer: ViewerDep, settings: SettingsDep) -> Page:
    return Page(request, viewer, settings)


# What a dashboard page handler takes: the viewer, the language and the render helper.
PageDep = Annotated[Page, Depends(current_page)]


async def read_form(request: Request) -> dict[str, str]:
    """The posted form (urlencoded, as a browser sends it without script); at most 16 KB."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        raise CsrfFailed("send the form as application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise CsrfFailed(f"the form is larger than {MAX_FORM_BYTES} bytes")
    fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50)
    return {key: value[:2000] for key, value in reversed(fields)}


def checked_form(
    request: Request, settings: SettingsDep, form: Annotated[dict[str, str], Depends(read_form)]
) -> dict[str, str]:
    """The form, once its CSRF token is found to belong to this browser's session (or, before
    sign-in, to its CSRF cookie)."""
    token = decode_session(settings, request.cookies.get(SESSION_COOKIE))
    given = form.get(CSRF_FIELD)
    bindings = [token.session_id] if token else []
    bindings.append(request.cookies.get(CSRF_COOKIE) or "")
    if not any(csrf_matches(settings, binding, given) for binding in bindings):
        raise CsrfFailed(
            "csrf: the form's token is missing or does not match; reload the page and try again"
        )
    return form


FormDep = Annotated[dict[str, str], Depends(checked_form)]


def safe_next(value: str | None, default: str = "/app") -> str:
    """Where to go after a form: a path on this server only, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value
