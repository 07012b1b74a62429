"""Named leases: at most one holder at a time across processes, handed on when it expires."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.core.time import utcnow
from cxloop.models import Lease


def holder_id(label: str) -> str:
    """``host:pid:label``: lets a process on the same host see that a holder has died."""
    return f"{socket.gethostname()}:{os.getpid()}:{label}"


def _dead(holder: str) -> bool:
    """True when ``holder`` was a process of this host that no longer runs."""
    host, _, rest = holder.partition(":")
    pid, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or extend the lease ``name`` for ``holder``; False while someone else holds it.

    A lease whose holder was a process of this host that has died is taken at once, so a
    restart after a crash does not wait for the expiry.
    """
    now = utcnow()
    current = session.scalar(select(Lease.holder).where(Lease.name == name))
    if current is not None and current != holder and _dead(current):
        session.execute(
            delete(Lease)
            .where(Lease.name == name, Lease.holder == current)
            .execution_options(synchronize_session=False)
        )
    taken = session.execute(
        update(Lease)
        .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return True
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False  # held by another, and not expired
    return True


def release(session: Session, name: str, holder: str) -> None:
    session.execute(
        delete(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .execution_options(synchronize_session=False)
    )
