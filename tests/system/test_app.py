from pathlib import Path

from fastapi.testclient import TestClient

from cxloop.app import create_app
from cxloop.config import Settings


def test_create_app_does_no_io_until_it_starts(tmp_path: Path) -> None:
    data_dir = tmp_path / "never-touched"
    create_app(Settings(data_dir=data_dir))
    assert not data_dir.exists()


def test_the_lifespan_builds_the_engine_and_readyz_reports_pending_migrations(
    tmp_path: Path,
) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert (tmp_path / "data" / "cxloop.db").exists()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "pending"},
    }
