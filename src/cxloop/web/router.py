"""The page shell: the landing page and the dashboard's static files."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cxloop import __version__
from cxloop.core.errors import NotFound
from cxloop.web.shell import STATIC, static_version
from cxloop.web.templating import context, templates

router = APIRouter(include_in_schema=False)
_ASSET = re.compile(r"[a-z][a-z0-9-]{0,40}\.(css|js)")
_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, "home.html", context(request, version=__version__)
    )
    lang = request.query_params.get("lang")
    if lang in ("en", "vi", "th"):
        response.set_cookie("cxloop_lang", lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/static/{name}")
def static_file(name: str, request: Request) -> Response:
    """The dashboard's stylesheets and scripts; their addresses carry a digest
    (:func:`~cxloop.web.shell.static_url`), so they are cached for a year."""
    found = _ASSET.fullmatch(name)
    if found is None or not (STATIC / name).is_file():
        raise NotFound(f"no static file {name!r}")
    version = static_version(name)
    etag = f'"{version}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response((STATIC / name).read_bytes(), media_type=_TYPES[found[1]], headers=headers)
