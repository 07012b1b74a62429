"""The loader loop and the upkeep jobs of ingestion."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from cxloop.core.time import utcnow
from cxloop.eventstore.service import events_root
from cxloop.ingest import inbox, loader
from cxloop.jobs.registry import JobContext, LoopContext, job, loop, schedule
from cxloop.models import MessageKey

log = logging.getLogger(__name__)


@loop("ingest.loader")
def run_loader(ctx: LoopContext) -> None:
    """Move the inbox into the event store, a micro-batch at a time, until the worker stops."""
    root = events_root(ctx.settings)
    while not ctx.stop.is_set():
        inbox.written.clear()
        result = loader.load_inbox_once(
            ctx.factory, root, ctx.worker_id, max_events=ctx.settings.loader_batch_events
        )
        if result is None or (result.loaded == 0 and result.duplicates == 0):
            # idle (or another process loads): wake on the next local commit or the interval
            inbox.written.wait(ctx.settings.loader_interval)
        else:
            log.debug("loaded %d events (%d duplicates)", result.loaded, result.duplicates)


@job("ingest.purge_message_ids")
def purge_message_ids(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Forget message ids past the retention window (duplicates are dropped within it)."""
    cutoff = (utcnow() - timedelta(days=ctx.settings.message_id_retention_days)).date()
    ctx.session.execute(
        delete(MessageKey)
        .where(MessageKey.seen_on < cutoff)
        .execution_options(synchronize_session=False)
    )


schedule("ingest.purge_message_ids.hourly", "ingest.purge_message_ids", every=timedelta(hours=1))
