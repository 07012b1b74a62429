"""Every route of the dashboard, included by the app."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fastapi import APIRouter
from starlette.routing import BaseRoute

from cxloop.dashboard import (
    customers,
    journeys_pages,
    kpis,
    overview,
    signin,
    surveys_builder_pages,
    surveys_distribution_pages,
    surveys_pages,
    text_pages,
    touchpoint_pages,
)

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
router.include_router(overview.router)
router.include_router(customers.router)
router.include_router(kpis.router)
router.include_router(surveys_builder_pages.router)  # /app/surveys/new before /{id}
router.include_router(surveys_pages.router)
router.include_router(surveys_distribution_pages.router)
router.include_router(text_pages.router)
router.include_router(journeys_pages.router)
router.include_router(touchpoint_pages.router)


def page_paths() -> list[str]:
    """The path of every page a signed-in person can open: each GET route under ``/app``,
    path parameters left in (``/app/customers/{customer_id}``)."""
    return sorted({path for path in _get_paths(router.routes, "") if path.startswith("/app")})


def _get_paths(routes: Sequence[BaseRoute], prefix: str) -> Iterator[str]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # a router included in this one, with its own prefix
            yield from _get_paths(included.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield prefix + str(getattr(route, "path", ""))
