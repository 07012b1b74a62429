"""The page shell: the landing page until the dashboard exists."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cxloop import __version__
from cxloop.web.templating import context, templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, "home.html", context(request, version=__version__)
    )
    lang = request.query_params.get("lang")
    if lang in ("en", "vi", "th"):
        response.set_cookie("cxloop_lang", lang, max_age=365 * 86400, samesite="lax")
    return response
