"""Shared fixtures: one migrated database per run, one rolled-back transaction per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cxloop.app import create_app
from cxloop.config import Settings
from cxloop.core import migrate
from cxloop.core.db import make_engine, make_sessionmaker
from cxloop.core.deps import get_committer, get_read_session, get_reads, get_session
from cxloop.core.groupcommit import Batch
from cxloop.models import Base
from tests.fixtures.databases import check_postgres, fresh_database, postgres_server_url

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_report_header() -> str:
    url = postgres_server_url()
    return f"cxloop test database: {'PostgreSQL (' + url + ')' if url else 'SQLite'}"


@pytest.fixture(scope="session")
def pg_server_url() -> str | None:
    """The PostgreSQL server to test on, or None for SQLite."""
    url = postgres_server_url()
    if url is None:
        if IN_CI and os.environ.get("CXLOOP_REQUIRE_POSTGRES"):
            pytest.exit("CXLOOP_REQUIRE_POSTGRES is set but CXLOOP_TEST_DATABASE_URL is not", 3)
        return None
    problem = check_postgres(url)
    if problem is not None:
        if IN_CI:
            pytest.exit(f"PostgreSQL at {url} is required in CI and does not answer: {problem}", 3)
        pytest.exit(
            f"CXLOOP_TEST_DATABASE_URL={url} does not answer ({problem}). Start PostgreSQL or "
            "unset the variable to test on SQLite.",
            3,
        )
    return url


@pytest.fixture(scope="session")
def database_url(
    pg_server_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with fresh_database(pg_server_url, tmp_path_factory.mktemp("db"), "main") as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    ``commit()`` in code under test only releases a savepoint, so nothing leaks between tests.
    """
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def committing(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Real commits, for code that opens its own transactions (worker, CLI); wiped afterwards."""
    yield make_sessionmaker(engine)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # pages read what a test just changed: nothing kept between requests
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        survey_page_cache_seconds=0,
        dashboard_stale_seconds=0,
    )


@pytest.fixture
def app(settings: Settings, session: Session) -> FastAPI:
    app = create_app(settings)

    def override() -> Iterator[Session]:
        # Same contract as the real dependency, on a savepoint: a failed request undoes only
        # its own writes, never what the test set up before it.
        request_tx = session.begin_nested()
        try:
            yield session
            request_tx.commit()
        except BaseException:
            request_tx.rollback()
            raise

    def read_override() -> Session:
        return session  # what a request's committed changes left, as the real one sees it

    app.dependency_overrides[get_session] = override
    app.dependency_overrides[get_read_session] = read_override
    app.dependency_overrides[get_reads] = lambda: lambda: nullcontext(session)
    app.dependency_overrides[get_committer] = lambda: SessionCommitter(session)
    return app


class SessionCommitter:
    """The group committer's contract on the test's session: each change in its own
    savepoint, its error to its caller (the real one is tested in tests/core)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def run(self, apply: Callable[[Session], T]) -> T:
        with self.session.begin_nested():
            return apply(self.session)

    def run_batched(self, batch: Batch[Any, T], item: object) -> T:
        with self.session.begin_nested():
            outcome = batch(self.session, [item])[0]
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

    async def run_batched_async(self, batch: Batch[Any, T], item: object) -> T:
        return self.run_batched(batch, item)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    # Not entered as a context manager: the lifespan (which builds a real engine) stays off and
    # every request shares the test's rolled-back session.
    return TestClient(app, raise_server_exceptions=False)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(
            [
                s
                for s in self.statements
                if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
            ]
        )


@pytest.fixture
def queries(engine: Engine) -> Iterator[QueryCounter]:
    """Counts the SQL statements the test runs (list endpoints must not grow with rows)."""
    counter = QueryCounter()

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield counter
    event.remove(engine, "before_cursor_execute", record)


pytest_plugins = ["tests.fixtures.ingest", "tests.fixtures.mail", "tests.fixtures.browser"]
