"""Customer profiles: identity resolution against the database, lookups, merge history."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Select, String, Table, bindparam, func, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from cxloop.accounts.service import record_audit
from cxloop.analytics import events as store
from cxloop.analytics.events import TimelineFilter
from cxloop.core.actors import Actor
from cxloop.core.db import among, bulk_write
from cxloop.core.ids import uuid7
from cxloop.core.time import utcnow
from cxloop.eventstore.service import current_files
from cxloop.models import Identity, IdentityRuleSet, Profile, ProfileMerge, TextAnalysis
from cxloop.profiles import errors
from cxloop.profiles.resolver import Ident, Observation, ProfileState, Resolver
from cxloop.profiles.rules import IdentityRules, Normaliser

_CHUNK = 2000
# Core tables: the bulk paths skip ORM objects (tens of thousands of rows per batch)
_PROFILE = cast(Table, Profile.__table__)
_IDENTITY = cast(Table, Identity.__table__)
_MERGE = cast(Table, ProfileMerge.__table__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

LOOKUP_KINDS = ("user_id", "anonymous_id", "email", "phone")
CUSTOMER_TEXTS = 10  # analyses of the customer's texts shown in the 360, the latest first


def _us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dt(micros: int | None) -> datetime | None:
    # integer arithmetic, exact to the microsecond like the times in the event files
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- rules ----------------------------------------------------------------------------------


def get_rules(session: Session, workspace_id: uuid.UUID) -> IdentityRules:
    row = session.get(IdentityRuleSet, workspace_id)
    return IdentityRules.model_validate(row.rules) if row is not None else IdentityRules()


def set_rules(
    session: Session, workspace_id: uuid.UUID, rules: IdentityRules, actor: Actor
) -> IdentityRules:
    """Replace the rules; they apply to messages loaded from now on (merges are not undone)."""
    row = session.get(IdentityRuleSet, workspace_id)
    data = rules.model_dump()
    if row is None:
        session.add(IdentityRuleSet(workspace_id=workspace_id, rules=data))
    else:
        row.rules = data
        row.updated_at = utcnow()
    session.flush()
    record_audit(session, actor, "identity_rules.updated", workspace_id=workspace_id, details=data)
    return rules


def normaliser(session: Session, workspace_id: uuid.UUID) -> Normaliser:
    return Normaliser(get_rules(session, workspace_id))


# -- resolution -----------------------------------------------------------------------------


# Past this many customers an import's cache starts again from the database after a batch:
# about 1.5 KiB each, so a file of millions of customers stays within a bounded memory.
MAX_CACHED_PROFILES = 50_000


@dataclass
class ResolveCache:
    """Identity state kept across the batches of one bulk import (which holds the loader
    lease throughout, so nothing else changes identities meanwhile). Profile statistics are
    not tracked batch by batch then; :func:`cxloop.profiles.stats.recompute_stats` sets them
    once at the end."""

    owners: dict[Ident, uuid.UUID] = field(default_factory=dict)
    profiles: dict[uuid.UUID, ProfileState] = field(default_factory=dict)
    touched: set[uuid.UUID] = field(default_factory=set)
    max_profiles: int = field(default_factory=lambda: MAX_CACHED_PROFILES)


@dataclass
class Resolution:
    """Identity decisions for a batch, made from the database but not yet written to it."""

    resolver: Resolver
    profile_ids: list[uuid.UUID]

    @property
    def touched(self) -> int:
        return len(set(self.profile_ids))


def resolve(
    session: Session,
    workspace_id: uuid.UUID,
    observations: Sequence[Observation],
    rules: IdentityRules,
    *,
    cache: ResolveCache | None = None,
) -> list[uuid.UUID]:
    """The profile of each observation, in order; profiles are created, updated and merged.

    A handful of queries per call, whatever the number of observations: the loader calls
    this once per micro-batch.
    """
    resolution = plan_resolution(session, workspace_id, observations, rules, cache=cache)
    apply_resolution(session, workspace_id, resolution, cache=cache)
    return resolution.profile_ids


def plan_resolution(
    session: Session,
    workspace_id: uuid.UUID,
    observations: Sequence[Observation],
    rules: IdentityRules,
    *,
    cache: ResolveCache | None = None,
) -> Resolution:
    """Decide the profile of each observation, reading the database but writing nothing.

    Nothing else may change identities before :func:`apply_resolution` (the loader lease).
    """
    owners = cache.owners if cache is not None else {}
    profiles = cache.profiles if cache is not None else {}
    _load_state(session, workspace_id, observations, owners, profiles)
    resolver = Resolver(rules, owners, profiles, stats=cache is None)
    return Resolution(resolver, [resolver.resolve(obs) for obs in observations])


def apply_resolution(
    session: Session,
    workspace_id: uuid.UUID,
    resolution: Resolution,
    *,
    cache: ResolveCache | None = None,
) -> None:
    """Write new and changed profiles, identities and merges."""
    _apply(session, workspace_id, resolution.resolver)
    if cache is not None:
        for state in resolution.resolver.profiles.values():
            state.is_new = state.changed = False
        cache.touched.update(resolution.profile_ids)
        if len(cache.profiles) > cache.max_profiles:
            # everything is written (flushed) by now; the next batch reads what it needs
            cache.owners.clear()
            cache.profiles.clear()


def _identity_lookup(
    session: Session, workspace_id: uuid.UUID, kind: str, values: Sequence[str]
) -> Select[str, uuid.UUID]:
    """The owners of ``values``. On PostgreSQL the values are a table joined to the index:
    before the statistics know how large ``identity`` has grown (a bulk import), a filter
    ``value = ANY(...)`` is planned as a scan of every identity of the kind, seconds each."""
    table = _IDENTITY
    if session.get_bind().dialect.name != "postgresql":
        return select(table.c.value, table.c.profile_id).where(
            table.c.workspace_id == workspace_id, table.c.kind == kind, table.c.value.in_(values)
        )
    wanted = (
        func.unnest(bindparam("values", list(values), type_=ARRAY(String())))
        .table_valued("value")
        .render_derived(name="wanted")
    )
    return (
        select(table.c.value, table.c.profile_id)
        .select_from(wanted.join(table, table.c.value == wanted.c.value))
        .where(table.c.workspace_id == workspace_id, table.c.kind == kind)
    )


def _load_state(
    session: Session,
    workspace_id: uuid.UUID,
    observations: Sequence[Observation],
    owners: dict[Ident, uuid.UUID],
    profiles: dict[uuid.UUID, ProfileState],
) -> None:
    """Add to ``owners`` and ``profiles`` what the database knows of these identifiers."""
    by_kind: dict[str, set[str]] = {}
    for obs in observations:
        for ident in obs.identifiers:
            if ident not in owners:
                by_kind.setdefault(ident[0], set()).add(ident[1])
        if obs.previous_id is not None:
            for kind in ("user_id", "anonymous_id"):
                if (kind, obs.previous_id) not in owners:
                    by_kind.setdefault(kind, set()).add(obs.previous_id)
    found: set[uuid.UUID] = set()
    for kind, values in by_kind.items():
        for chunk in _chunks(sorted(values)):
            rows = session.execute(_identity_lookup(session, workspace_id, kind, chunk))
            for value, profile_id in rows:
                owners[(kind, value)] = profile_id
                found.add(profile_id)
    columns = _PROFILE.c
    for chunk in _chunks(sorted(found - profiles.keys())):
        rows = session.execute(
            select(
                columns.id,
                columns.merge_count,
                columns.first_seen_at,
                columns.last_seen_at,
                columns.traits,
                columns.trait_times,
                columns.channels,
                columns.counters,
                columns.event_count,
            ).where(among(session, columns.id, chunk))
        )
        for row in rows:
            profiles[row.id] = ProfileState(
                id=row.id,
                merge_count=row.merge_count,
                first_seen=_us(row.first_seen_at),
                last_seen=_us(row.last_seen_at),
                traits=dict(row.traits),
                trait_times={
                    k: _us(datetime.fromisoformat(v)) or 0 for k, v in row.trait_times.items()
                },
                channels=dict(row.channels),
                counters=dict(row.counters),
                event_count=row.event_count,
            )
        held = session.execute(
            select(_IDENTITY.c.kind, _IDENTITY.c.value, _IDENTITY.c.profile_id).where(
                among(session, _IDENTITY.c.profile_id, chunk)
            )
        )
        for kind, value, profile_id in held:
            profiles[profile_id].identities.setdefault(kind, set()).add(value)
            owners[(kind, value)] = profile_id


def _profile_values(state: ProfileState, now: datetime, stats: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if stats:
        values = {
            "first_seen_at": _dt(state.first_seen),
            "last_seen_at": _dt(state.last_seen),
            "channels": state.channels,
            "counters": state.counters,
            "event_count": state.event_count,
        }
    return values | {
        "traits": state.traits,
        "trait_times": {k: (_dt(v) or _EPOCH).isoformat() for k, v in state.trait_times.items()},
        "merge_count": state.merge_count,
        "merged_into_id": state.merged_into,
        "merged_at": now if state.merged_into is not None else None,
        "updated_at": now,
    }


def _changed_values(state: ProfileState, now: datetime, stats: bool) -> dict[str, Any]:
    values = _profile_values(state, now, stats=stats)
    values["id"] = state.id
    if state.merged_into is None:
        del values["merged_at"]
    return values


def _apply(session: Session, workspace_id: uuid.UUID, resolver: Resolver) -> None:
    now = utcnow()
    states = resolver.profiles.values()
    bulk_write(
        session,
        _PROFILE,
        (
            _profile_values(p, now, stats=True)
            | {"id": p.id, "workspace_id": workspace_id, "created_at": now}
            for p in states
            if p.is_new
        ),
    )
    for merged in (False, True):  # executemany needs the same columns in every row
        bulk_write(
            session,
            _PROFILE,
            (
                _changed_values(p, now, resolver.stats)
                for p in states
                if p.changed and not p.is_new and (p.merged_into is not None) == merged
            ),
            key="id",
        )
    if resolver.new_identities:
        bulk_write(
            session,
            _IDENTITY,
            (
                {
                    "id": uuid7(),
                    "workspace_id": workspace_id,
                    "kind": n.kind,
                    "value": n.value,
                    "profile_id": n.profile_id,
                    "first_seen_at": _dt(n.first_seen),
                    "created_at": now,
                }
                for n in resolver.new_identities
            ),
        )
    for merge in resolver.merges:
        session.execute(
            update(Identity)
            .where(Identity.workspace_id == workspace_id, Identity.profile_id == merge.from_id)
            .values(profile_id=merge.into_id)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Profile)
            .where(Profile.workspace_id == workspace_id, Profile.merged_into_id == merge.from_id)
            .values(merged_into_id=merge.into_id)
            .execution_options(synchronize_session=False)
        )
    if resolver.merges:
        bulk_write(
            session,
            _MERGE,
            (
                {
                    "id": uuid7(),
                    "workspace_id": workspace_id,
                    "from_profile_id": m.from_id,
                    "into_profile_id": m.into_id,
                    "reason": m.reason,
                    "message_id": m.message_id,
                    "identifiers": m.identifiers,
                    "dropped": m.dropped,
                    "created_at": _dt(m.timestamp) or now,
                }
                for m in resolver.merges
            ),
        )


# -- lookups --------------------------------------------------------------------------------


def get_profile(session: Session, workspace_id: uuid.UUID, profile_id: uuid.UUID) -> Profile:
    """The customer ``profile_id`` is now: a merged id leads to the profile it became."""
    profile = session.scalar(
        select(Profile).where(Profile.id == profile_id, Profile.workspace_id == workspace_id)
    )
    if profile is None:
        raise errors.CustomerNotFound("no such customer in this workspace")
    if profile.merged_into_id is not None:
        survivor = session.scalar(
            select(Profile).where(
                Profile.id == profile.merged_into_id, Profile.workspace_id == workspace_id
            )
        )
        if survivor is None:
            raise errors.CustomerNotFound("no such customer in this workspace")
        return survivor
    return profile


def find_profile(
    session: Session, workspace_id: uuid.UUID, kind: str, raw_value: str
) -> Profile | None:
    """The customer holding an identifier, normalised as the loader normalises it."""
    value = normaliser(session, workspace_id)(kind, raw_value)
    if value is None:
        return None
    profile_id = session.scalar(
        select(Identity.profile_id).where(
            Identity.workspace_id == workspace_id, Identity.kind == kind, Identity.value == value
        )
    )
    if profile_id is None:
        return None
    return get_profile(session, workspace_id, profile_id)


def merged_ids(session: Session, workspace_id: uuid.UUID, profile_id: uuid.UUID) -> list[uuid.UUID]:
    """Every profile id that is now ``profile_id`` (itself first)."""
    rows = session.scalars(
        select(Profile.id).where(
            Profile.workspace_id == workspace_id, Profile.merged_into_id == profile_id
        )
    ).all()
    return [profile_id, *rows]


# (database, workspace) -> (merged profiles, their map); see merge_map
_MERGE_MAPS: dict[tuple[str, uuid.UUID], tuple[int, dict[str, str]]] = {}
_MERGE_MAPS_KEPT = 16


def merge_map(session: Session, workspace_id: uuid.UUID, *, fresh: bool = False) -> dict[str, str]:
    """merged profile id -> the profile it became, for analytics to count a customer once.

    Kept in the process between queries (the caller must not change it): a merge always
    marks one more profile as merged, in the same transaction as any re-pointing of older
    merges, and a merge is never undone, so the number of merged profiles (an index-only
    count, ~2 ms on 16,000 merges) says whether the kept map is still the workspace's.
    Reading the map again costs ~40 ms there, on every funnel or KPI query. A transaction
    that has merged profiles itself reads it ``fresh``: what it sees may yet be rolled back.
    """
    merged = Profile.workspace_id == workspace_id, Profile.merged_into_id.is_not(None)
    key = (str(session.get_bind().engine.url), workspace_id)  # the same ids in another database
    if not fresh:
        count = session.scalar(select(func.count()).select_from(Profile).where(*merged)) or 0
        if count == 0:
            return {}
        kept = _MERGE_MAPS.get(key)
        if kept is not None and kept[0] == count:
            return kept[1]
    # read as text: making a uuid.UUID of each id and printing it again costs more than the
    # query on a workspace with tens of thousands of merges
    rows = session.execute(
        select(sql_cast(Profile.id, String), sql_cast(Profile.merged_into_id, String)).where(
            *merged
        )
    )
    found = {_uuid_text(a): _uuid_text(b) for a, b in rows}
    if fresh:
        return found
    if len(_MERGE_MAPS) >= _MERGE_MAPS_KEPT:
        _MERGE_MAPS.pop(next(iter(_MERGE_MAPS)))
    _MERGE_MAPS[key] = (len(found), found)
    return found


def _uuid_text(text: str) -> str:
    """The usual text of a UUID (SQLite keeps the 32 hex digits only)."""
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text.lower()


# -- customer 360 ---------------------------------------------------------------------------


def customer_view(session: Session, workspace_id: uuid.UUID, profile: Profile) -> dict[str, Any]:
    """Everything known about a customer, with the merges that made them one and what the
    text analysis read in their latest words."""
    view = customer_views(session, workspace_id, [profile])[0]
    view["text_analyses"] = session.scalars(
        select(TextAnalysis)
        .where(
            TextAnalysis.workspace_id == workspace_id,
            TextAnalysis.profile_id.in_([profile.id, *view["merged_ids"]]),
        )
        .order_by(TextAnalysis.analysed_at.desc(), TextAnalysis.id)
        .limit(CUSTOMER_TEXTS)
    ).all()
    return view


def customer_views(
    session: Session, workspace_id: uuid.UUID, found: Sequence[Profile]
) -> list[dict[str, Any]]:
    """:func:`customer_view` of many customers in three queries, whatever their number."""
    ids = [p.id for p in found]
    merged: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    for pid, into in session.execute(
        select(Profile.id, Profile.merged_into_id).where(
            Profile.workspace_id == workspace_id, Profile.merged_into_id.in_(ids)
        )
    ):
        if into is not None:
            merged[into].append(pid)
    identities: dict[uuid.UUID, list[Identity]] = {i: [] for i in ids}
    for identity in session.scalars(
        select(Identity)
        .where(Identity.workspace_id == workspace_id, Identity.profile_id.in_(ids))
        .order_by(Identity.kind, Identity.created_at)
    ):
        identities[identity.profile_id].append(identity)
    merges: dict[uuid.UUID, list[ProfileMerge]] = {i: [] for i in ids}
    owner = {m: i for i, ms in merged.items() for m in ms} | {i: i for i in ids}
    every = [*ids, *owner.keys()]
    for merge in session.scalars(
        select(ProfileMerge)
        .where(
            ProfileMerge.workspace_id == workspace_id,
            ProfileMerge.into_profile_id.in_(every),
        )
        .order_by(ProfileMerge.created_at, ProfileMerge.id)
    ):
        merges[owner[merge.into_profile_id]].append(merge)
    return [
        {
            "id": p.id,
            "merged_ids": merged[p.id],
            "identities": identities[p.id],
            "traits": p.traits,
            "trait_times": p.trait_times,
            "first_seen_at": p.first_seen_at,
            "last_seen_at": p.last_seen_at,
            "channels": p.channels,
            "counters": p.counters,
            "event_count": p.event_count,
            "merges": merges[p.id],
        }
        for p in found
    ]


def search(
    session: Session, workspace_id: uuid.UUID, lookups: dict[str, str | None], limit: int = 50
) -> list[Profile]:
    """Customers matching every identifier given; the newest seen when none is given."""
    given = {k: v for k, v in lookups.items() if v is not None and v != ""}
    if not given:
        return list(
            session.scalars(
                select(Profile)
                .where(Profile.workspace_id == workspace_id, Profile.merged_into_id.is_(None))
                .order_by(Profile.last_seen_at.desc().nulls_last(), Profile.id)
                .limit(limit)
            )
        )
    found: Profile | None = None
    for kind, raw in given.items():
        profile = find_profile(session, workspace_id, kind, raw or "")
        if profile is None or (found is not None and profile.id != found.id):
            return []
        found = profile
    return [found] if found is not None else []


def timeline(
    session: Session,
    workspace_id: uuid.UUID,
    profile: Profile,
    root: Path,
    flt: TimelineFilter,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the customer's events across every channel, newest first."""
    ids = [str(i) for i in merged_ids(session, workspace_id, profile.id)]
    files = current_files(session, workspace_id, root, since=flt.since, until=flt.until)
    rows = store.timeline(files, replace(flt, profile_ids=ids))
    for row in rows:
        for column in ("properties", "traits", "context"):
            row[column] = orjson.loads(row[column]) if row[column] else None
    cursor = None
    if len(rows) == flt.limit:
        last = rows[-1]
        cursor = encode_cursor(last["timestamp"], last["message_id"])
    return rows, cursor


def encode_cursor(moment: datetime, message_id: str) -> str:
    raw = f"{moment.isoformat()}|{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, message_id = raw.partition("|")
        found = datetime.fromisoformat(moment)
        if found.tzinfo is None or not message_id:
            raise ValueError("not a cursor")
        return found, message_id
    except (ValueError, UnicodeDecodeError):
        raise errors.BadLookup("cursor: not a cursor this API gave out") from None
