"""Signing in and out, the language switch and the workspace switch: plain HTML forms that
work without JavaScript, each with its CSRF token."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.accounts import errors as account_errors
from cxloop.accounts import service as accounts
from cxloop.core.deps import ReadSessionDep, SessionDep, SettingsDep
from cxloop.core.errors import InvalidInput
from cxloop.core.i18n import LANGUAGES, translate
from cxloop.dashboard.auth import FormDep, ViewerDep, load_viewer, safe_next
from cxloop.web.page import NO_STORE
from cxloop.web.session import (
    CSRF_COOKIE,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    csrf_token,
    encode_session,
    new_csrf_binding,
    new_session,
)
from cxloop.web.shell import app_context, dashboard_language
from cxloop.web.templating import templates

router = APIRouter(include_in_schema=False)
YEAR = 365 * 86400


@router.get("/login")
def login_page(request: Request, session: ReadSessionDep, settings: SettingsDep) -> Response:
    target = safe_next(request.query_params.get("next"))
    if load_viewer(session, settings, request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(target, status_code=303)
    return _login_form(request, settings, target)


@router.post("/login")
def login(request: Request, form: FormDep, session: SessionDep, settings: SettingsDep) -> Response:
    target = safe_next(form.get("next"))
    email, password = form.get("email", "").strip(), form.get("password", "")
    if not email or not password:
        return _login_form(request, settings, target, "login.missing", email, status=400)
    try:
        user = accounts.authenticate_user(session, email, password)
    except account_errors.InvalidCredentials:
        return _login_form(request, settings, target, "login.invalid", email, status=401)
    workspaces = accounts.user_workspaces(session, user.id)
    if not workspaces:
        return _login_form(request, settings, target, "login.no_workspace", email, status=403)
    token = new_session(settings, user.id, workspaces[0][0].id, user.password_hash)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, encode_session(settings, token), SESSION_SECONDS)
    _set_cookie(request, response, LANGUAGE_COOKIE, user.language, YEAR)
    return response


@router.post("/logout")
def logout(request: Request, form: FormDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/app/language")
def switch_language(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Remember the language in a cookie and, when someone is signed in, on their account."""
    lang = form.get("lang", "")
    if lang not in LANGUAGES:
        raise InvalidInput("lang", f"one of {', '.join(LANGUAGES)}, not {lang!r}")
    viewer = load_viewer(session, settings, request.cookies.get(SESSION_COOKIE))
    if viewer is not None:
        accounts.set_user_language(session, accounts.get_user(session, viewer.user_id), lang)
    response = RedirectResponse(_without_lang(safe_next(form.get("next"))), status_code=303)
    _set_cookie(request, response, LANGUAGE_COOKIE, lang, YEAR)
    return response


@router.post("/app/workspace")
def switch_workspace(
    request: Request,
    form: FormDep,
    viewer: ViewerDep,
    session: ReadSessionDep,
    settings: SettingsDep,
) -> Response:
    """Look at another of the viewer's workspaces (one they are a member of)."""
    try:
        wanted = uuid.UUID(form.get("workspace_id", ""))
    except ValueError:
        raise InvalidInput("workspace_id", "not a workspace id") from None
    if wanted not in {w.id for w in viewer.workspaces}:
        raise InvalidInput("workspace_id", "not one of your workspaces")
    user = accounts.get_user(session, viewer.user_id)
    token = new_session(settings, user.id, wanted, user.password_hash)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, encode_session(settings, token), SESSION_SECONDS)
    return response


def _login_form(
    request: Request,
    settings: SettingsDep,
    target: str,
    error: str | None = None,
    email: str = "",
    *,
    status: int = 200,
) -> Response:
    binding = request.cookies.get(CSRF_COOKIE) or new_csrf_binding()
    lang = dashboard_language(request, None)
    context = app_context(
        request,
        None,
        section="login",
        title=translate("login.title", lang),
        csrf=csrf_token(settings, binding),
        lang=lang,
        target=target,
        action="/login" + (f"?lang={lang}" if request.query_params.get("lang") == lang else ""),
        error=error,
        email=email,
    )
    response = templates.TemplateResponse(
        request, "app/login.html", context, status_code=status, headers=NO_STORE
    )
    if request.cookies.get(CSRF_COOKIE) != binding:
        _set_cookie(request, response, CSRF_COOKIE, binding, SESSION_SECONDS)
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _without_lang(target: str) -> str:
    """A ``?lang=`` in the page's address would outrank the choice just made."""
    path, _, query = target.partition("?")
    kept = "&".join(p for p in query.split("&") if p and not p.startswith("lang="))
    return path + (f"?{kept}" if kept else "")
