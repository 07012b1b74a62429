"""Database kit: declarative base, column types, engines and sessions for SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, MetaData, Table, Uuid, any_, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, Connection, Dialect, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from cxloop.core.ids import uuid7
from cxloop.core.time import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware, on SQLite too.

    Naive datetimes are refused: a naive value is a bug waiting to shift by the server's zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        # SQLite stores text; a fixed naive-UTC form keeps it sortable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSONType,
    }


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def normalise_url(url: str) -> URL:
    """Parse a database URL; bare ``postgresql://`` means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a commit survives power loss, which "acknowledged means stored" needs.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # 64 MB of page cache: the message-id register and identities are large random-access
    # B-trees, and a bulk load touches them all over
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite's implicit transactions break SAVEPOINT, so cxloop emits BEGIN itself, and
    # IMMEDIATE: a deferred transaction that reads and then writes fails at once with
    # "database is locked" when another writer committed in between (WAL cannot upgrade a
    # stale snapshot); taking the write lock up front makes it wait for busy_timeout instead.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")  # a reader in WAL mode: no lock, sees one snapshot
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "cxloop_read_only"


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """Build an engine with the settings cxloop needs on each backend."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _disable_pysqlite_begin)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        parsed, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


_readers: weakref.WeakKeyDictionary[sessionmaker[Session], Engine] = weakref.WeakKeyDictionary()


def _reader_of(factory: sessionmaker[Session]) -> Engine:
    """The factory's engine with the read-only option (made once per factory)."""
    found = _readers.get(factory)
    if found is None:
        found = _readers[factory] = factory.kw["bind"].execution_options(**{READ_ONLY: True})
    return found


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that only reads: on SQLite it takes no write lock (it would otherwise,
    see ``_sqlite_begin``), so long reads do not keep writers waiting. Rolled back at the end.
    """
    # bound to the engine with the read-only option: the connection is taken only at the
    # first query, so a request answered from caches never checks one out
    session = factory(bind=_reader_of(factory))
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The one transaction owner outside requests: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def bulk_write(
    session: Session,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: str | None = None,
    slice_size: int = 5000,
) -> None:
    """INSERT ``rows`` into ``table`` (or, with ``key``, UPDATE the rows whose ``key`` column
    matches) with one driver-level executemany.

    For the tens of thousands of rows of a load batch: values go through the same column
    types as the ORM would use (UUIDs, UTC times, JSON), but without the ORM's per-row
    bookkeeping, which costs several times the database's own work.
    """
    # slices bound the memory a batch of 100,000 rows would otherwise take at once
    for part in _slices(rows, slice_size):
        write_rows(session.connection(), table, part, key=key)


def _slices(rows: Iterable[Any], size: int) -> Iterator[tuple[Any, ...]]:
    part: list[Any] = []
    for row in rows:
        part.append(row)
        if len(part) >= size:
            yield tuple(part)
            part = []
    if part:
        yield tuple(part)


# INSERTs of at least this many rows go to PostgreSQL as a COPY
COPY_ROWS = 200


def write_rows(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str | None = None,
) -> None:
    """:func:`bulk_write` on a plain connection (for threads that own one)."""
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    names = list(rows[0].keys())
    processors = {n: _fast_processor(table.c[n].type, dialect) for n in names}
    named = dialect.paramstyle in ("pyformat", "named")

    def mark(name: str) -> str:
        if dialect.paramstyle == "pyformat":
            return f"%({name})s"
        return f":{name}" if named else "?"

    values = [n for n in names if n != key]
    if key is None:
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
            f"VALUES ({', '.join(mark(n) for n in names)})"
        )
        order = names
    else:
        sets = ", ".join(f"{quote(n)} = {mark(n)}" for n in values)
        sql = f"UPDATE {quote(table.name)} SET {sets} WHERE {quote(key)} = {mark(key)}"  # noqa: S608
        order = [*values, key]

    pairs = [(name, processors[name]) for name in order]
    if key is None and dialect.name == "postgresql" and len(rows) >= COPY_ROWS:
        # COPY: PostgreSQL parses the rows as one stream, not one INSERT each
        columns = ", ".join(quote(n) for n in names)
        raw: Any = connection.connection.dbapi_connection  # psycopg's: it has copy()
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[n] if p is None else p(row[n]) for n, p in pairs])
        return

    def convert(row: Mapping[str, Any]) -> Any:
        if named:
            return {n: row[n] if p is None else p(row[n]) for n, p in pairs}
        return tuple([row[n] if p is None else p(row[n]) for n, p in pairs])

    connection.exec_driver_sql(sql, [convert(r) for r in rows])


def _sqlite_time(value: datetime | None) -> str | None:
    # the text UTCDateTime stores on SQLite, made by C code (isoformat), not a format string
    if value is None:
        return None
    if value.tzinfo is not UTC:  # most times are already UTC: no conversion then
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:-6]  # without its "+00:00"


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _uuid_hex(value: uuid.UUID | None) -> str | None:
    return None if value is None else value.hex


def _repeats(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` that gives the same object's text again without making it again: a batch's
    rows share a few values (the workspace, the time it was written)."""
    last: list[Any] = [None, None]

    def again(value: Any) -> Any:
        if value is last[0] and value is not None:
            return last[1]
        last[0], last[1] = value, convert(value)
        return last[1]

    return again


def _fast_processor(column_type: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The bind processor of a column type, with C-speed versions of the three that bulk
    loads spend most of their time in (times, UUIDs and JSON on SQLite; JSON anywhere)."""
    if isinstance(column_type, JSON):
        return _json_text
    if dialect.name == "sqlite":
        if isinstance(column_type, UTCDateTime):
            return _repeats(_sqlite_time)
        if isinstance(column_type, Uuid):
            return _repeats(_uuid_hex)
    processor: Callable[[Any], Any] | None = column_type._cached_bind_processor(dialect)
    return processor


def among(
    session: Session, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` for thousands of values.

    On PostgreSQL the values go as one array (``= ANY(:array)``): an ``IN`` list of 2,000
    parameters becomes a prepared statement with a generic plan that may scan the table.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
