"""The journey maps' figures read when the server starts, before anyone asks.

A map reads its workspace's whole history (see :mod:`cxloop.dashboard.journeys_data`); read
once at start, in the background thread of :mod:`cxloop.dashboard.memo`, the default view of
each map (its default period, in the workspace's time zone) is at hand at the first visit,
and from then on every change of the event store is read again behind the stale figures.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cxloop.core.db import read_transaction
from cxloop.dashboard import journeys_data, periods
from cxloop.journeys import maps
from cxloop.models import Workspace

log = logging.getLogger(__name__)
MAX_MAPS = 20  # the most maps read at start, oldest workspaces first


def journey_maps(factory: sessionmaker[Session], root: Path) -> int:
    """Read the default view of every journey map (up to :data:`MAX_MAPS`); the number read."""
    done = 0
    with read_transaction(factory) as session:
        for workspace in session.scalars(select(Workspace).order_by(Workspace.created_at)):
            period = periods.choose(None, None, workspace.timezone, journeys_data.MAP_DAYS)
            for journey in maps.list_journeys(session, workspace.id):
                if done >= MAX_MAPS:
                    return done
                try:
                    journeys_data.journey_map(
                        session,
                        root,
                        workspace.id,
                        journey,
                        period,
                        workspace.default_language,
                        "nps",
                    )
                except Exception:  # a map that cannot be read now is read at its first view
                    log.exception("reading journey map %s ahead failed", journey.id)
                done += 1
    return done
