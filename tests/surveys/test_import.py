"""`cxloop import responses`: historical responses from CSV, rejected rows, re-runs."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cxloop.analytics import events as store
from cxloop.cli.main import app
from cxloop.core.db import transaction
from cxloop.eventstore import service as eventstore
from cxloop.ingest import service as ingest
from cxloop.models import SurveyResponse, Workspace
from cxloop.profiles import service as profiles
from tests.fixtures.surveys import make_survey, nps_with_follow_ups

runner = CliRunner()


@pytest.fixture
def env(
    committing: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[sessionmaker[Session], uuid.UUID]:
    monkeypatch.setenv("CXLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(tmp_path / "data"))
    assert runner.invoke(app, ["workspace", "create", "shop"]).exit_code == 0
    with transaction(committing) as session:
        workspace = session.scalars(select(Workspace)).one()
        survey = make_survey(session, workspace, questions=nps_with_follow_ups())
        return committing, survey.id


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


ROWS = [
    {"Email": "lan@shop.vn", "score": "3", "what_went_wrong": "Hộp bị móp", "review": "",
     "when": "2026-10-01 09:30:00", "channel": "Email"},
    {"Email": "", "score": "11", "what_went_wrong": "", "review": "",
     "when": "2026-10-02 10:00:00", "channel": "store"},
    {"Email": "minh@shop.vn", "score": "10", "what_went_wrong": "", "review": "perhaps",
     "when": "2026-10-03 11:00:00", "channel": "store"},
    {"Email": "som@shop.co.th", "score": "9", "what_went_wrong": "", "review": "yes",
     "when": "2026-10-04T12:00:00+07:00", "channel": "web"},
]  # fmt: skip
MAPPING = ["--map", "Email=customer.email", "--map", "score=nps", "--map", "when=submitted_at"]


def run_import(file: Path, survey_id: uuid.UUID, *extra: str) -> Any:
    return runner.invoke(
        app,
        ["import", "responses", str(file), "--survey", str(survey_id), "-w", "shop",
         *MAPPING, *extra],
    )  # fmt: skip


def test_valid_rows_are_kept_and_bad_ones_reported(
    env: tuple[sessionmaker[Session], uuid.UUID], tmp_path: Path
) -> None:
    factory, survey_id = env
    file = write_csv(tmp_path / "responses.csv", ROWS)
    result = run_import(file, survey_id)
    assert result.exit_code == 0, result.output
    assert "2 responses imported, 0 already present, 2 rejected (4 rows read)" in result.stdout
    lines = (tmp_path / "responses.csv.rejected.jsonl").read_bytes().splitlines()
    rejected = [orjson.loads(line) for line in lines]
    assert [(r["line"], [e["loc"] for e in r["errors"]]) for r in rejected] == [
        (3, [["answers", "nps"]]),
        (4, [["answers", "review"]]),
    ]
    assert rejected[0]["error"] == "answers.nps: must be a whole number from 0 to 10"
    assert rejected[1]["row"]["Email"] == "minh@shop.vn"

    with transaction(factory) as session:
        rows = session.scalars(select(SurveyResponse).order_by(SurveyResponse.submitted_at)).all()
        assert [(r.customer, r.answers, r.source.value, r.channel) for r in rows] == [
            (
                {"email": "lan@shop.vn"},
                {"nps": 3, "what_went_wrong": "Hộp bị móp"},
                "import",
                "email",
            ),
            ({"email": "som@shop.co.th"}, {"nps": 9, "review": "yes"}, "import", "web"),
        ]
        assert rows[0].submitted_at is not None
        assert rows[0].submitted_at.isoformat() == "2026-10-01T09:30:00+00:00"
        workspace_id = rows[0].workspace_id

    again = run_import(file, survey_id)
    assert "0 responses imported, 2 already present, 2 rejected" in again.stdout

    root = tmp_path / "data" / "events"
    assert ingest.settle(factory, root, workspace_id, holder="tests")
    with transaction(factory) as session:
        files = eventstore.current_files(session, workspace_id, root)
        mapping = profiles.merge_map(session, workspace_id)
    events = store.query(files, mapping, "SELECT properties FROM events ORDER BY timestamp")
    assert [orjson.loads(e["properties"])["nps"] for e in events] == [3, 9]
    assert {orjson.loads(e["properties"])["source"] for e in events} == {"import"}


def test_an_unknown_column_stops_the_import_before_it_starts(
    env: tuple[sessionmaker[Session], uuid.UUID], tmp_path: Path
) -> None:
    _, survey_id = env
    file = write_csv(tmp_path / "r.csv", [{**ROWS[0], "notes": "VIP"}])
    result = run_import(file, survey_id)
    assert result.exit_code == 1
    assert "column 'notes' is neither a question" in result.output
    assert "Traceback" not in result.output
    skipped = run_import(file, survey_id, "--map", "notes=-")
    assert skipped.exit_code == 0, skipped.output
    assert "1 responses imported" in skipped.stdout
