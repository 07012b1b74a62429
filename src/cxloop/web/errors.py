"""Error pages for people using a browser (the API keeps its JSON errors)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from cxloop.web.templating import context, templates

_TITLES = {401: "error.401", 403: "error.403", 404: "error.404", 500: "error.500"}
DASHBOARD = "/app"


def render_error_page(request: Request, status: int, code: str, detail: str) -> Response:
    if status == 401 and _in_dashboard(request.url.path):
        # the page for someone not signed in is the sign-in form, which brings them back
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            here = DASHBOARD
        return RedirectResponse(f"/login?next={quote(here, safe='/')}", status_code=303)
    title_key = _TITLES.get(status, "error.other")
    return templates.TemplateResponse(
        request,
        "error.html",
        context(request, status=status, code=code, detail=detail, title_key=title_key),
        status_code=status,
    )


def _in_dashboard(path: str) -> bool:
    return path == DASHBOARD or path.startswith(DASHBOARD + "/")
