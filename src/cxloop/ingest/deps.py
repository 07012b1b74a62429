"""Dependencies of routes that read the event store."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from cxloop.core.deps import SessionDep, SettingsDep
from cxloop.eventstore.service import events_root
from cxloop.ingest import service


def settle_inbox(request: Request, session: SessionDep, settings: SettingsDep) -> None:
    """Runs before authentication: loads the caller's inbox in transactions of its own, so
    what was just sent counts, then begins the request's transaction as a reader. An app
    without its lifespan (no session factory) has nothing to settle with."""
    factory = getattr(request.app.state, "sessionmaker", None)
    kind, _, token = request.headers.get("authorization", "").partition(" ")
    if factory is not None and kind.lower() == "bearer" and token.strip():
        interval = timedelta(seconds=settings.key_touch_interval_seconds)
        used_at = service.settle_for_key(factory, events_root(settings), token.strip(), interval)
        service.begin_reading(session, used_at, interval)


# Put first in a route's parameters, before the principal that authenticates the key.
Settled = Annotated[None, Depends(settle_inbox)]
