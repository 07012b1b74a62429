"""Identity resolution in memory, one micro-batch at a time.

The service loads the identities and profiles a batch touches, this module decides which
profile each message belongs to (creating and merging profiles under the workspace's rules),
and the service writes the outcome back in one transaction. Keeping the decisions free of
SQL keeps the loader at a few queries per batch instead of several per event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from cxloop.core.ids import uuid7
from cxloop.profiles.rules import IdentityRules

Ident = tuple[str, str]  # (kind, normalised value)


@dataclass(slots=True)
class Observation:
    """What one message tells about a customer."""

    identifiers: list[Ident]
    timestamp: int  # microseconds since the epoch, UTC
    type: str
    channel: str
    message_id: str
    traits: dict[str, Any] | None = None
    # alias: the identifier that becomes the same customer (a user id or an anonymous id)
    previous_id: str | None = None
    # a group of ``count`` messages with the same identifiers, seen between ``timestamp`` and
    # ``last_timestamp``, resolved once: their counts by type and by channel
    count: int = 1
    last_timestamp: int | None = None
    type_counts: dict[str, int] | None = None
    channel_counts: dict[str, int] | None = None
    # only events that happen to the customer (an email delivered, a push received): they
    # count, but do not make the customer seen (``last_seen``)
    passive: bool = False


@dataclass(slots=True)
class ProfileState:
    id: uuid.UUID
    is_new: bool = False
    identities: dict[str, set[str]] = field(default_factory=dict)
    merge_count: int = 0
    first_seen: int | None = None
    last_seen: int | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    trait_times: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    event_count: int = 0
    merged_into: uuid.UUID | None = None
    changed: bool = False

    def count(self, kind: str) -> int:
        values = self.identities.get(kind)
        return len(values) if values else 0


@dataclass(slots=True)
class Merge:
    from_id: uuid.UUID
    into_id: uuid.UUID
    reason: str
    message_id: str
    identifiers: dict[str, list[str]]
    dropped: dict[str, list[str]]
    timestamp: int


@dataclass(slots=True)
class NewIdentity:
    kind: str
    value: str
    profile_id: uuid.UUID
    first_seen: int


class Resolver:
    """Decides the profile of each observation; records what must be written."""

    def __init__(
        self,
        rules: IdentityRules,
        owners: dict[Ident, uuid.UUID],
        profiles: dict[uuid.UUID, ProfileState],
        *,
        stats: bool = True,
    ) -> None:
        self.rules = rules
        # False in bulk imports: counts and times are computed once at the end instead
        self.stats = stats
        self.owners = owners
        self.profiles = profiles
        self.new_identities: list[NewIdentity] = []
        self.merges: list[Merge] = []
        self.refusals = 0
        self._rank = {kind: i for i, kind in enumerate(rules.priority)}
        self._last = len(rules.priority)

    # -- the decision --------------------------------------------------------------------

    def resolve(self, obs: Observation) -> uuid.UUID:
        """The profile ``obs`` belongs to, after any creation or merge it causes."""
        idents = obs.identifiers
        if obs.previous_id is not None:
            idents = self._with_alias(idents, obs.previous_id)
        owners = self.owners
        # fast path: every identifier known and on one profile (most events)
        first = owners.get(idents[0]) if idents else None
        if first is not None and all(owners.get(i) == first for i in idents[1:]):
            profile = self.profiles[first]
            self._observe(profile, obs)
            return first
        profile_id = self._resolve_slow(idents, obs)
        self._observe(self.profiles[profile_id], obs)
        return profile_id

    def _with_alias(self, idents: list[Ident], previous: str) -> list[Ident]:
        # previousId is whichever kind it is already known as; else an anonymous id.
        for kind in ("user_id", "anonymous_id"):
            if (kind, previous) in self.owners:
                candidate = (kind, previous)
                break
        else:
            candidate = ("anonymous_id", previous)
        if candidate in idents:
            return idents
        return self._sorted([*idents, candidate])

    def _sorted(self, idents: list[Ident]) -> list[Ident]:
        return sorted(idents, key=lambda i: self._rank.get(i[0], self._last))

    def _resolve_slow(self, idents: list[Ident], obs: Observation) -> uuid.UUID:
        dropped: list[Ident] = []
        current = list(idents)
        while True:
            found: list[uuid.UUID] = []
            for ident in current:
                owner = self.owners.get(ident)
                if owner is not None and owner not in found:
                    found.append(owner)
            if not found:
                return self._create(current, obs)
            fresh = [i for i in current if i not in self.owners]
            if len(found) == 1:
                profile = self.profiles[found[0]]
                if self._fits([profile], fresh):
                    self._attach(profile, fresh, obs.timestamp)
                    return profile.id
            else:
                group = [self.profiles[p] for p in found]
                survivor = group[0]  # owner of the most trusted identifier
                merged_in = sum(p.merge_count + 1 for p in group[1:])
                if survivor.merge_count + merged_in <= self.rules.merge_cap and self._fits(
                    group, fresh
                ):
                    for other in group[1:]:
                        self._merge(other, survivor, obs, current, dropped)
                    self._attach(survivor, fresh, obs.timestamp)
                    return survivor.id
                if survivor.merge_count + merged_in > self.rules.merge_cap:
                    self.refusals += 1
            # a limit or the merge cap forbids it: drop the least trusted identifier, retry
            dropped.append(current.pop())

    def _fits(self, group: list[ProfileState], fresh: list[Ident]) -> bool:
        """Would these profiles plus ``fresh`` identifiers stay within every limit?"""
        kinds: dict[str, set[str]] = {}
        for profile in group:
            for kind, values in profile.identities.items():
                kinds.setdefault(kind, set()).update(values)
        for kind, value in fresh:
            kinds.setdefault(kind, set()).add(value)
        return all(len(values) <= self.rules.limit(kind) for kind, values in kinds.items())

    # -- changes -------------------------------------------------------------------------

    def _create(self, idents: list[Ident], obs: Observation) -> uuid.UUID:
        profile = ProfileState(id=uuid7(), is_new=True, changed=True)
        self.profiles[profile.id] = profile
        accepted: list[Ident] = []
        for ident in idents:  # one message may carry two values of a limited kind
            if profile.count(ident[0]) + 1 <= self.rules.limit(ident[0]):
                profile.identities.setdefault(ident[0], set()).add(ident[1])
                accepted.append(ident)
        for kind, value in accepted:
            self.owners[(kind, value)] = profile.id
            self.new_identities.append(NewIdentity(kind, value, profile.id, obs.timestamp))
        return profile.id

    def _attach(self, profile: ProfileState, fresh: list[Ident], timestamp: int) -> None:
        for kind, value in fresh:
            profile.identities.setdefault(kind, set()).add(value)
            self.owners[(kind, value)] = profile.id
            self.new_identities.append(NewIdentity(kind, value, profile.id, timestamp))
            profile.changed = True

    def _merge(
        self,
        source: ProfileState,
        target: ProfileState,
        obs: Observation,
        linking: list[Ident],
        dropped: list[Ident],
    ) -> None:
        for kind, values in source.identities.items():
            target.identities.setdefault(kind, set()).update(values)
            for value in values:
                self.owners[(kind, value)] = target.id
        source.merged_into = target.id
        source.changed = True
        target.merge_count += source.merge_count + 1
        _absorb(target, source)
        target.changed = True
        self.merges.append(
            Merge(
                from_id=source.id,
                into_id=target.id,
                reason=obs.type,
                message_id=obs.message_id,
                identifiers=_group(linking),
                dropped=_group(dropped),
                timestamp=obs.timestamp,
            )
        )

    def _observe(self, profile: ProfileState, obs: Observation) -> None:
        if not self.stats:
            if obs.traits:
                set_traits(profile, obs.traits, obs.timestamp)
                profile.changed = True
            return
        ts = obs.timestamp
        last = obs.last_timestamp if obs.last_timestamp is not None else ts
        if profile.first_seen is None or ts < profile.first_seen:
            profile.first_seen = ts
        if not obs.passive and (profile.last_seen is None or last > profile.last_seen):
            profile.last_seen = last
        profile.event_count += obs.count
        _add(profile.counters, obs.type_counts or {obs.type: obs.count})
        _add(profile.channels, obs.channel_counts or {obs.channel: obs.count})
        if obs.traits:
            set_traits(profile, obs.traits, ts)
        profile.changed = True


def _add(totals: dict[str, int], counts: dict[str, int]) -> None:
    for name, n in counts.items():
        totals[name] = totals.get(name, 0) + n


def set_traits(profile: ProfileState, traits: dict[str, Any], ts: int) -> None:
    """Each trait keeps the value of the newest message that set it (late events lose)."""
    for name, value in traits.items():
        known = profile.trait_times.get(name)
        if known is None or ts >= known:
            profile.traits[name] = value
            profile.trait_times[name] = ts


def _absorb(target: ProfileState, source: ProfileState) -> None:
    if source.first_seen is not None and (
        target.first_seen is None or source.first_seen < target.first_seen
    ):
        target.first_seen = source.first_seen
    if source.last_seen is not None and (
        target.last_seen is None or source.last_seen > target.last_seen
    ):
        target.last_seen = source.last_seen
    target.event_count += source.event_count
    for name, n in source.counters.items():
        target.counters[name] = target.counters.get(name, 0) + n
    for name, n in source.channels.items():
        target.channels[name] = target.channels.get(name, 0) + n
    for name, ts in source.trait_times.items():
        known = target.trait_times.get(name)
        if known is None or ts > known:
            target.traits[name] = source.traits.get(name)
            target.trait_times[name] = ts


def _group(idents: list[Ident]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for kind, value in idents:
        grouped.setdefault(kind, []).append(value)
    return grouped
