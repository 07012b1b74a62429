"""Background upkeep of the event store: compaction, the customer-event index, removal of
unused files."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from cxloop.core.db import read_transaction
from cxloop.eventstore import index, service
from cxloop.jobs.registry import JobContext, LoopContext, job, loop, schedule

log = logging.getLogger(__name__)


@job("eventstore.compact_files")
def compact_files(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Merge the small files of busy partitions (one per micro-batch) into one each."""
    root = service.events_root(ctx.settings)
    for workspace_id, period in service.compaction_candidates(
        ctx.session, ctx.settings.compaction_min_files
    ):
        replaced = service.compact_partition(
            ctx.session, workspace_id, period, root, max_rows=ctx.settings.compaction_max_rows
        )
        log.info("compacted %d files of %s/%s", replaced, workspace_id, period)


@job("eventstore.collect_garbage")
def collect_garbage(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete files that compaction replaced, and files a crashed loader left behind."""
    service.collect_garbage(ctx.session, service.events_root(ctx.settings))


@loop("eventstore.indexer")
def run_indexer(ctx: LoopContext) -> None:
    """(Re)build the customer-event index of each workspace whose events outgrew it. A loop,
    not a job: a job's transaction would hold SQLite's write lock while the file is written."""
    root = service.events_root(ctx.settings)
    while not ctx.stop.wait(ctx.settings.index_interval):
        with read_transaction(ctx.factory) as session:
            workspaces = index.workspaces(session)
        for workspace_id in workspaces:
            try:
                index.refresh(ctx.factory, workspace_id, root)
            except Exception:
                # one workspace's failure (a file gone, the disk full) stops no other
                log.exception("index of %s not built", workspace_id)


schedule(
    "eventstore.compact_files.minutely", "eventstore.compact_files", every=timedelta(minutes=1)
)
schedule(
    "eventstore.collect_garbage.periodic", "eventstore.collect_garbage", every=timedelta(minutes=10)
)
