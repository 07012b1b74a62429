from pathlib import Path

import pytest

from cxloop.config import Settings


def test_defaults_put_sqlite_in_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CXLOOP_DATA_DIR", "CXLOOP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.data_dir == Path(".cxloop")
    assert settings.is_sqlite
    assert settings.resolved_database_url == f"sqlite:///{Path('.cxloop/cxloop.db').resolve()}"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CXLOOP_DATABASE_URL", "postgresql://u@db/cx")
    monkeypatch.setenv("CXLOOP_PORT", "9001")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.resolved_database_url == "postgresql://u@db/cx"
    assert not settings.is_sqlite
    assert settings.port == 9001


def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXLOOP_PORT", "not-a-port")
    with pytest.raises(ValueError, match="port"):
        Settings()


def test_every_setting_is_described() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
