import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from cxloop.core.db import make_engine, make_sessionmaker, read_transaction, transaction
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
    ids = [uuid7() for _ in range(2000)]  # several draws of random bytes
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert all(uuid.UUID(str(i)) == i and hash(uuid.UUID(i.hex)) == hash(i) for i in ids)
    assert len(set(ids)) == 2000
    assert len({i.int & ((1 << 62) - 1) for i in ids}) == 2000  # the random parts differ
    assert ids == sorted(ids)  # strictly in creation order, also within one millisecond


def test_a_read_transaction_does_not_block_writers_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    with read_transaction(factory) as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
        with transaction(factory) as writer:  # would wait for busy_timeout, then fail
            writer.execute(text("INSERT INTO t VALUES (1)"))
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0  # its snapshot
    with read_transaction(factory) as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()
