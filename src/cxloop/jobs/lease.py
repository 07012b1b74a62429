"""Named leases: at most one holder at a time across processes, handed on when it expires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.core.time import utcnow
from cxloop.models import Lease


def acquire(session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or extend the lease ``name`` for ``holder``; False while someone else holds it."""
    now = utcnow()
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
