"""Settings, read once from ``CXLOOP_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting cxloop reads. Each one is an environment variable ``CXLOOP_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CXLOOP_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./.cxloop"),
        description="Folder for the embedded database, event files and models.",
    )
    database_url: str = Field(
        default="",
        description=(
            "SQLAlchemy URL of the operational database. Empty means SQLite at "
            "DATA_DIR/cxloop.db; use postgresql+psycopg://user@host/db in production."
        ),
    )
    database_pool_size: int = Field(
        default=10, ge=1, description="Connections kept per process (PostgreSQL)."
    )
    host: str = Field(default="127.0.0.1", description="Address `cxloop serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `cxloop serve` listens on.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Logging level."
    )
    run_worker_in_server: bool = Field(
        default=True,
        description="`cxloop serve` starts a worker process beside the API.",
    )
    worker_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description=(
            "How much lower the CPU priority of the worker `cxloop serve` starts is than the"
            " API's (Unix nice; 0: the same). Under a burst the API acknowledges first, the"
            " events wait in the durable inbox, and the loader catches up when it eases."
        ),
    )
    worker_concurrency: int = Field(
        default=2, ge=1, description="Jobs one worker process runs at the same time."
    )
    job_poll_interval: float = Field(
        default=0.5, gt=0, description="Seconds an idle worker waits before looking for jobs."
    )
    job_lease_seconds: int = Field(
        default=300,
        ge=5,
        description="A running job whose worker is silent this long is handed to another worker.",
    )
    job_backoff_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay; doubles with every further attempt."
    )
    key_touch_interval_seconds: int = Field(
        default=60,
        ge=0,
        description="An API key's last-used time is written at most this often.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Signs survey links and form tokens. Empty: a random key is made on first use and "
            "kept in DATA_DIR/secret_key; processes on several machines need the same value."
        ),
    )
    survey_page_rate_limit: int = Field(
        default=60,
        ge=0,
        description="Survey form posts per minute from one address to one process (0: no limit).",
    )
    dashboard_stale_seconds: float = Field(
        default=900.0,
        ge=0,
        le=86_400,
        description=(
            "How old the journey figures a dashboard page shows may be while newer events are"
            " read in the background (the page says how old they are); 0: every view waits"
            " for the newest."
        ),
    )
    survey_page_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=300,
        description=(
            "How long a process keeps a survey's status and page settings for its public page"
            " before reading them again: a change shows there at most this late. Submissions"
            " always check the stored status."
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Proxy addresses whose X-Forwarded-For header is believed (audit log IPs).",
    )

    ingest_rate_limit: float = Field(
        default=100_000,
        ge=0,
        description="Events per second one write key may send to one API process (0: no limit).",
    )
    ingest_key_cache_seconds: float = Field(
        default=10,
        ge=0,
        description="How long an API process trusts a write key it checked before checking again.",
    )
    loader_interval: float = Field(
        default=0.5, gt=0, description="Seconds the loader waits when the inbox is empty."
    )
    loader_batch_events: int = Field(
        default=100_000,
        ge=1,
        description="Most events the loader moves in one micro-batch (catches a backlog up fast).",
    )
    compaction_min_files: int = Field(
        default=8, ge=2, description="A day of a workspace with this many files is compacted."
    )
    compaction_max_rows: int = Field(
        default=5_000_000,
        ge=1000,
        description="Files with this many events or more are left alone by compaction.",
    )
    index_interval: float = Field(
        default=300.0,
        gt=0,
        description="Seconds between checks whether a workspace's customer-event index is due.",
    )
    message_id_retention_days: int = Field(
        default=7,
        ge=1,
        description="Days a messageId is remembered to drop a resent duplicate.",
    )
    text_model_dir: Path | None = Field(
        default=None,
        description="Sentiment model folder (from `cxloop text train`); empty: the shipped one.",
    )
    text_max_batch: int = Field(
        default=256, ge=1, description="Texts one `POST /api/v1/text/analyze` call may send."
    )

    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Address customers reach this server at: the base of links sent by email.",
    )
    smtp_host: str = Field(
        default="localhost", description="SMTP server that sends survey invitations."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_username: str = Field(default="", description="SMTP user name (empty: no login).")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS before sending."
    )
    smtp_from: str = Field(
        default="cxloop <surveys@localhost>",
        description="Sender of survey emails; the workspace name is shown as its display name.",
    )
    smtp_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for SMTP.")
    smtp_max_attempts: int = Field(
        default=6,
        ge=1,
        description="Tries to deliver one email while the SMTP server fails, with backoff.",
    )
    trigger_max_event_age_hours: int = Field(
        default=24,
        ge=1,
        description="Survey triggers ignore events that happened longer ago than this.",
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cxloop.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def get_settings() -> Settings:
    """Read the settings from the environment (no caching: tests change the environment)."""
    return Settings()
