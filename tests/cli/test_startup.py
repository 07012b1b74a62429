"""`cxloop` builds its commands without the domains, the ORM or the stores: a command loads
what it uses when it runs, so `cxloop --help` and `cxloop version` start at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.databases import fresh_database
from tests.fixtures.served import cli

# what building the command line used to load, and what each stands for
HEAVY = [
    "cxloop.app",  # every route
    "cxloop.bootstrap",  # every domain's jobs
    "cxloop.config",  # pydantic-settings
    "cxloop.models",  # SQLAlchemy and every table
    "cxloop.core.db",
    "cxloop.core.migrate",  # Alembic
    "cxloop.accounts.service",
    "cxloop.system.service",
    "cxloop.jobs",
    "cxloop.eventstore.service",
    "cxloop.ingest.importer",
    "cxloop.surveys.importer",
    "cxloop.text.classifier",
    "cxloop.text.service",
    "cxloop.demo.load",
    "cxloop.demo.simulate",  # NumPy
    "alembic",
    "sqlalchemy",
    "pydantic_settings",
    "duckdb",
    "pyarrow",
    "numpy",
    "uvicorn",
]


def test_the_command_line_is_built_without_the_application() -> None:
    probe = "import json, sys, cxloop.cli.main; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert [name for name in HEAVY if name in loaded] == []


def test_an_import_registers_the_jobs_it_records(pg_server_url: str | None, tmp_path: Path) -> None:
    # a review among the events records a text analysis job, which the text domain registers
    review = {
        "type": "track",
        "event": "Product Reviewed",
        "userId": "u1",
        "messageId": "review-1",
        "timestamp": "2026-01-05T10:00:00Z",
        "properties": {"review_body": "Fast delivery, well packed."},
    }
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(review) + "\n", encoding="utf-8")
    with fresh_database(pg_server_url, tmp_path, "startup") as url:
        env = {**os.environ, "CXLOOP_DATA_DIR": str(tmp_path / "data"), "CXLOOP_DATABASE_URL": url}
        cli(env, "workspace", "create", "shop")
        assert "1 events imported" in cli(env, "import", "events", str(events), "-w", "shop")
        assert "text.analyze_feedback" in cli(env, "jobs", "list")
