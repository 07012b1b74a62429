"""One error shape everywhere: ``{"error": CODE, "detail": MESSAGE}``, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxloop.core.errors import CxloopError

log = logging.getLogger("cxloop.errors")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


# Renders an error as an HTML page: (request, status, code, detail) -> response.
PageRenderer = Callable[[Request, int, str, str], Response]
_API_PREFIXES = ("/api/", "/v1/")


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API) gets an HTML error page."""
    if request.url.path.startswith(_API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def _respond(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    renderer: PageRenderer | None = getattr(request.app.state, "error_page_renderer", None)
    if renderer is not None and wants_page(request):
        return renderer(request, status, body["error"], body["detail"])
    return JSONResponse(body, status_code=status, headers=headers)


def _describe(err: dict[str, Any]) -> dict[str, Any]:
    loc = list(err.get("loc", ()))
    if err.get("type") == "json_invalid":
        # pydantic reports the character offset as a path element; say it in words instead
        position = loc[1] if len(loc) > 1 else "?"
        reason = (err.get("ctx") or {}).get("error", "invalid JSON")
        return {
            "loc": ["body"],
            "msg": f"not valid JSON at character {position}: {reason}",
            "type": "json_invalid",
        }
    return {"loc": loc, "msg": err.get("msg", ""), "type": err.get("type", "")}


async def cxloop_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, CxloopError):
        raise exc
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
    headers.update(exc.headers)
    return _respond(
        request, exc.status_code, error_body(exc.code, exc.detail, **exc.extra), headers
    )


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 listing every bad field with its path; the offending input is not echoed back."""
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors = [_describe(err) for err in exc.errors()]
    summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
    if len(errors) > 5:
        summary += f"; and {len(errors) - 5} more"
    return _respond(request, 422, error_body("validation_error", summary, errors=errors))


async def http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    code = _HTTP_CODES.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and detail == "Not Found":
        detail = "no such route"
    return _respond(
        request, exc.status_code, error_body(code, detail), getattr(exc, "headers", None)
    )


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(
        request,
        500,
        error_body("internal_error", "something went wrong on our side; it has been logged"),
    )


def install(app: FastAPI, page_renderer: PageRenderer | None = None) -> None:
    """Render every error in the one shape; pages get ``page_renderer``'s HTML instead."""
    app.state.error_page_renderer = page_renderer
    app.add_exception_handler(CxloopError, cxloop_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
