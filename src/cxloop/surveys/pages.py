"""The public faces of a survey: the hosted page (``/s/{survey_id}``), personal links
(``/s/t/{token}``), and the web widget (``/widget.js`` and its eligibility check).

No sign-in: a survey's id, a signed link or a widget key is what lets a visitor in. Handlers
parse the request and render what :mod:`cxloop.surveys.page_flow` decides.
"""

from __future__ import annotations

import hashlib
import uuid
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from cxloop.config import Settings
from cxloop.core.deps import (
    CommitterDep,
    Reads,
    ReadSessionDep,
    SettingsDep,
    client_ip,
    get_committer,
    get_reads,
    get_settings,
    resolve,
)
from cxloop.core.groupcommit import GroupCommitter
from cxloop.core.i18n import LANGUAGES, translate
from cxloop.models import ResponseSource
from cxloop.surveys import page_flow, service, widget
from cxloop.surveys.hosted import SubmissionLimiter, choose_language
from cxloop.surveys.page_flow import View
from cxloop.web.templating import templates

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
_TEMPLATES = {"form": "survey/form.html", "done": "survey/done.html"}
_FRAMEABLE = {"Content-Security-Policy": "frame-ancestors *", "Referrer-Policy": "no-referrer"}
_limiters: dict[int, SubmissionLimiter] = {}
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024


def visitor_of(
    request: Request, lang: str | None, tp: str | None, ch: str | None
) -> page_flow.Request:
    """What the request says about its visitor; a widget key makes it a widget visit."""
    params = request.query_params
    visitor = page_flow.Request(
        lang=lang,
        accept_language=request.headers.get("accept-language"),
        touchpoint=(tp or "")[:100] or None,
        channel=(ch or "")[:40] or None,
        embedded=params.get("embed") == "1",
    )
    if params.get("wk"):
        visitor.source = ResponseSource.WIDGET
        visitor.channel = visitor.channel or "web"
        for kind, name in (("user_id", "uid"), ("anonymous_id", "aid")):
            value = (params.get(name) or "")[:200]
            if value:
                visitor.customer[kind] = value
    return visitor


def render(request: Request, view: View) -> Response:
    html = _html(view)
    response = HTMLResponse(html, status_code=view.status)
    response.headers.update(_FRAMEABLE)
    response.headers["Cache-Control"] = "no-store"
    return response


# Pages already rendered, by everything that went into them but the signed form token: most
# visitors of a survey see the same first step in the same language, and rendering it again
# would cost more than all the rest of their request.
_rendered: dict[bytes, str] = {}
_MAX_RENDERED = 2048
_FORM_STATE_SLOT = "\x00state\x00"


def _html(view: View) -> str:
    token = view.values.get("token")
    key = None
    try:
        values = {**view.values, "token": _FORM_STATE_SLOT} if token else view.values
        key = orjson.dumps(
            [view.kind, view.lang, view.survey_name, view.theme, view.languages, values],
            option=orjson.OPT_SORT_KEYS,
        )
    except TypeError:  # something only the template knows how to show: rendered every time
        values = view.values
    found = _rendered.get(key) if key is not None else None
    if found is None:
        found = _template(view, values)
        if key is not None:
            if len(_rendered) >= _MAX_RENDERED:
                _rendered.clear()
            _rendered[key] = found
    return found.replace(_FORM_STATE_SLOT, token) if token else found


def _template(view: View, values: dict[str, Any]) -> str:
    lang = view.lang
    context = {
        "lang": lang,
        "t": lambda key: translate(key, lang),
        "view": view,
        "v": values,
        "theme": view.theme or page_flow.theme_of(None),
        "script": f"/s/assets/survey.js?v={asset('survey.js')[1]}",
    }
    name = _TEMPLATES.get(view.kind, "survey/message.html")
    return templates.get_template(name).render(context)


def _fallback_language(request: Request) -> str:
    """The language of a page shown before any survey is known (a bad link, a limit)."""
    return choose_language(
        LANGUAGES,
        "en",
        asked=request.query_params.get("lang"),
        accept_language=request.headers.get("accept-language"),
    )


def _limiter(request: Request) -> SubmissionLimiter:
    per_minute = request.app.state.settings.survey_page_rate_limit
    return _limiters.setdefault(per_minute, SubmissionLimiter(per_minute))


def _too_many(request: Request, lang: str) -> Response:
    view = View(kind="closed", lang=lang, status=429, values={"rate_limited": True})
    response = render(request, view)
    response.headers["Retry-After"] = "60"
    return response


@router.get("/s/t/{token}", response_class=HTMLResponse)
def link_page(
    request: Request,
    token: str,
    session: ReadSessionDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> Response:
    """A personal link: the survey, answered as the customer it was made for."""
    grant = page_flow.read_grant(session, token, settings)
    if isinstance(grant, View):
        grant.lang = _fallback_language(request)
        return render(request, grant)
    visitor = visitor_of(request, lang, None, None)
    return render(
        request, page_flow.open_form(session, grant.survey_id, visitor, settings, grant=grant)
    )


@router.post("/s/t/{token}", response_class=HTMLResponse)
def post_link_page(
    request: Request,
    token: str,
    form: FormDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    committer: CommitterDep,
) -> Response:
    if not _limiter(request).allow(client_ip(request, settings.trusted_proxies)):
        return _too_many(request, _fallback_language(request))
    grant = page_flow.read_grant(session, token, settings)
    if isinstance(grant, View):
        grant.lang = _fallback_language(request)
        return render(request, grant)
    visitor = visitor_of(request, None, None, None)
    view = page_flow.post_form(
        session, grant.survey_id, form, visitor, settings, committer, grant=grant
    )
    return render(request, view)


async def hosted_page(request: Request) -> Response:
    """``GET /s/{survey_id}``, a survey's public page, answered anonymously (or as the
    widget's visitor); ``POST`` takes one step of it.

    Every respondent comes through here, so it is a plain route, first in the app: no
    dependency resolution, no trip to a worker thread. Its few reads are indexed lookups
    (most answered from :mod:`cxloop.surveys.faces`), cheaper on the event loop than the
    trip; a submission awaits its group commit without holding a thread.
    """
    try:
        survey_id = uuid.UUID(request.path_params["survey_id"])
    except ValueError:
        return render(
            request, View(kind="link_invalid", lang=_fallback_language(request), status=404)
        )
    settings: Settings = await resolve(request, get_settings)
    reads: Reads = await resolve(request, get_reads)
    if request.method == "GET":
        params = request.query_params
        visitor = visitor_of(request, params.get("lang"), params.get("tp"), params.get("ch"))
        with reads() as session:
            return render(request, page_flow.open_form(session, survey_id, visitor, settings))
    if not _limiter(request).allow(client_ip(request, settings.trusted_proxies)):
        return _too_many(request, _fallback_language(request))
    form = await read_form(request)
    committer: GroupCommitter = await resolve(request, get_committer)
    visitor = visitor_of(request, None, None, None)
    with reads() as session:
        taken = page_flow.take_step(session, survey_id, form, visitor, settings)
        if isinstance(taken, View):
            return render(request, taken)
    refused = None
    try:
        await committer.run_batched_async(service.submit_many, taken.submission())
    except page_flow.Refused as exc:
        refused = exc
    with reads() as session:
        return render(request, page_flow.answer(session, taken, refused, settings, visitor))


# placed before every other route by the app
routes = [Route("/s/{survey_id}", hosted_page, methods=["GET", "POST"])]


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted form (urlencoded, as a browser sends it without script); at most 64 KB."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=300)
    form: dict[str, list[str]] = {}
    for key, value in fields:
        form.setdefault(key, []).append(value[:10_000])
    return form


FormDep = Annotated[dict[str, list[str]], Depends(read_form)]


# -- the widget -------------------------------------------------------------------------------


@router.get("/s/widget/eligible")
def widget_eligible(
    session: ReadSessionDep,
    key: str = Query(..., max_length=64),
    url: str = Query("", max_length=2000),
    uid: str | None = Query(None, max_length=200),
    aid: str | None = Query(None, max_length=200),
    lang: str = Query("en", max_length=8),
) -> JSONResponse:
    """Whether the widget shows its survey to this visitor on this page (CORS: any site)."""
    customer = {k: v for k, v in (("user_id", uid), ("anonymous_id", aid)) if v}
    decision = widget.decide(session, key, url, customer)
    body = {
        "show": decision.show,
        "reason": decision.reason,
        "survey_id": str(decision.survey_id) if decision.survey_id else None,
        "rules": decision.rules,
        "close_label": translate("widget.close", lang),
        "dialog_label": translate("widget.dialog", lang),
    }
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
    return JSONResponse(body, headers=headers)


@cache
def asset(name: str) -> tuple[bytes, str]:
    """A static file and the digest that versions its address."""
    body = (STATIC / name).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def _script(request: Request, name: str, max_age: int) -> Response:
    body, version = asset(name)
    etag = f'"{version}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Access-Control-Allow-Origin": "*",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/widget.js")
def widget_script(request: Request) -> Response:
    """The widget sites embed: a stable address, so cached briefly and revalidated."""
    return _script(request, "widget.js", 300)


@router.get("/s/assets/survey.js")
def survey_script(request: Request) -> Response:
    """The page's script; its address carries its digest, so it is cached for good."""
    return _script(request, "survey.js", 31_536_000)
