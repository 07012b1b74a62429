from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from cxloop.core.ids import uuid7
from cxloop.models import Workspace
from tests.fixtures.factories import make_workspace


def test_timestamps_come_back_aware_in_utc(session: Session) -> None:
    workspace = make_workspace(session)
    bangkok = timezone(timedelta(hours=7))
    workspace.created_at = datetime(2026, 1, 2, 10, 0, tzinfo=bangkok)
    session.flush()
    session.expire_all()
    loaded = session.scalars(select(Workspace).where(Workspace.id == workspace.id)).one()
    assert loaded.created_at == datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session: Session) -> None:
    workspace = make_workspace(session)
    workspace.created_at = datetime(2026, 1, 2, 10, 0)  # noqa: DTZ001 (the point of the test)
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_sqlite_runs_with_wal_and_foreign_keys(session: Session, is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("SQLite pragmas only apply to SQLite")
    assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_uuid7_is_time_ordered_and_version_7() -> None:
    ids = [uuid7() for _ in range(200)]
    assert all(i.version == 7 for i in ids)
    assert len(set(ids)) == 200
    assert ids == sorted(ids)  # strictly in creation order, also within one millisecond
