"""The job runner against a real database: outbox, retries, dead letters, leases, schedules."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cxloop.accounts.service import record_audit
from cxloop.core.actors import Actor
from cxloop.core.db import transaction
from cxloop.core.time import utcnow
from cxloop.jobs import JobContext, Worker, enqueue, job, registry, retry_dead, schedule
from cxloop.jobs.queue import backoff, claim, requeue_expired
from cxloop.jobs.worker import WorkerOptions
from cxloop.models import AuditEvent, Job, JobStatus

_runs: list[str] = []
_runs_lock = threading.Lock()
_fail_counts: Counter[str] = Counter()


@job("tests.record_run")
def record_run(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Writes one audit row (a database effect) and notes the call (to catch double runs)."""
    with _runs_lock:
        _runs.append(payload["n"])
    record_audit(
        ctx.session, Actor.system(), "tests.ran", workspace_id=None, target_id=str(payload["n"])
    )


@job("tests.fail_times", max_attempts=3)
def fail_times(ctx: JobContext, payload: dict[str, Any]) -> None:
    key = payload["key"]
    _fail_counts[key] += 1
    record_audit(ctx.session, Actor.system(), "tests.partial", workspace_id=None, target_id=key)
    if _fail_counts[key] <= payload["failures"]:
        raise RuntimeError(f"planned failure {_fail_counts[key]}")


schedule(
    "tests.every_minute", "tests.record_run", every=timedelta(minutes=1), payload={"n": "tick"}
)


@pytest.fixture(autouse=True)
def _reset() -> None:
    _runs.clear()
    _fail_counts.clear()


def fast(concurrency: int = 1) -> WorkerOptions:
    return WorkerOptions(
        concurrency=concurrency,
        poll_interval=0.02,
        lease=timedelta(seconds=30),
        backoff_seconds=60,  # retries wait; tests make them due by hand
    )


def audit_targets(factory: sessionmaker[Session], action: str) -> Counter[str]:
    with transaction(factory) as s:
        rows = s.scalars(select(AuditEvent.target_id).where(AuditEvent.action == action)).all()
    return Counter(rows)


def run_skipping_backoff(
    factory: sessionmaker[Session], job_id: uuid.UUID, rounds: int
) -> list[str]:
    """Run the queue ``rounds`` times, making each retry due at once; returns the errors seen."""
    worker = Worker(factory, fast())
    errors = []
    for _ in range(rounds):
        worker.run_until_idle()
        with transaction(factory) as s:
            row = s.get(Job, job_id)
            assert row is not None
            if row.status == JobStatus.QUEUED:
                assert row.last_error is not None
                assert row.run_at >= utcnow() + timedelta(seconds=50), "retry waits its backoff"
                errors.append(row.last_error)
                row.run_at = utcnow()
    return errors


def test_a_job_exists_only_if_its_transaction_commits(session: Session) -> None:
    nested = session.begin_nested()
    enqueue(session, "tests.record_run", {"n": "1"})
    nested.rollback()
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    enqueue(session, "tests.record_run", {"n": "2"})
    assert session.scalar(select(func.count()).select_from(Job)) == 1


def test_unknown_job_names_are_refused(session: Session) -> None:
    with pytest.raises(LookupError, match=r"no job called 'tests\.nope'"):
        enqueue(session, "tests.nope", {})


def test_dedupe_key_enqueues_once(session: Session) -> None:
    first = enqueue(session, "tests.record_run", {"n": "a"}, dedupe_key="k1")
    second = enqueue(session, "tests.record_run", {"n": "b"}, dedupe_key="k1")
    assert first.id == second.id
    assert session.scalar(select(func.count()).select_from(Job)) == 1


def test_worker_runs_a_job_and_commits_its_effects_with_it(
    committing: sessionmaker[Session],
) -> None:
    with transaction(committing) as s:
        job_id = enqueue(s, "tests.record_run", {"n": "x"}).id
    assert Worker(committing, fast()).run_until_idle() == 1
    with transaction(committing) as s:
        done = s.get(Job, job_id)
        assert done is not None
        assert done.status == JobStatus.DONE
        assert done.attempts == 1
        assert done.finished_at is not None
    assert _runs == ["x"]
    assert audit_targets(committing, "tests.ran") == Counter({"x": 1})


def test_delayed_jobs_wait_for_their_time(committing: sessionmaker[Session]) -> None:
    with transaction(committing) as s:
        enqueue(s, "tests.record_run", {"n": "later"}, delay=timedelta(hours=1))
    assert Worker(committing, fast()).run_until_idle() == 0


def test_failures_retry_with_backoff_and_roll_back_partial_effects(
    committing: sessionmaker[Session],
) -> None:
    with transaction(committing) as s:
        job_id = enqueue(s, "tests.fail_times", {"key": "r", "failures": 2}).id
    errors = run_skipping_backoff(committing, job_id, rounds=3)
    assert len(errors) == 2
    assert all("planned failure" in e for e in errors)
    with transaction(committing) as s:
        row = s.get(Job, job_id)
        assert row is not None
        assert row.status == JobStatus.DONE
        assert row.attempts == 3
    # two failed attempts wrote nothing that survived; the third committed once
    assert audit_targets(committing, "tests.partial") == Counter({"r": 1})


def test_jobs_that_keep_failing_go_to_dead_letters_and_can_be_retried(
    committing: sessionmaker[Session],
) -> None:
    with transaction(committing) as s:
        job_id = enqueue(s, "tests.fail_times", {"key": "d", "failures": 99}).id
    run_skipping_backoff(committing, job_id, rounds=5)
    with transaction(committing) as s:
        row = s.get(Job, job_id)
        assert row is not None
        assert row.status == JobStatus.DEAD
        assert row.attempts == 3  # the handler's max_attempts
        assert retry_dead(s, job_id) is not None
    with transaction(committing) as s:
        row = s.get(Job, job_id)
        assert row is not None
        assert (row.status, row.attempts) == (JobStatus.QUEUED, 0)


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    for attempt, base in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0)]:
        delay = backoff(attempt, 2.0).total_seconds()
        assert base <= delay <= base * 1.25
    assert backoff(50, 2.0).total_seconds() <= 3600 * 1.25


def test_a_crashed_workers_job_is_requeued_when_its_lease_expires(
    committing: sessionmaker[Session],
) -> None:
    with transaction(committing) as s:
        job_id = enqueue(s, "tests.record_run", {"n": "orphan"}).id
    with transaction(committing) as s:
        claimed = claim(s, "dead-worker", timedelta(seconds=30))
        assert [j.id for j in claimed] == [job_id]
    # the claiming worker never finishes; a live one finds nothing until the lease runs out
    live = Worker(committing, fast())
    assert live.run_until_idle() == 0
    with transaction(committing) as s:
        row = s.get(Job, job_id)
        assert row is not None
        row.locked_until = utcnow() - timedelta(seconds=1)
    with transaction(committing) as s:
        assert requeue_expired(s) == 1
    assert live.run_until_idle() == 1
    assert _runs == ["orphan"]


def test_a_job_whose_lease_was_taken_over_rolls_back(committing: sessionmaker[Session]) -> None:
    with transaction(committing) as s:
        job_id = enqueue(s, "tests.record_run", {"n": "stolen"}).id
    slow = Worker(committing, fast())
    with transaction(committing) as s:
        claim(s, slow.worker_id, timedelta(seconds=30))
    with transaction(committing) as s:  # another worker took it over meanwhile
        row = s.get(Job, job_id)
        assert row is not None
        row.locked_by = "someone-else"
    slow._execute(job_id)
    assert audit_targets(committing, "tests.ran") == Counter()


def test_a_schedule_enqueues_once_per_slot_across_workers(
    committing: sessionmaker[Session],
) -> None:
    workers = [Worker(committing, fast()) for _ in range(3)]
    for w in workers:
        w.sync_schedules()
    assert sum(w.enqueue_due_schedules() for w in workers) == len(registry.schedules)
    assert sum(w.enqueue_due_schedules() for w in workers) == 0  # next slot is in the future
    workers[0].run_until_idle()
    assert _runs.count("tick") == 1


def test_the_worker_threads_run_jobs_in_the_background(committing: sessionmaker[Session]) -> None:
    with transaction(committing) as s:
        for n in range(20):
            enqueue(s, "tests.record_run", {"n": f"bg{n}"})
    worker = Worker(committing, fast(concurrency=2))
    worker.start()
    try:
        deadline = utcnow() + timedelta(seconds=20)
        while len(_runs) < 21 and utcnow() < deadline:
            threading.Event().wait(0.05)
    finally:
        worker.stop()
    assert sorted(r for r in _runs if r != "tick") == sorted(f"bg{n}" for n in range(20))


def test_many_workers_on_postgresql_never_run_a_job_twice(
    committing: sessionmaker[Session], is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("several concurrent workers need PostgreSQL; SQLite runs one worker")
    total = 300
    with transaction(committing) as s:
        for n in range(total):
            enqueue(s, "tests.record_run", {"n": str(n)})
    workers = [Worker(committing, fast(concurrency=3)) for _ in range(4)]
    for w in workers:
        w.start()
    try:
        deadline = utcnow() + timedelta(seconds=60)
        while len(_runs) < total + 1 and utcnow() < deadline:
            threading.Event().wait(0.05)
    finally:
        for w in workers:
            w.stop()
    runs = Counter(r for r in _runs if r != "tick")  # the schedule may fire too
    assert len(runs) == total, "every job ran"
    assert runs.most_common(1)[0][1] == 1, "no job ran twice"
    effects = audit_targets(committing, "tests.ran")
    effects.pop("tick", None)
    assert len(effects) == total
    assert set(effects.values()) == {1}
    with transaction(committing) as s:
        owners = s.scalars(select(Job.status)).all()
    assert set(owners) == {JobStatus.DONE}


def test_job_ids_are_uuids(session: Session) -> None:
    assert isinstance(enqueue(session, "tests.record_run", {"n": "u"}).id, uuid.UUID)
