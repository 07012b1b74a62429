"""The worker: threads that claim and run jobs, plus a ticker for schedules and leases."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.core.db import transaction
from cxloop.core.time import utcnow
from cxloop.jobs.queue import claim, enqueue, extend_leases, record_failure, requeue_expired
from cxloop.jobs.registry import JobContext, LoopContext, Registry, registry
from cxloop.models import Job, JobSchedule, JobStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 2
    poll_interval: float = 0.5
    lease: timedelta = timedelta(seconds=300)
    backoff_seconds: float = 2.0


class Worker:
    """Runs jobs from the ``job`` table until :meth:`stop` is called.

    Each job runs in its own transaction together with the row update that marks it done,
    so a job's database effects commit exactly once. The mark is guarded by ``locked_by``:
    if the lease was lost meanwhile, the whole transaction rolls back.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        options: WorkerOptions | None = None,
        jobs: Registry | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings or Settings()
        self.options = options or WorkerOptions()
        self.registry = jobs or registry
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.sync_schedules()
        self._threads = [
            threading.Thread(target=self._run_loop, name=f"cxloop-job-{i}", daemon=True)
            for i in range(self.options.concurrency)
        ]
        self._threads.append(
            threading.Thread(target=self._tick_loop, name="cxloop-job-ticker", daemon=True)
        )
        for name, fn in self.registry.loops.items():
            self._threads.append(
                threading.Thread(
                    target=self._run_service, args=(name, fn), name=f"cxloop-{name}", daemon=True
                )
            )
        for thread in self._threads:
            thread.start()
        log.info("worker %s started with %d threads", self.worker_id, self.options.concurrency)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; wait for running jobs to finish."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    # -- one step at a time (the loops call these; tests call them directly) --------------

    def run_one(self) -> bool:
        """Claim and run one due job. False when none was due."""
        with transaction(self.factory) as session:
            job_ids = [j.id for j in claim(session, self.worker_id, self.options.lease, limit=1)]
        for job_id in job_ids:
            self._execute(job_id)
        return bool(job_ids)

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Run due jobs one after another until none is due; returns how many ran."""
        ran = 0
        while ran < max_jobs and self.run_one():
            ran += 1
        return ran

    def tick(self) -> None:
        """Enqueue due schedules, hand back expired leases, extend our own."""
        with transaction(self.factory) as session:
            extend_leases(session, self.worker_id, self.options.lease)
        with transaction(self.factory) as session:
            count = requeue_expired(session)
            if count:
                log.warning("requeued %d jobs whose worker stopped", count)
        self.enqueue_due_schedules()

    def sync_schedules(self) -> None:
        """Make the ``job_schedule`` table match the registered schedules."""
        with transaction(self.factory) as session:
            existing = {s.name: s for s in session.scalars(select(JobSchedule))}
            for name, definition in self.registry.schedules.items():
                row = existing.get(name)
                seconds = int(definition.every.total_seconds())
                if row is None:
                    try:
                        with session.begin_nested():  # another worker may insert it first
                            session.add(
                                JobSchedule(
                                    name=name,
                                    job_name=definition.job_name,
                                    interval_seconds=seconds,
                                    next_run_at=utcnow(),
                                )
                            )
                    except IntegrityError:
                        pass
                else:
                    row.job_name = definition.job_name
                    row.interval_seconds = seconds

    def enqueue_due_schedules(self) -> int:
        """Enqueue each due schedule once, whichever worker gets there first."""
        enqueued = 0
        now = utcnow()
        with transaction(self.factory) as session:
            due = session.scalars(select(JobSchedule).where(JobSchedule.next_run_at <= now)).all()
        for row in due:
            definition = self.registry.schedules.get(row.name)
            if definition is None:
                continue
            step = timedelta(seconds=row.interval_seconds)
            following = row.next_run_at + step
            if following <= now:  # far behind (worker was down): don't replay every slot
                following = now + step
            with transaction(self.factory) as session:
                won = session.execute(
                    update(JobSchedule)
                    .where(JobSchedule.name == row.name, JobSchedule.next_run_at == row.next_run_at)
                    .values(next_run_at=following, last_run_at=now)
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another worker advanced it first
                enqueue(
                    session,
                    definition.job_name,
                    definition.payload,
                    dedupe_key=f"schedule:{row.name}:{row.next_run_at.isoformat()}",
                )
                enqueued += 1
        return enqueued

    # -- internals -------------------------------------------------------------------------

    def _execute(self, job_id: uuid.UUID) -> None:
        try:
            with transaction(self.factory) as session:
                job = session.get(Job, job_id)
                if job is None or job.locked_by != self.worker_id:
                    return
                definition = self.registry.get(job.name)
                context = JobContext(
                    session=session,
                    job_id=job.id,
                    name=job.name,
                    attempt=job.attempts,
                    workspace_id=job.workspace_id,
                    settings=self.settings,
                )
                definition.handler(context, dict(job.payload))
                done = session.execute(
                    update(Job)
                    .where(
                        Job.id == job_id,
                        Job.locked_by == self.worker_id,
                        Job.status == JobStatus.RUNNING,
                    )
                    .values(
                        status=JobStatus.DONE,
                        finished_at=utcnow(),
                        locked_by=None,
                        locked_until=None,
                        last_error=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    raise _LeaseLost(job_id)
        except _LeaseLost:
            log.warning("job %s: lease lost, its effects were rolled back", job_id)
        except Exception as exc:
            log.exception("job %s failed", job_id)
            error = "".join(traceback.format_exception_only(exc)).strip()
            with transaction(self.factory) as session:
                status = record_failure(
                    session, job_id, self.worker_id, error, self.options.backoff_seconds
                )
            if status == JobStatus.DEAD:
                log.error("job %s moved to dead letters after its last attempt", job_id)

    def _run_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.run_one():
                    self._stop.wait(self.options.poll_interval)
            except Exception:
                log.exception("worker loop error; retrying")
                self._stop.wait(self.options.poll_interval * 4)

    def _run_service(self, name: str, fn: Callable[[LoopContext], None]) -> None:
        context = LoopContext(
            factory=self.factory, settings=self.settings, stop=self._stop, worker_id=self.worker_id
        )
        while not self._stop.is_set():
            try:
                fn(context)
            except Exception:
                log.exception("loop %s failed; restarting it", name)
                self._stop.wait(1.0)
            else:
                return

    def _tick_loop(self) -> None:
        interval = max(0.5, min(5.0, self.options.lease.total_seconds() / 3))
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("worker tick error; retrying")
            self._stop.wait(interval)


class _LeaseLost(Exception):
    pass
