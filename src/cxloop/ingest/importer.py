"""Bulk import of historical events: Segment-shaped JSON lines, CSV with a column mapping,
and Parquet.

Rows go through the same validation as the API and the same pipeline as the loader
(deduplication, identity resolution, event files), a chunk per transaction. A row without a
``messageId`` gets one derived from its content, so importing the same file twice adds
nothing. Rejected rows are written, with their line and reason, to a file beside the input.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Literal

import duckdb
import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session, sessionmaker

from cxloop.core.db import transaction
from cxloop.core.errors import InvalidInput
from cxloop.core.time import utcnow
from cxloop.ingest import loader, pipeline, spec, sqlnorm
from cxloop.jobs import lease
from cxloop.profiles import service as profiles
from cxloop.profiles import stats as profile_stats

Format = Literal["jsonl", "csv", "parquet"]
# what an import does once every row is read: load the chunk in hand, then recount profiles
Stage = Literal["last chunk", "statistics"]
# Segment fields a CSV/Parquet column may map to directly; others go under a dotted path.
TOP_FIELDS = {
    "type",
    "event",
    "name",
    "userId",
    "anonymousId",
    "messageId",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "previousId",
    "groupId",
    "channel",
}
NESTED = ("properties", "traits", "context")

_json = msgspec.json.Encoder()
# DuckDB memory of an import: the chunk loading, those checked beside it and a file's write.
# Writing Parquet's version 2 encodings takes some memory beside it: 528 MB keeps a 5 million
# event import at ~950 MiB in all (576 MB: ~985 MiB), as fast (bench/ingest.py).
IMPORT_MEMORY = "528MB"
# Chunks checked ahead of the one loading. The first chunks create most profiles and load
# slowly; later ones load faster than they are checked: with three ahead, the check keeps
# busy through the first ones. Each is a staged table more in DuckDB's memory.
CHECK_AHEAD = 3


@dataclass
class ImportReport:
    rows: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    files: int = 0
    rejected_path: Path | None = None


@dataclass
class Chunk:
    """Whole lines of JSON (each ending in a newline), kept as one block of bytes: a list of
    200,000 small bytes objects would cost several times the memory and time."""

    data: bytes
    lines: int
    first_line: int = 1  # line number of the first line in the input file
    # explicit numbers of the input rows (CSV, Parquet); None: first_line, first_line + 1, ...
    numbers: list[int] | None = None

    def number(self, index: int) -> int:
        return self.numbers[index] if self.numbers is not None else self.first_line + index


def join(chunks: list[Chunk]) -> Chunk:
    if len(chunks) == 1:
        return chunks[0]
    explicit = any(c.numbers is not None for c in chunks)
    numbers = [c.number(i) for c in chunks for i in range(c.lines)] if explicit else None
    return Chunk(
        b"".join(c.data for c in chunks),
        sum(c.lines for c in chunks),
        chunks[0].first_line,
        numbers,
    )


def detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InvalidInput("format", f"cannot tell the format of {path.name}; give --format")


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``column=field`` pairs (``email=traits.email``, ``ts=timestamp``)."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, target = item.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise InvalidInput("map", f"{item!r} is not COLUMN=FIELD (e.g. email=traits.email)")
        target = target.strip()
        head = target.split(".", 1)[0]
        if target not in TOP_FIELDS and (head not in NESTED or "." not in target):
            raise InvalidInput(
                "map",
                f"{target!r} is not a Segment field: use one of {', '.join(sorted(TOP_FIELDS))} "
                "or properties.X, traits.X, context.X",
            )
        mapping[column.strip()] = target
    return mapping


# -- readers: chunks of JSON lines with their line numbers ----------------------------------


def read_jsonl(handle: BinaryIO, chunk_bytes: int = 16 << 20) -> Iterator[Chunk]:
    first = 1
    while True:
        data = handle.read(chunk_bytes)
        if not data:
            return
        if not data.endswith(b"\n"):
            data += handle.readline()  # up to the end of the line
            if not data.endswith(b"\n"):
                data += b"\n"
        count = data.count(b"\n")
        yield Chunk(data, count, first)
        first += count


def _scalar(text: str) -> Any:
    """CSV cells are text; numbers and booleans become numbers and booleans."""
    if text == "":
        return None
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return text


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def record_to_message(
    record: dict[str, Any],
    mapping: dict[str, str],
    default_type: str,
    default_event: str | None = None,
) -> dict[str, Any]:
    """A flat record as a Segment message: mapped columns, dotted names, the rest as
    properties."""
    message: dict[str, Any] = {}
    for column, value in record.items():
        if value is None:
            continue
        target = mapping.get(column, column)
        if target in TOP_FIELDS:
            message[target] = value if target not in ("userId", "anonymousId") else str(value)
            continue
        head, _, rest = target.partition(".")
        if head in NESTED and rest:
            node = message.setdefault(head, {})
            parts = rest.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        elif head in NESTED and isinstance(value, dict):
            message.setdefault(head, {}).update(value)
        else:
            message.setdefault("properties", {})[column] = value
    message.setdefault("type", default_type)
    if default_event and message["type"] == "track":
        message.setdefault("event", default_event)
    return message


def _records_to_chunks(
    records: Iterator[tuple[int, dict[str, Any]]],
    mapping: dict[str, str],
    default_type: str,
    default_event: str | None,
    size: int = 20_000,
) -> Iterator[Chunk]:
    numbers: list[int] = []
    lines: list[bytes] = []
    for number, record in records:
        numbers.append(number)
        message = record_to_message(record, mapping, default_type, default_event)
        lines.append(_json.encode(_plain(message)))
        if len(lines) >= size:
            yield Chunk(b"\n".join(lines) + b"\n", len(lines), numbers[0], numbers)
            numbers, lines = [], []
    if lines:
        yield Chunk(b"\n".join(lines) + b"\n", len(lines), numbers[0], numbers)


def read_csv(
    handle: BinaryIO, mapping: dict[str, str], default_type: str, default_event: str | None = None
) -> Iterator[Chunk]:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        for record in reader:
            cells = {k: _scalar(v) for k, v in record.items() if k is not None and v is not None}
            yield reader.line_num, cells

    yield from _records_to_chunks(records(), mapping, default_type, default_event)
    text.detach()


def parquet_rows(path: Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


def read_parquet(
    path: Path, mapping: dict[str, str], default_type: str, default_event: str | None = None
) -> Iterator[Chunk]:
    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        number = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=20_000):
            for record in batch.to_pylist():
                number += 1
                yield number, record

    yield from _records_to_chunks(records(), mapping, default_type, default_event)


# -- the import ------------------------------------------------------------------------------


class LoaderBusy(Exception):
    """Another import holds the loader lease."""


def run(
    factory: sessionmaker[Session],
    workspace_id: uuid.UUID,
    chunks: Iterator[Chunk],
    root: Path,
    *,
    rejected_path: Path,
    temp_dir: Path,
    register_days: int = 7,
    chunk_size: int = 200_000,
    progress: Callable[[int], None] | None = None,
    stage: Callable[[Stage], None] | None = None,
) -> ImportReport:
    """Validate and load the rows of ``chunks``, one transaction per ``chunk_size`` rows;
    rejected rows go to ``rejected_path`` with their line number and reason. ``progress``
    hears the rows read so far; ``stage`` hears when the work after the last row begins.

    The import holds the loader lease from start to end (the live loader waits; the inbox
    keeps what arrives meanwhile), so identities can be remembered across chunks. Profile
    statistics are computed once at the end from the event store.
    """
    job = _Import(factory, workspace_id, root, rejected_path, temp_dir, register_days)
    checker = _Checker(job.con, workspace_id, temp_dir, job.received_at)
    # the next chunks are parsed and checked (DuckDB, without the GIL) while this one loads
    # (identity resolution and the operational store: mostly Python on one core)
    pool = ThreadPoolExecutor(1, thread_name_prefix="cxloop-import-check")
    ahead: deque[Future[Checked]] = deque()
    pending: list[Chunk] = []
    waiting = read = 0

    def hand_over(chunk: Chunk) -> None:
        ahead.append(pool.submit(checker, chunk))
        if len(ahead) > CHECK_AHEAD:
            job.load(ahead.popleft().result())

    try:
        for chunk in chunks:
            pending.append(chunk)
            waiting += chunk.lines
            read += chunk.lines
            if waiting >= chunk_size:
                hand_over(join(pending))
                pending, waiting = [], 0
            if progress is not None:
                progress(read)
        if pending:
            hand_over(join(pending))
        if stage is not None:
            stage("last chunk")
        while ahead:
            job.load(ahead.popleft().result())
        if stage is not None:
            stage("statistics")
        # the import's DuckDB memory goes back before the statistics read the new files
        checker.close()
        job.finish()
        if progress is not None:
            progress(job.report.rows)
    finally:
        for future in ahead:
            future.cancel()
        pool.shutdown(wait=True)
        checker.close()
        job.close()
    return job.report


@dataclass
class Checked:
    """A chunk parsed and judged: its valid messages, normalised, and the rejected rows as
    the lines of the rejected-rows file. The chunk's text is not kept: several chunks are
    checked ahead of the one loading, and a big import must stay small."""

    rows: int  # rows read (blank lines are none)
    staged: str  # a DuckDB table of the valid messages as pipeline.staged_sql gives them
    rejected: list[bytes]  # one JSON line per rejected row


def _rejected_lines(chunk: Chunk, bad: pa.Table) -> list[bytes]:
    """The rejected-rows file's lines for ``bad`` (seq, loc, reason; seq is the row's index
    in the chunk plus one): the line number, where, why and the row's text."""
    rows = bad.to_pylist()
    if not rows:
        return []
    lines = chunk.data.split(b"\n")
    out = []
    for row in rows:
        index = row["seq"] - 1
        entry = {
            "line": chunk.number(index),
            "loc": [row["loc"]] if row["loc"] else [],
            "error": row["reason"],
            "row": lines[index][:4000].rstrip(b"\r").decode("utf-8", "replace"),
        }
        out.append(_json.encode(entry) + b"\n")
    return out


class _Checker:
    """Parses, checks and stages chunks (one thread at a time) on a connection of its own to
    the import's DuckDB database: the staged rows stay in a table there for the load, not
    copied out and in again."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        workspace_id: uuid.UUID,
        temp_dir: Path,
        received_at: str,
    ) -> None:
        self.workspace_id = workspace_id
        self.temp_dir = temp_dir
        self.received_at = received_at
        self.con = con.cursor()  # its own temporary tables, the same database
        self.made = 0

    def __call__(self, chunk: Chunk) -> Checked:
        con = self.con
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        path = self.temp_dir / f"import-{uuid.uuid4().hex}.jsonl"
        try:
            path.write_bytes(chunk.data)
            sqlnorm.parse_file(con, str(path))
            # DuckDB's reader skips blank lines and turns broken ones into empty rows: then
            # the row numbers no longer match the lines, and each line is read on its own
            rows = sqlnorm.check(con)
            parsed = rows == chunk.lines and sqlnorm.empty_rows(con) == 0
            parsed = parsed and sqlnorm.longest(con) <= spec.MAX_EVENT_BYTES - 2048
        finally:
            path.unlink(missing_ok=True)
        if not parsed:
            sqlnorm.discard(con)
            lines = chunk.data.split(b"\n")[: chunk.lines]
            con.register("lines", loader.lines_table([x.rstrip(b"\r") for x in lines]))
            sqlnorm.parse_lines(con, "lines", skip_blank=True)
            rows = sqlnorm.check(con)
            con.unregister("lines")
        sqlnorm.finish(con, "norm", "bad", self.received_at)
        self.made += 1
        staged = f"staged_{self.made}"  # not temporary: the loading connection reads it
        try:
            con.execute(
                f"CREATE TABLE {staged} AS {pipeline.staged_sql('norm', self.workspace_id)}"
            ).fetchall()
            bad = con.sql("SELECT seq, loc, reason FROM bad ORDER BY seq").to_arrow_table()
        finally:
            con.execute("DROP VIEW norm")
            con.execute("DROP TABLE bad")
            sqlnorm.discard(con)
        assert bad is not None  # noqa: S101 (a SELECT always yields a table)
        return Checked(rows, staged, _rejected_lines(chunk, bad))

    def close(self) -> None:
        self.con.close()


class _Import:
    def __init__(
        self,
        factory: sessionmaker[Session],
        workspace_id: uuid.UUID,
        root: Path,
        rejected_path: Path,
        temp_dir: Path,
        register_days: int,
    ) -> None:
        self.factory = factory
        self.workspace_id = workspace_id
        self.root = root
        self.rejected_path = rejected_path
        self.temp_dir = temp_dir
        self.report = ImportReport(rejected_path=rejected_path)
        now = utcnow()
        self.received_at = now.isoformat()
        # messages of the de-duplication window also go into the register the API uses
        self.register_since = now - timedelta(days=register_days)
        self.holder = lease.holder_id(f"import-{uuid.uuid4().hex[:8]}")
        self.cache = profiles.ResolveCache()
        self.rejected: BinaryIO | None = None
        self.holding = False
        # one DuckDB connection for the whole import: it remembers resolved identifier pairs
        # one DuckDB thread: the import's own threads (checking, loading, writing files)
        # already keep the cores busy, and more only contend with them
        self.con = pipeline.connect(temp_dir, memory_limit=IMPORT_MEMORY, threads=1)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="cxloop-import-write")
        # pyarrow imports pandas, where it is installed, the first time it converts Python
        # values (the loader's first identity table): a quarter of a second that the writer,
        # idle until the first chunk is checked, spends now instead of the loader
        self.writer.submit(pa.array, [0])

    def load(self, checked: Checked) -> None:
        con = self.con
        self.report.rows += checked.rows
        self._write_rejected(checked)
        try:
            with transaction(self.factory) as session:
                self._hold(session)
                plan = pipeline.prepare(
                    session,
                    con,
                    self.workspace_id,
                    self.root,
                    checked.staged,
                    cache=self.cache,
                    register_since=self.register_since,
                )
                # the files are written (DuckDB, without the GIL) while the profiles are
                # (Python and the operational store); their commit waits for both
                writing = self.writer.submit(pipeline.write, con, plan)
                try:
                    pipeline.commit_profiles(session, plan, cache=self.cache)
                finally:
                    wait([writing])
                writing.result()
                pipeline.commit_files(session, plan)
        finally:
            con.execute(f"DROP TABLE IF EXISTS {checked.staged}").fetchall()  # not yet taken
            pipeline.release(con)
        result = plan.result
        self.report.loaded += result.loaded
        self.report.duplicates += result.duplicates
        self.report.files += result.files

    def _write_rejected(self, checked: Checked) -> None:
        if not checked.rejected:
            return
        if self.rejected is None:
            self.rejected = self.rejected_path.open("wb")
        self.rejected.writelines(checked.rejected)
        self.report.rejected += len(checked.rejected)
        checked.rejected = []

    def _hold(self, session: Session) -> None:
        if not lease.acquire(session, loader.LEASE_NAME, self.holder, loader.LEASE_TTL):
            raise LoaderBusy(
                "another import is loading events; wait for it to finish and run this again"
            )
        self.holding = True

    def finish(self) -> None:
        self.writer.shutdown(wait=True)
        self.con.close()
        self.cache.owners.clear()
        self.cache.profiles.clear()
        with transaction(self.factory) as session:
            if self.cache.touched:
                profile_stats.recompute_stats(
                    session, self.workspace_id, self.root, self.cache.touched
                )
            if self.holding:
                lease.release(session, loader.LEASE_NAME, self.holder)
                self.holding = False
        if self.report.rejected == 0:
            self.report.rejected_path = None

    def close(self) -> None:
        self.writer.shutdown(wait=True)
        self.con.close()
        if self.rejected is not None:
            self.rejected.close()
        if self.holding:  # the import failed: hand the loader back at once
            with transaction(self.factory) as session:
                lease.release(session, loader.LEASE_NAME, self.holder)
