"""Error pages for people using a browser (the API keeps its JSON errors)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from cxloop.web.templating import context, templates

_TITLES = {401: "error.401", 403: "error.403", 404: "error.404", 500: "error.500"}


def render_error_page(request: Request, status: int, code: str, detail: str) -> Response:
    title_key = _TITLES.get(status, "error.other")
    return templates.TemplateResponse(
        request,
        "error.html",
        context(request, status=status, code=code, detail=detail, title_key=title_key),
        status_code=status,
    )
