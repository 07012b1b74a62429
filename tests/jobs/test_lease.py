"""Leases: one holder at a time; taken over on expiry or when the holder process is gone."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta

from sqlalchemy.orm import Session

from cxloop.core.time import set_clock, utcnow
from cxloop.jobs import lease

TTL = timedelta(seconds=30)


def test_one_holder_at_a_time(session: Session) -> None:
    me, other = lease.holder_id("a"), lease.holder_id("b")
    assert lease.acquire(session, "x", me, TTL)
    assert lease.acquire(session, "x", me, TTL), "the holder renews"
    assert not lease.acquire(session, "x", other, TTL)
    lease.release(session, "x", me)
    assert lease.acquire(session, "x", other, TTL)


def test_an_expired_lease_is_taken_over(session: Session) -> None:
    assert lease.acquire(session, "x", "elsewhere:1:a", TTL)
    assert not lease.acquire(session, "x", lease.holder_id("b"), TTL)
    later = utcnow() + TTL * 2
    set_clock(lambda: later)
    try:
        assert lease.acquire(session, "x", lease.holder_id("b"), TTL)
    finally:
        set_clock(None)


def test_a_lease_of_a_dead_process_on_this_host_is_taken_at_once(session: Session) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = f"{socket.gethostname()}:{child.stdout.strip()}:loader"
    assert lease.acquire(session, "x", dead, TTL)
    assert lease.acquire(session, "x", lease.holder_id("new"), TTL)
