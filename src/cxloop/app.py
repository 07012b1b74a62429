"""The ASGI application. Nothing here does I/O at import; engines are built in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from cxloop import __version__, bootstrap
from cxloop.accounts.router import router as accounts_router
from cxloop.config import Settings, get_settings
from cxloop.core import handlers
from cxloop.core.db import make_engine, make_sessionmaker
from cxloop.core.groupcommit import GroupCommitter
from cxloop.dashboard import memo, warm
from cxloop.dashboard.router import router as dashboard_router
from cxloop.eventstore.service import events_root
from cxloop.ingest.gateway import Gateway
from cxloop.ingest.lane import IngestLane
from cxloop.ingest.router import router as ingest_router
from cxloop.jobs import Worker
from cxloop.jobs.worker import WorkerOptions
from cxloop.journeys.maps_router import router as journey_maps_router
from cxloop.journeys.router import router as journeys_router
from cxloop.journeys.touchpoints_router import router as touchpoints_router
from cxloop.kpis.router import router as kpis_router
from cxloop.profiles.router import router as profiles_router
from cxloop.surveys.distribution.pages import router as unsubscribe_pages
from cxloop.surveys.distribution.router import router as distribution_router
from cxloop.surveys.metrics_router import router as metrics_router
from cxloop.surveys.page_router import router as survey_pages_api
from cxloop.surveys.pages import router as survey_pages
from cxloop.surveys.pages import routes as survey_page_routes
from cxloop.surveys.router import router as surveys_router
from cxloop.system.router import router as system_router
from cxloop.text.router import router as text_router
from cxloop.web.errors import render_error_page
from cxloop.web.router import router as web_router

log = logging.getLogger(__name__)
SETTLE_SECONDS = 60.0  # the most a stopping server waits for figures read in the background


def create_app(settings: Settings | None = None, *, run_worker: bool = False) -> FastAPI:
    """Build the app for ``settings``. With ``run_worker`` the worker runs in this process."""
    settings = settings or get_settings()
    bootstrap.load_domains()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        # the writer of shared commits keeps a connection of its own: requests waiting for
        # it hold theirs, and must not be able to starve it of one
        commit_engine = make_engine(settings.resolved_database_url, pool_size=1)
        app.state.committer = GroupCommitter(make_sessionmaker(commit_engine))
        app.state.ingest = Gateway(app.state.sessionmaker, settings)
        app.state.ingest.start()
        if settings.dashboard_stale_seconds > 0:  # else every view reads the newest anyway
            root = events_root(settings)
            memo.in_background(lambda: warm.journey_maps(app.state.sessionmaker, root))
        worker = None
        if run_worker:
            worker = Worker(app.state.sessionmaker, worker_options(settings), settings=settings)
            worker.start()
        try:
            yield
        finally:
            # a figure read in the background holds a connection of this app's engine
            memo.settle(SETTLE_SECONDS)
            app.state.ingest.stop()
            app.state.committer.stop()
            commit_engine.dispose()
            if worker is not None:
                worker.stop()
            engine.dispose()

    app = FastAPI(
        title="cxloop",
        version=__version__,
        summary="Customer-experience management API",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI would load from a CDN; the dashboard works offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    handlers.install(app, page_renderer=render_error_page)
    app.add_middleware(IngestLane)
    app.include_router(system_router)
    app.include_router(accounts_router)
    app.include_router(ingest_router)
    app.include_router(profiles_router)
    app.include_router(surveys_router)
    app.include_router(distribution_router)
    app.include_router(unsubscribe_pages)
    app.include_router(survey_pages_api)
    app.include_router(survey_pages)
    app.include_router(journeys_router)
    app.include_router(touchpoints_router)
    app.include_router(journey_maps_router)
    app.include_router(kpis_router)
    app.include_router(metrics_router)
    app.include_router(text_router)
    app.include_router(dashboard_router)
    app.include_router(web_router)
    # every respondent's page: matched first, ahead of the API's routes
    app.router.routes[0:0] = survey_page_routes
    return app


def worker_options(settings: Settings) -> WorkerOptions:
    return WorkerOptions(
        concurrency=settings.worker_concurrency,
        poll_interval=settings.job_poll_interval,
        lease=timedelta(seconds=settings.job_lease_seconds),
        backoff_seconds=settings.job_backoff_seconds,
    )


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` with several worker processes."""
    return create_app(get_settings(), run_worker=False)
