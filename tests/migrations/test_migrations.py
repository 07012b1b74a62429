"""Migrations run up, down and up again on a fresh database, and match the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from cxloop.core import migrate
from cxloop.core.db import make_engine
from cxloop.models import Base
from tests.fixtures.databases import fresh_database


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_up_down_up_leaves_the_schema_of_the_models(
    pg_server_url: str | None, tmp_path: Path
) -> None:
    with fresh_database(pg_server_url, tmp_path, "mig") as url:
        migrate.upgrade(url)
        assert _tables(url) == set(Base.metadata.tables)
        migrate.downgrade(url, "base")
        assert _tables(url) == set()
        migrate.upgrade(url)
        assert _tables(url) == set(Base.metadata.tables)
        migrate.check(url)  # raises when autogenerate would find a difference


def test_every_revision_steps_down_and_up_one_at_a_time(
    pg_server_url: str | None, tmp_path: Path
) -> None:
    revisions = list(migrate.script_directory().walk_revisions())
    with fresh_database(pg_server_url, tmp_path, "step") as url:
        migrate.upgrade(url)
        for _ in revisions:
            migrate.downgrade(url, "-1")
        for _ in revisions:
            migrate.upgrade(url, "+1")
        assert _tables(url) == set(Base.metadata.tables)


def test_the_test_database_has_no_drift(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
    finally:
        engine.dispose()
    assert diff == []


def test_revision_files_have_dated_names() -> None:
    versions = Path(migrate.MIGRATIONS_DIR) / "versions"
    names = [p.name for p in versions.glob("*.py")]
    assert names
    for name in names:
        assert name[:4].isdigit()
        assert name[4] == "_"


def test_the_newest_revision_read_off_the_file_names_is_alembics_head() -> None:
    # upgrade() skips Alembic when the database records this revision: it must be the head
    assert migrate.script_directory().get_heads() == [migrate.newest_revision()]


def test_a_database_at_the_newest_revision_is_not_migrated_again(
    pg_server_url: str | None, tmp_path: Path
) -> None:
    with fresh_database(pg_server_url, tmp_path, "mig") as url:
        assert migrate.current_revisions(url) == set()
        migrate.upgrade(url)
        assert migrate.current_revisions(url) == {migrate.newest_revision()}
        migrate.upgrade(url)  # a no-op now: one query, no Alembic
        assert _tables(url) == set(Base.metadata.tables)
        migrate.downgrade(url, "-1")
        assert migrate.current_revisions(url) != {migrate.newest_revision()}
        migrate.upgrade(url)
        assert migrate.current_revisions(url) == {migrate.newest_revision()}
