"""The loader: moves acknowledged events from the inbox into the event store.

One micro-batch is: read inbox rows, drop messages already loaded (``messageId``), resolve
every message to a profile, write one Parquet file per day touched, then commit in one
transaction the new files, the message ids, the profile changes and the removal of the inbox
rows. A crash anywhere before that commit changes nothing but an unregistered file (removed
later), so every acknowledged event is loaded exactly once.

Only one loader runs at a time (a lease), because identity resolution must see the
identities that the previous batch created.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from cxloop.analytics import events as store
from cxloop.core.db import transaction
from cxloop.core.time import utcnow
from cxloop.eventstore import service as eventstore
from cxloop.ingest.spec import Event, message_key, unpack_events
from cxloop.jobs import lease
from cxloop.models import InboxBatch, MessageKey
from cxloop.profiles import service as profiles
from cxloop.profiles.resolver import Ident, Observation
from cxloop.profiles.rules import TRAIT_IDENTIFIERS, IdentityRules, Normaliser, kind_of_external

log = logging.getLogger(__name__)

LEASE_NAME = "ingest.loader"
_CHUNK = 2000
_json = msgspec.json.Encoder()


@dataclass
class LoadResult:
    loaded: int = 0
    duplicates: int = 0
    files: int = 0
    profiles_touched: int = 0
    per_workspace: dict[uuid.UUID, int] = field(default_factory=dict)

    def add(self, other: LoadResult) -> None:
        self.loaded += other.loaded
        self.duplicates += other.duplicates
        self.files += other.files
        self.profiles_touched += other.profiles_touched
        for ws, n in other.per_workspace.items():
            self.per_workspace[ws] = self.per_workspace.get(ws, 0) + n


# -- the pipeline for one workspace's events -------------------------------------------------


def load_events(
    session: Session, workspace_id: uuid.UUID, events: Sequence[Event], root: Path
) -> LoadResult:
    """Deduplicate, resolve and write ``events``; the caller commits (or rolls back)."""
    result = LoadResult()
    fresh, keys = _deduplicate(session, workspace_id, events)
    result.duplicates = len(events) - len(fresh)
    if not fresh:
        return result
    rules = profiles.get_rules(session, workspace_id)
    normalise = Normaliser(rules)
    observations = [observe(e, normalise, rules) for e in fresh]
    profile_ids = profiles.resolve(session, workspace_id, observations, rules)
    result.profiles_touched = len(set(profile_ids))
    by_day: dict[date, list[int]] = defaultdict(list)
    for i, event in enumerate(fresh):
        by_day[datetime.fromtimestamp(event.timestamp / 1e6, tz=UTC).date()].append(i)
    for day, indexes in sorted(by_day.items()):
        table = to_table([fresh[i] for i in indexes], [profile_ids[i] for i in indexes])
        path = eventstore.new_file_path(root, workspace_id, day)
        eventstore.register(session, workspace_id, root, store.write_file(table, path))
        result.files += 1
    if keys:
        today = utcnow().date()
        session.execute(insert(MessageKey), [{"key": k, "seen_on": today} for k in keys])
    result.loaded = len(fresh)
    result.per_workspace[workspace_id] = len(fresh)
    return result


def _deduplicate(
    session: Session, workspace_id: uuid.UUID, events: Sequence[Event]
) -> tuple[list[Event], list[bytes]]:
    """The events whose message id was never loaded, and the keys to record for them."""
    seen: set[bytes] = set()
    candidates: list[tuple[bytes | None, Event]] = []
    for event in events:
        if event.generated_id:
            candidates.append((None, event))
            continue
        key = message_key(workspace_id, event.message_id)
        if key in seen:
            continue
        seen.add(key)
        candidates.append((key, event))
    known: set[bytes] = set()
    ordered = sorted(seen)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        known.update(session.scalars(select(MessageKey.key).where(MessageKey.key.in_(chunk))))
    fresh = [e for k, e in candidates if k is None or k not in known]
    keys = [k for k, _ in candidates if k is not None and k not in known]
    return fresh, keys


def observe(event: Event, normalise: Normaliser, rules: IdentityRules) -> Observation:
    """What ``event`` says about who the customer is."""
    idents: list[Ident] = []
    if event.user_id is not None and (value := normalise("user_id", event.user_id)):
        idents.append(("user_id", value))
    if event.anonymous_id is not None and (value := normalise("anonymous_id", event.anonymous_id)):
        idents.append(("anonymous_id", value))
    context = event.context
    for traits in (event.traits, context.get("traits") if context else None):
        if isinstance(traits, dict):
            for name, kind in TRAIT_IDENTIFIERS.items():
                raw = traits.get(name)
                if raw is not None and (value := normalise(kind, raw)):
                    idents.append((kind, value))
    if context:
        external = context.get("externalIds")
        if isinstance(external, list):
            for item in external[:20]:
                if isinstance(item, dict):
                    external_kind = kind_of_external(item.get("type"))
                    if external_kind and (value := normalise(external_kind, item.get("id"))):
                        idents.append((external_kind, value))
    if len(idents) > 1:
        idents = sorted(dict.fromkeys(idents), key=lambda i: rules.rank(i[0]))
    previous = None
    if event.type == "alias" and event.previous_id is not None:
        previous = normalise("anonymous_id", event.previous_id)
    traits_set = event.traits if event.type == "identify" else None
    return Observation(
        identifiers=idents,
        timestamp=event.timestamp,
        type=event.type,
        channel=event.channel,
        message_id=event.message_id,
        traits=traits_set,
        previous_id=previous,
    )


def _get(mapping: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    if mapping is None or isinstance(mapping, dict | list):
        return None
    return str(mapping)[:2000]


_CONTEXT_PATHS: dict[str, tuple[str, ...]] = {
    "ip": ("ip",),
    "library_name": ("library", "name"),
    "library_version": ("library", "version"),
    "user_agent": ("userAgent",),
    "locale": ("locale",),
    "timezone": ("timezone",),
    "campaign_source": ("campaign", "source"),
    "campaign_medium": ("campaign", "medium"),
    "campaign_name": ("campaign", "name"),
    "campaign_term": ("campaign", "term"),
    "campaign_content": ("campaign", "content"),
    "device_type": ("device", "type"),
    "device_id": ("device", "id"),
    "os_name": ("os", "name"),
    "app_version": ("app", "version"),
    "page_url": ("page", "url"),
    "page_path": ("page", "path"),
    "page_referrer": ("page", "referrer"),
    "page_title": ("page", "title"),
}
_PAGE_PROPERTIES = {
    "page_url": "url",
    "page_path": "path",
    "page_referrer": "referrer",
    "page_title": "title",
}


def _text(value: dict[str, Any] | None) -> str | None:
    return None if not value else _json.encode(value).decode()


def to_table(events: Sequence[Event], profile_ids: Sequence[uuid.UUID]) -> pa.Table:
    """The events as an Arrow table in the store's schema."""
    columns: dict[str, list[Any]] = {name: [] for name in store.COLUMNS}
    for event, profile_id in zip(events, profile_ids, strict=True):
        columns["message_id"].append(event.message_id)
        columns["type"].append(event.type)
        columns["event"].append(event.event)
        columns["name"].append(event.name)
        columns["profile_id"].append(str(profile_id))
        columns["user_id"].append(event.user_id)
        columns["anonymous_id"].append(event.anonymous_id)
        columns["previous_id"].append(event.previous_id)
        columns["group_id"].append(event.group_id)
        columns["timestamp"].append(event.timestamp)
        columns["received_at"].append(event.received_at)
        columns["original_timestamp"].append(event.original_timestamp)
        columns["sent_at"].append(event.sent_at)
        columns["channel"].append(event.channel)
        context = event.context or {}
        for column, path in _CONTEXT_PATHS.items():
            columns[column].append(_get(context, *path))
        if event.type == "page" and event.properties:
            for column, key in _PAGE_PROPERTIES.items():
                value = _get(event.properties, key)
                if value is not None:
                    columns[column][-1] = value
        columns["properties"].append(_text(event.properties))
        columns["traits"].append(_text(event.traits))
        columns["context"].append(_text(event.context))
    return pa.Table.from_pydict(columns, schema=store.SCHEMA)


# -- the inbox -------------------------------------------------------------------------------


def pending(session: Session) -> bool:
    return session.scalar(select(InboxBatch.id).limit(1)) is not None


def load_inbox_once(
    factory: sessionmaker[Session], root: Path, holder: str, *, max_events: int = 20_000
) -> LoadResult | None:
    """Load up to ``max_events`` from the inbox in one transaction.

    None when another process holds the loader lease; an empty result when nothing waits.
    """
    with transaction(factory) as session:
        if not pending(session):
            return LoadResult()
        if not lease.acquire(session, LEASE_NAME, holder, timedelta(seconds=60)):
            return None
    with transaction(factory) as session:
        rows = _take(session, max_events)
        if not rows:
            return LoadResult()
        result = LoadResult()
        grouped: dict[uuid.UUID, list[Event]] = defaultdict(list)
        for row in rows:
            grouped[row.workspace_id].extend(unpack_events(row.payload))
        for workspace_id, events in grouped.items():
            result.add(load_events(session, workspace_id, events, root))
        session.execute(
            delete(InboxBatch)
            .where(InboxBatch.id.in_([r.id for r in rows]))
            .execution_options(synchronize_session=False)
        )
    return result


def _take(session: Session, max_events: int) -> list[InboxBatch]:
    rows: list[InboxBatch] = []
    total = 0
    for row in session.scalars(select(InboxBatch).order_by(InboxBatch.id).limit(1000)):
        rows.append(row)
        total += row.event_count
        if total >= max_events:
            break
    return rows


def drain(factory: sessionmaker[Session], root: Path, holder: str) -> LoadResult:
    """Load until the inbox is empty (tests, the demo, a worker catching up)."""
    total = LoadResult()
    while True:
        result = load_inbox_once(factory, root, holder)
        if result is None:
            raise RuntimeError("another loader holds the lease")
        if result.loaded == 0 and result.duplicates == 0:
            with transaction(factory) as session:
                if not pending(session):
                    return total
        total.add(result)


def iter_batches(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
