"""`cxloop demo --no-serve` end to end on the test database: it loads through the real
paths, the APIs then answer from what it loaded, and running it again adds nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cxloop.accounts import service as accounts
from cxloop.app import create_app
from cxloop.cli.main import app
from cxloop.config import Settings
from cxloop.core.db import transaction
from cxloop.demo.dataset import Dataset
from cxloop.demo.simulate import Config, simulate
from cxloop.models import (
    ApiKey,
    EventFile,
    Job,
    Journey,
    KpiSetting,
    MarketingSpend,
    Membership,
    Role,
    SurveyResponse,
    TextAnalysis,
    User,
    Workspace,
)

runner = CliRunner()
CUSTOMERS = 300


@pytest.fixture
def env(
    committing: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[sessionmaker[Session]]:
    monkeypatch.setenv("CXLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(tmp_path / "data"))
    return committing


def demo(*args: str, customers: int = CUSTOMERS) -> str:
    result = runner.invoke(app, ["demo", "--no-serve", "--customers", str(customers), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with transaction(factory) as session:
        return {
            model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (
                Workspace,
                EventFile,
                SurveyResponse,
                TextAnalysis,
                MarketingSpend,
                KpiSetting,
                Journey,
                User,
                Membership,
                ApiKey,
                Job,
            )
        } | {
            "events": int(
                session.scalar(
                    select(func.sum(EventFile.row_count)).where(EventFile.replaced_at.is_(None))
                )
                or 0
            )
        }


def state(tmp_path: Path) -> dict[str, Any]:
    files = list((tmp_path / "data" / "demo").glob("*.json"))
    assert len(files) == 1
    found: dict[str, Any] = json.loads(files[0].read_text(encoding="utf-8"))
    return found


def same_shop(tmp_path: Path) -> Dataset:
    saved = state(tmp_path)
    end = datetime.fromisoformat(saved["end"])
    return simulate(Config(end=end, customers=saved["customers"], seed=saved["seed"]))


def test_demo_loads_serves_answers_and_loads_nothing_twice(
    env: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    output = demo()
    assert "Loaded the demo shop into workspace 'demo'" in output
    assert "Dashboard: http://" in output
    password = re.search(r"Password:\s+(\S+)", output)
    key = re.search(r"API key:\s+(\S+)", output)
    assert password is not None
    assert key is not None
    loaded = counts(env)
    shop = same_shop(tmp_path)
    assert loaded["events"] == len(shop.events) + len(shop.answers)  # + Survey Responded
    assert loaded["SurveyResponse"] == len(shop.answers)
    assert loaded["TextAnalysis"] > 20
    assert loaded["MarketingSpend"] == len(shop.spend)
    assert loaded["Journey"] == loaded["KpiSetting"] == loaded["User"] == 1
    with transaction(env) as session:
        assert (
            session.scalar(select(func.count()).select_from(Job).where(Job.status != "done")) == 0
        )

    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    with TestClient(create_app(settings)) as client:
        nps = client.get("/api/v1/metrics/nps", headers=headers).json()
        answered = [a.answers["nps"] for a in shop.answers if "nps" in a.answers]
        assert nps["n"] == len(answered)
        promoters = sum(score >= 9 for score in answered)
        detractors = sum(score <= 6 for score in answered)
        assert nps["nps"] == pytest.approx(100 * (promoters - detractors) / len(answered))
        by = client.get("/api/v1/metrics/nps", params={"by": "touchpoint"}, headers=headers)
        assert {g["key"] for g in by.json()["groups"]} == {"delivery", "relationship"}

        person = next(o.person for o in shop.orders if o.delivered_us > 0)
        email = shop.people.email[person]
        found = client.get("/api/v1/customers", params={"email": email}, headers=headers).json()
        assert len(found["items"]) == 1
        customer = found["items"][0]
        held = {(i["kind"], i["value"]) for i in customer["identities"]}
        assert ("user_id", shop.people.user_id[person]) in held
        assert ("anonymous_id", shop.people.anonymous_id[person]) in held  # merged on sign-up
        assert customer["traits"]["country"] in ("VN", "TH")
        timeline = client.get(
            f"/api/v1/customers/{customer['id']}/timeline",
            params={"event": ["Signed Up", "Order Delivered"], "limit": 500},
            headers=headers,
        ).json()
        events = [item["event"] for item in timeline["items"]]
        assert events[-1] == "Signed Up"
        assert "Order Delivered" in events

    with transaction(env) as session:
        user = accounts.authenticate_user(session, "demo@cxloop.local", password.group(1))
        workspace = accounts.get_workspace_by_name(session, "demo")
        roles = [m.role for m, u in accounts.list_members(session, workspace.id) if u.id == user.id]
        assert roles == [Role.OWNER]

    again = demo()
    assert "already loaded" in again
    assert f"Password:  {password.group(1)}" in again
    assert f"API key:   {key.group(1)}" in again
    assert counts(env) == loaded

    # an interrupted load is resumed with the same data: nothing is added twice
    path = next((tmp_path / "data" / "demo").glob("*.json"))
    saved = state(tmp_path)
    path.write_text(json.dumps({**saved, "loaded": False}), encoding="utf-8")
    resumed = demo()
    assert f"{len(shop.events):,} events (0 new)" in resumed
    assert f"{len(shop.answers):,} survey responses (0 new)" in resumed
    assert counts(env) == loaded


def test_another_demo_or_other_data_in_the_workspace_is_refused(
    env: sessionmaker[Session], tmp_path: Path
) -> None:
    demo("--days", "40", customers=60)
    result = runner.invoke(app, ["demo", "--no-serve", "--customers", "60", "--seed", "8"])
    assert result.exit_code == 1
    assert "holds the demo with seed 7" in result.output
    assert "Traceback" not in result.output

    # a workspace with events of its own is not the demo's to fill
    assert runner.invoke(app, ["workspace", "create", "shop"]).exit_code == 0
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"type": "track", "event": "Signed Up", "userId": "u1"}) + "\n")
    assert runner.invoke(app, ["import", "events", str(events), "-w", "shop"]).exit_code == 0
    result = runner.invoke(app, ["demo", "--no-serve", "--workspace", "shop", "--customers", "60"])
    assert result.exit_code == 1
    assert "already holds 1 events the demo did not load" in result.output
