"""`cxloop import events`: JSON lines, CSV with a mapping and Parquet; rejected rows;
re-running adds nothing; and the set-based checks agree with the API's."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cxloop.analytics import events as store
from cxloop.cli.main import app
from cxloop.core.db import transaction
from cxloop.eventstore import service as eventstore
from cxloop.ingest import importer, loader, pipeline, spec, sqlnorm
from cxloop.ingest.loader import lines_table
from cxloop.jobs import lease
from cxloop.models import Profile, Workspace
from cxloop.profiles import service as profiles

runner = CliRunner()


@pytest.fixture
def env(
    committing: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> sessionmaker[Session]:
    monkeypatch.setenv("CXLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(tmp_path / "data"))
    assert runner.invoke(app, ["workspace", "create", "shop"]).exit_code == 0
    return committing


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def stored(factory: sessionmaker[Session], tmp_path: Path) -> list[dict[str, Any]]:
    with transaction(factory) as session:
        workspace = session.scalars(select(Workspace)).one()
        files = eventstore.current_files(session, workspace.id, tmp_path / "data" / "events")
        mapping = profiles.merge_map(session, workspace.id)
    return store.query(files, mapping, "SELECT * FROM events ORDER BY timestamp")


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_bytes(
        b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in rows)
    )
    return path


GOOD = [
    {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "an@shop.vn"},
        "timestamp": "2026-03-01T01:00:00Z",
    },
    {
        "type": "track",
        "userId": "u1",
        "event": "Order Completed",
        "properties": {"total": 12.5},
        "timestamp": "2026-03-02T01:00:00Z",
    },
    {
        "type": "page",
        "anonymousId": "a1",
        "name": "Home",
        "properties": {"url": "https://shop.vn/"},
        "timestamp": "2026-03-02T02:00:00Z",
    },
]


def test_json_lines_import_rejects_bad_rows_and_keeps_good_ones(
    env: sessionmaker[Session], tmp_path: Path
) -> None:
    rows: list[Any] = [*GOOD, b"", b"{broken", {"type": "track", "userId": "u2"}, {"type": "page"}]
    source = write_jsonl(tmp_path / "events.jsonl", rows)
    result = cli("import", "events", str(source), "--workspace", "shop")
    assert "3 events imported" in result.stdout
    assert "3 rejected" in result.stdout
    assert "(6 rows read)" in result.stdout
    rejected = [
        orjson.loads(x)
        for x in (tmp_path / "events.jsonl.rejected.jsonl").read_bytes().splitlines()
    ]
    assert [(r["line"], r["loc"], r["error"]) for r in rejected] == [
        (5, [], "not valid JSON"),  # line 4 is blank: not a row
        (6, ["event"], "required for track: the name of the event"),
        (7, ["userId"], "every message needs a userId or an anonymousId"),
    ]
    events = stored(env, tmp_path)
    assert [e["type"] for e in events] == ["identify", "track", "page"]
    assert events[2]["page_url"] == "https://shop.vn/"
    assert events[2]["channel"] == "web"
    with transaction(env) as session:
        counts = sorted(p.event_count for p in session.scalars(select(Profile)))
    assert counts == [1, 2], "statistics are set at the end of an import"


def test_running_the_same_import_again_adds_nothing(
    env: sessionmaker[Session], tmp_path: Path
) -> None:
    no_ids = [dict(r) for r in GOOD]  # no messageId: ids come from the content
    source = write_jsonl(tmp_path / "again.jsonl", no_ids)
    cli("import", "events", str(source), "--workspace", "shop")
    result = cli("import", "events", str(source), "--workspace", "shop")
    assert "0 events imported, 3 already present" in result.stdout
    assert len(stored(env, tmp_path)) == 3


def test_csv_with_a_column_mapping(env: sessionmaker[Session], tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer", "mail", "when", "total", "note"])
        writer.writerow(
            ["c1", "C1@shop.vn", "2026-05-01T10:00:00+07:00", "250000", "giao hàng nhanh"]
        )
        writer.writerow(["c2", "c2@shop.vn", "not a date", "10", ""])
    result = cli(
        "import",
        "events",
        str(source),
        "--workspace",
        "shop",
        "--type",
        "track",
        "--event",
        "Order Completed",
        "--map",
        "customer=userId",
        "--map",
        "mail=context.traits.email",
        "--map",
        "when=timestamp",
        "--map",
        "note=properties.note",
    )
    assert "1 events imported" in result.stdout
    assert "1 rejected" in result.stdout
    (event,) = stored(env, tmp_path)
    assert event["user_id"] == "c1"
    assert orjson.loads(event["properties"]) == {"total": 250000, "note": "giao hàng nhanh"}
    assert event["timestamp"] == datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
    bad = orjson.loads((tmp_path / "orders.csv.rejected.jsonl").read_bytes())
    assert (bad["line"], bad["loc"]) == (3, ["timestamp"])


def test_csv_mapping_errors_name_the_field(env: sessionmaker[Session], tmp_path: Path) -> None:
    source = tmp_path / "x.csv"
    source.write_text("a\n1\n")
    result = runner.invoke(app, ["import", "events", str(source), "-w", "shop", "--map", "a=b"])
    assert result.exit_code == 2
    assert "not a Segment field" in result.output


def test_parquet_import(env: sessionmaker[Session], tmp_path: Path) -> None:
    source = tmp_path / "events.parquet"
    table = pa.table(
        {
            "userId": ["p1", "p2"],
            "event": ["Signed Up", "Signed Up"],
            "timestamp": [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)],
            "plan": ["free", "pro"],
        }
    )
    pq.write_table(table, source)
    result = cli("import", "events", str(source), "--workspace", "shop")
    assert "2 events imported" in result.stdout
    events = stored(env, tmp_path)
    assert [orjson.loads(e["properties"]) for e in events] == [{"plan": "free"}, {"plan": "pro"}]


# -- the set-based checks agree with the API's ---------------------------------------------

SAMPLES: list[Any] = [
    *GOOD,
    {
        "type": "TRACK",
        "userId": 7,
        "event": " Clicked ",
        "context": {"library": {"name": "analytics.js"}},
    },
    {"type": "screen", "anonymousId": "a", "name": "Cart", "channel": "Mobile"},
    {"type": "alias", "userId": "u", "previousId": "a"},
    {"type": "alias", "userId": "u"},
    {"type": "group", "userId": "u"},
    {"type": "group", "userId": "u", "groupId": "g1", "traits": {"name": "ACME"}},
    {
        "type": "track",
        "userId": "u",
        "event": "E",
        "originalTimestamp": "2026-01-01T00:00:00Z",
        "sentAt": "2026-01-01T00:00:10Z",
    },
    {"type": "track", "userId": "u", "event": "E", "timestamp": "soon"},
    {"type": "track", "userId": "u", "event": "E", "sentAt": "later"},
    {"type": "track", "userId": "   ", "anonymousId": "", "event": "E"},
    {"type": "bogus", "userId": "u"},
    {"userId": "u", "event": "E"},
    {"type": "track", "userId": "u" * 401, "event": "E"},
    {"type": "track", "userId": "u", "event": "E", "properties": {"x": "y" * 33_000}},
    {"type": "identify", "userId": "u", "context": {"channel": "store"}},
    {
        "type": "identify",
        "userId": "u",
        "context": {"traits": {"plan": "gold"}},
        "channel": "server",
    },
    {"type": "page", "userId": "u", "channel": "server"},
    {"type": "track", "userId": "u", "event": "E", "properties": "cheap"},
    {"type": "track", "userId": "u", "event": "E", "properties": [1, 2]},
    {"type": "track", "userId": "u", "event": "E", "properties": 2.5},
    {"type": "track", "userId": "u", "event": "E", "properties": None},
    {"type": "screen", "userId": "u", "channel": "browser"},
]


def test_sql_and_api_validation_agree() -> None:
    received = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    lines = [orjson.dumps(s) for s in SAMPLES]
    con = pipeline.connect()
    con.register("lines", lines_table(lines))
    sqlnorm.parse_lines(con, "lines")
    sqlnorm.check(con)
    sqlnorm.finish(con, "norm", "bad", received.isoformat(), historical=False)
    sql_ok = {r["seq"]: r for r in con.sql("SELECT * FROM norm").to_arrow_table().to_pylist()}
    sql_bad = {r["seq"]: r for r in con.sql("SELECT * FROM bad").to_arrow_table().to_pylist()}
    for seq, line in enumerate(lines, start=1):
        event, problem = _api_verdict(line, received)
        if problem is not None:
            assert seq in sql_bad, f"sample {seq}: API rejects ({problem.reason}), SQL accepts"
            assert sql_bad[seq]["reason"] == problem.reason, f"sample {seq}"
            sql_loc = [sql_bad[seq]["loc"]] if sql_bad[seq]["loc"] else []
            assert sql_loc == problem.loc, f"sample {seq}"
            continue
        assert event is not None
        assert seq in sql_ok, f"sample {seq}: API accepts, SQL rejects: {sql_bad.get(seq)}"
        row = sql_ok[seq]
        for field in (
            "type",
            "event",
            "name",
            "user_id",
            "anonymous_id",
            "previous_id",
            "group_id",
            "channel",
        ):
            assert row[field] == getattr(event, field), f"sample {seq}: {field}"
        assert spec.to_micros(row["timestamp"]) == event.timestamp, f"sample {seq}: timestamp"
        traits = orjson.loads(row["traits"]) if row["traits"] else None
        assert traits == event.traits, f"sample {seq}: traits"


def _api_verdict(
    line: bytes, received: datetime
) -> tuple[spec.Event | None, spec.MessageError | None]:
    try:
        message = spec.decode_message(line)
        return spec.normalise(message, received_at=received, raw_size=len(line)), None
    except spec.MessageError as exc:
        return None, exc


def test_the_inbox_events_carry_every_normalised_column() -> None:
    # bar the row number and the context's fields, which both paths derive in SQL
    derived = {"seq", "context_fields"}
    assert set(spec.Event.__struct_fields__) == set(sqlnorm.NORM_COLUMNS) - derived


def test_every_context_field_lifted_is_a_column_of_the_event_store() -> None:
    assert tuple(sqlnorm.CONTEXT_PATHS) == store.CONTEXT_COLUMNS


def test_a_large_import_forgets_its_cache_between_chunks_and_still_merges(
    env: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiles, "MAX_CACHED_PROFILES", 10)
    rows: list[Any] = []
    for i in range(40):  # chunk 1: each customer is seen anonymously, then identified
        rows.append({"type": "page", "anonymousId": f"a{i}", "messageId": f"p{i}"})
        rows.append(
            {
                "type": "identify",
                "anonymousId": f"a{i}",
                "userId": f"u{i}",
                "traits": {"email": f"c{i}@shop.vn"},
                "messageId": f"i{i}",
            }
        )
    rows += [{"type": "page", "anonymousId": "filler", "messageId": f"f{n}"} for n in range(1000)]
    for i in range(40):  # later chunks: known only by one identifier each
        rows.append({"type": "track", "event": "Bought", "userId": f"u{i}", "messageId": f"t{i}"})
        rows.append({"type": "page", "anonymousId": f"a{i}", "messageId": f"q{i}"})
    source = write_jsonl(tmp_path / "big.jsonl", rows)
    cli("import", "events", str(source), "--workspace", "shop", "--chunk-size", "1000")
    with transaction(env) as session:
        workspace = session.scalars(select(Workspace)).one()
        live = session.scalars(
            select(Profile).where(
                Profile.workspace_id == workspace.id, Profile.merged_into_id.is_(None)
            )
        ).all()
        files = eventstore.current_files(session, workspace.id, tmp_path / "data" / "events")
        mapping = profiles.merge_map(session, workspace.id)
    assert len(live) == 41  # 40 customers and the filler
    assert store.count_customers(files, mapping) == 41
    by_profile = {p.id: p.event_count for p in live}
    assert sorted(by_profile.values()) == [4] * 40 + [1000]


def _chunks(rows: list[Any], per_chunk: int) -> list[importer.Chunk]:
    chunks, first = [], 1
    for start in range(0, len(rows), per_chunk):
        part = rows[start : start + per_chunk]
        data = b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in part)
        chunks.append(importer.Chunk(data, len(part), first))
        first += len(part)
    return chunks


def import_in_chunks(
    factory: sessionmaker[Session], tmp_path: Path, rows: list[Any], per_chunk: int, **kw: Any
) -> importer.ImportReport:
    """``importer.run`` over ``rows`` cut into chunks of ``per_chunk`` lines, one load each."""
    with transaction(factory) as session:
        workspace = session.scalars(select(Workspace)).one()
    return importer.run(
        factory,
        workspace.id,
        iter(_chunks(rows, per_chunk)),
        tmp_path / "data" / "events",
        rejected_path=tmp_path / "rejected.jsonl",
        temp_dir=tmp_path / "tmp",
        chunk_size=per_chunk,
        **kw,
    )


def test_chunks_checked_ahead_of_the_load_keep_their_line_numbers(
    env: sessionmaker[Session], tmp_path: Path
) -> None:
    rows: list[Any] = []
    for i in range(9):  # three chunks of three lines, one bad line in each
        rows.append({"type": "track", "userId": f"u{i}", "event": "Seen", "messageId": f"m{i}"})
        rows.append({"type": "track", "userId": f"u{i}"} if i % 3 == 0 else GOOD[i % 2])
    seen: list[int] = []
    stages: list[str] = []
    report = import_in_chunks(env, tmp_path, rows, 6, progress=seen.append, stage=stages.append)
    rejected = [orjson.loads(x) for x in (tmp_path / "rejected.jsonl").read_bytes().splitlines()]
    assert [r["line"] for r in rejected] == [2, 8, 14]
    assert (report.rows, report.rejected) == (18, 3)
    assert report.loaded + report.duplicates == 15
    assert {e["message_id"] for e in stored(env, tmp_path)} >= {f"m{i}" for i in range(9)}
    assert seen == [6, 12, 18, 18]  # the rows read so far, as each chunk is read; all
    assert stages == ["last chunk", "statistics"]


def test_an_import_that_fails_midway_stops_checking_and_hands_the_loader_back(
    env: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"type": "track", "userId": f"u{i}", "event": "Seen"} for i in range(9)]
    # it fails while the chunk's files are being written beside it
    real = pipeline.commit_profiles
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "commit_profiles", failing)
    with pytest.raises(RuntimeError, match="disk is full"):
        import_in_chunks(env, tmp_path, rows, 3)
    assert len(stored(env, tmp_path)) == 3, "the first chunk stays; the second rolled back"
    with transaction(env) as session:
        assert lease.acquire(session, loader.LEASE_NAME, "next-loader", timedelta(minutes=1))
    assert not any(p.name.startswith("import-") for p in (tmp_path / "tmp").iterdir())


def test_a_data_dir_with_a_quote_in_its_name_imports(
    env: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "o'brien"
    rows = [{"type": "track", "userId": f"u{i}", "event": "Seen"} for i in range(4)]
    report = import_in_chunks(env, folder, rows, 2)
    assert (report.loaded, report.rejected) == (4, 0)
    assert len(stored(env, folder)) == 4
