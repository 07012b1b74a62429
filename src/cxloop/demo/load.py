"""Loading the demo shop into a workspace through cxloop's own paths.

Events go through the bulk import (the code of ``cxloop import events``), surveys through
the surveys service, their answers through the responses import (which writes each
``Survey Responded`` event), comments through the text analysis job, spend and KPI settings
through the KPI service, the journey map through the journey maps service, and the admin
user and API key through the accounts service.

Running it again is safe. What the workspace holds is written to
``DATA_DIR/demo/<workspace id>.json``: the seed, size and the moment the simulated year
ends. The same demo already loaded is not loaded again; an interrupted load resumes with
the same data, and every step adds nothing it already added (message ids, response keys
and names are derived from the data).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from cxloop import bootstrap
from cxloop.accounts import errors as account_errors
from cxloop.accounts import service as accounts
from cxloop.config import Settings
from cxloop.core import migrate
from cxloop.core.actors import Actor
from cxloop.core.db import make_engine, make_sessionmaker, transaction
from cxloop.core.errors import Conflict
from cxloop.core.security import split_api_key
from cxloop.core.time import utcnow
from cxloop.demo import content, segment
from cxloop.demo.dataset import Dataset
from cxloop.demo.defaults import WORKSPACE
from cxloop.demo.simulate import Config, simulate
from cxloop.eventstore import index as event_index
from cxloop.eventstore import service as eventstore
from cxloop.eventstore.service import events_root
from cxloop.ingest import importer, loader
from cxloop.jobs import Worker
from cxloop.journeys import maps
from cxloop.kpis import schemas as kpi_schemas
from cxloop.kpis import service as kpis
from cxloop.models import Job, JobStatus, Role, Scope, Workspace
from cxloop.surveys import importer as responses
from cxloop.surveys import service as surveys
from cxloop.text import service as text

log = logging.getLogger(__name__)

DISPLAY_NAME = "Demo shop (Vietnam and Thailand)"
ADMIN_EMAIL = "demo@cxloop.local"
OMTM = "conversion_rate"


class Reporter(Protocol):
    """Shows the progress of one phase at a time."""

    def begin(self, label: str, total: int | None) -> None: ...

    def update(self, done: int) -> None: ...

    def end(self) -> None: ...


class Quiet:
    def begin(self, label: str, total: int | None) -> None:
        log.info("demo: %s", label)

    def update(self, done: int) -> None:
        pass

    def end(self) -> None:
        pass


class DemoMismatch(Conflict):
    code = "demo_mismatch"


@dataclass
class State:
    """What was loaded into the workspace, kept beside the data."""

    workspace_id: str
    seed: int
    customers: int
    days: int
    end: str
    loaded: bool = False
    password: str | None = None
    api_key: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def same_demo(self, seed: int, customers: int, days: int) -> bool:
        return (self.seed, self.customers, self.days) == (seed, customers, days)

    @property
    def id_prefix(self) -> str:
        """Message ids of this demo's events start with it."""
        identity = f"{self.seed}:{self.customers}:{self.days}:{self.end}"
        return "demo" + hashlib.sha256(identity.encode()).hexdigest()[:10]


def state_path(settings: Settings, workspace_id: uuid.UUID) -> Path:
    return settings.data_dir / "demo" / f"{workspace_id}.json"


def read_state(settings: Settings, workspace_id: uuid.UUID) -> State | None:
    path = state_path(settings, workspace_id)
    if not path.is_file():
        return None
    return State(**json.loads(path.read_text(encoding="utf-8")))


def write_state(settings: Settings, state: State) -> None:
    """Written whole and renamed into place; readable by its owner only (it holds the demo
    login)."""
    path = state_path(settings, uuid.UUID(state.workspace_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(state), handle, indent=2)
    temporary.replace(path)


@dataclass
class Outcome:
    workspace: str
    workspace_id: uuid.UUID
    email: str
    password: str | None  # None: the user existed before the demo, password unchanged
    api_key: str
    loaded_now: bool
    counts: dict[str, int]


def run(
    settings: Settings,
    actor: Actor,
    *,
    customers: int,
    seed: int,
    days: int,
    workspace: str = WORKSPACE,
    reporter: Reporter | None = None,
) -> Outcome:
    """Create (or find) the demo workspace, load the simulated shop unless it is there,
    and make sure the admin user and an API key exist."""
    show = reporter or Quiet()
    bootstrap.load_domains()
    migrate.upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url, pool_size=4)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as session:
            found = _workspace(session, workspace, actor)
            workspace_id = found.id
            held, _ = eventstore.stats(session, workspace_id)
        state = read_state(settings, workspace_id)
        if state is None and held:
            raise DemoMismatch(
                f"workspace {workspace!r} already holds {held:,} events the demo did not load; "
                "give another --workspace"
            )
        if state is not None and not state.same_demo(seed, customers, days):
            raise DemoMismatch(
                f"workspace {workspace!r} holds the demo with seed {state.seed}, "
                f"{state.customers:,} customers and {state.days} days; run it with those "
                "options, or give another --workspace"
            )
        if state is None:
            end = utcnow().replace(minute=0, second=0, microsecond=0)
            state = State(str(workspace_id), seed, customers, days, end.isoformat())
            write_state(settings, state)
        loaded_now = not state.loaded
        if loaded_now:
            state.counts = _load(settings, factory, workspace_id, state, actor, show)
            state.loaded = True
            write_state(settings, state)
        with transaction(factory) as session:
            found = accounts.get_workspace(session, workspace_id)
            password = _admin(session, found, state, actor)
            state.api_key = _api_key(session, found, state.api_key, actor)
        write_state(settings, state)
        return Outcome(
            workspace,
            workspace_id,
            ADMIN_EMAIL,
            password,
            state.api_key,
            loaded_now,
            state.counts,
        )
    finally:
        engine.dispose()


def _workspace(session: Session, name: str, actor: Actor) -> Workspace:
    try:
        return accounts.get_workspace_by_name(session, name)
    except account_errors.WorkspaceNotFound:
        return accounts.create_workspace(
            session, name, actor, display_name=DISPLAY_NAME, default_language="vi"
        )


def _load(
    settings: Settings,
    factory: sessionmaker[Session],
    workspace_id: uuid.UUID,
    state: State,
    actor: Actor,
    show: Reporter,
) -> dict[str, int]:
    end = datetime.fromisoformat(state.end).astimezone(UTC)
    config = Config(end=end, customers=state.customers, seed=state.seed, days=state.days)
    show.begin("simulating the shop", None)
    dataset = simulate(config)
    show.end()
    counts = {
        "customers": dataset.customers,
        "events": len(dataset.events),
        "responses": len(dataset.answers),
    }
    counts["events_new"] = load_events(settings, factory, workspace_id, dataset, state, show)
    survey_ids = ensure_surveys(factory, workspace_id, actor)
    counts["responses_new"] = load_answers(
        settings, factory, workspace_id, dataset, survey_ids, show
    )
    settle(settings, factory, show)
    index(settings, factory, workspace_id, show)
    show.begin("marketing spend, KPIs and the journey map", None)
    with transaction(factory) as session:
        counts["spend_rows"] = load_spend(session, workspace_id, dataset, actor)
        ensure_journey(session, workspace_id, survey_ids, actor)
    show.end()
    del dataset  # the text models need the memory more
    counts["texts_analysed"] = analyse_texts(settings, factory, workspace_id, show)
    return counts


# -- the phases ------------------------------------------------------------------------------


def load_events(
    settings: Settings,
    factory: sessionmaker[Session],
    workspace_id: uuid.UUID,
    dataset: Dataset,
    state: State,
    show: Reporter,
) -> int:
    """Every event through the bulk import, in time order; returns how many were new."""
    encoder = segment.Encoder(dataset, state.id_prefix)

    def chunks() -> Iterator[importer.Chunk]:
        first = 1
        for data, lines in encoder.chunks(25_000):
            yield importer.Chunk(data, lines, first)
            first += lines

    work = _work_dir(settings)
    show.begin("importing events", len(dataset.events))
    report = importer.run(
        factory,
        workspace_id,
        chunks(),
        events_root(settings),
        rejected_path=work / "events.rejected.jsonl",
        temp_dir=settings.data_dir / "tmp",
        register_days=settings.message_id_retention_days,
        chunk_size=100_000,
        progress=show.update,
    )
    show.end()
    if report.rejected:
        log.warning("%d demo events were rejected: see %s", report.rejected, report.rejected_path)
    return report.loaded


def ensure_surveys(
    factory: sessionmaker[Session], workspace_id: uuid.UUID, actor: Actor
) -> dict[str, uuid.UUID]:
    """The demo's surveys, created through the surveys service unless they exist."""
    ids: dict[str, uuid.UUID] = {}
    with transaction(factory) as session:
        existing = {s.name: s.id for s in surveys.list_surveys(session, workspace_id, limit=200)}
        for key, body in content.surveys().items():
            found = existing.get(body.name)
            ids[key] = found or surveys.create_survey(session, workspace_id, body, actor).id
    return ids


def load_answers(
    settings: Settings,
    factory: sessionmaker[Session],
    workspace_id: uuid.UUID,
    dataset: Dataset,
    survey_ids: dict[str, uuid.UUID],
    show: Reporter,
) -> int:
    """Every survey answer through the responses import; returns how many were new."""
    definitions = content.surveys()
    files = {
        key: segment.survey_csv(dataset, key, [q.id for q in definitions[key].questions])
        for key in survey_ids
    }
    show.begin("importing survey responses", sum(rows for _, rows in files.values()))
    imported, done = 0, 0
    for key, (data, rows) in files.items():
        report = responses.run(
            factory,
            workspace_id,
            survey_ids[key],
            io.BytesIO(data),
            mapping={},
            rejected_path=_work_dir(settings) / f"{key}.rejected.jsonl",
            chunk_size=500,
            progress=_offset(show.update, done),
        )
        imported += report.imported
        done += rows
        if report.rejected:
            log.warning(
                "%d %s responses were rejected: %s", report.rejected, key, report.rejected_path
            )
    show.end()
    return imported


def settle(settings: Settings, factory: sessionmaker[Session], show: Reporter) -> None:
    """Move the ``Survey Responded`` events from the inbox into the event store."""
    show.begin("storing the survey response events", None)
    loader.drain(factory, events_root(settings), f"demo-{uuid.uuid4().hex[:8]}")
    show.end()


def index(
    settings: Settings, factory: sessionmaker[Session], workspace_id: uuid.UUID, show: Reporter
) -> None:
    """Build the customer-event index now rather than at the worker's next round, when the
    events loaded make it due (a second run that loads nothing new shows no such step)."""
    began = False

    def building() -> None:
        nonlocal began
        began = True
        show.begin("indexing each customer's events", None)

    event_index.refresh(factory, workspace_id, events_root(settings), building)
    if began:
        show.end()


def analyse_texts(
    settings: Settings, factory: sessionmaker[Session], workspace_id: uuid.UUID, show: Reporter
) -> int:
    """Run the text analysis jobs the imports recorded (comments and reviews)."""
    with transaction(factory) as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.workspace_id == workspace_id,
                Job.name == text.ANALYZE_JOB,
                Job.status == JobStatus.QUEUED,
            )
        )
    show.begin("analysing comments and reviews", waiting or 0)
    worker = Worker(factory, settings=settings)
    ran = 0
    # One short text at a time gains nothing from several threads, and on a busy machine
    # the waiting threads of OpenMP and OpenBLAS make each embedding several times slower.
    # The limit reaches only thread pools already loaded: analysing a word loads the models.
    text.analyze(settings, workspace_id, ["demo"])
    with threadpool_limits(limits=1):
        while worker.run_one():
            ran += 1
            show.update(ran)
    show.end()
    return ran


def load_spend(session: Session, workspace_id: uuid.UUID, dataset: Dataset, actor: Actor) -> int:
    """The marketing spend per channel and day, and the e-commerce KPI settings."""
    rows = [
        kpi_schemas.SpendRow.model_validate(
            {"date": s.day, "channel": s.channel, "amount": f"{s.amount:.2f}", "currency": "USD"}
        )
        for s in dataset.spend
    ]
    count = kpis.import_spend(session, workspace_id, rows, actor)
    settings = kpi_schemas.KpiSettings.model_validate(
        {"pack": "ecommerce", "omtm": {"pack": "ecommerce", "kpi": OMTM}, "currency": "USD"}
    )
    kpis.set_settings(session, workspace_id, settings, actor)
    return count


def ensure_journey(
    session: Session, workspace_id: uuid.UUID, survey_ids: dict[str, uuid.UUID], actor: Actor
) -> None:
    names = {j.name for j in maps.list_journeys(session, workspace_id, limit=200)}
    if content.JOURNEY_NAME not in names:
        maps.create_journey(session, workspace_id, content.journey(survey_ids), actor)


# -- who signs in ----------------------------------------------------------------------------


def _admin(session: Session, workspace: Workspace, state: State, actor: Actor) -> str | None:
    """The demo's owner; returns the password when the demo made the user."""
    try:
        user = accounts.get_user_by_email(session, ADMIN_EMAIL)
    except account_errors.UserNotFound:
        state.password = state.password or secrets.token_urlsafe(12)
        user = accounts.create_user(session, ADMIN_EMAIL, state.password, actor, name="Demo admin")
    accounts.add_member(session, workspace, user, Role.OWNER, actor)
    return state.password


def _api_key(session: Session, workspace: Workspace, token: str | None, actor: Actor) -> str:
    """The demo's admin key: the one made before while it works, else a new one."""
    parts = split_api_key(token) if token else None
    if parts is not None:
        try:
            key = accounts.find_api_key(session, workspace.id, parts[0])
        except account_errors.ApiKeyNotFound:
            key = None
        if key is not None and key.revoked_at is None:
            return str(token)
    _, made = accounts.create_api_key(session, workspace, Scope.ADMIN, actor, name="demo")
    return made


# -- helpers ---------------------------------------------------------------------------------


def _work_dir(settings: Settings) -> Path:
    path = settings.data_dir / "demo"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _offset(update: Callable[[int], None], base: int) -> Callable[[int], None]:
    return lambda done: update(base + done)
