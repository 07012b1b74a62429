"""Who a survey goes to: a customer given by identifiers or profile id, resolved to the
profile, the address to write to, the language to write in and the name to greet."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.models import Identity, Profile
from cxloop.profiles import errors as profile_errors
from cxloop.profiles import service as profiles
from cxloop.surveys.schemas import LANGUAGES

# identifiers most trusted first, when one must be picked to find the customer
KIND_ORDER = ("user_id", "email", "phone", "anonymous_id")
_LANGUAGE_TRAITS = ("language", "locale", "lang")
_NAME_TRAITS = ("first_name", "firstName", "name")


@dataclass
class Recipient:
    """A customer as far as they are known: ``ids`` are normalised identifiers."""

    ids: dict[str, str]
    profile: Profile | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    name: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def profile_id(self) -> uuid.UUID | None:
        return self.profile.id if self.profile is not None else None


def language_of(raw: Any) -> str | None:
    """``vi``, ``th`` or ``en`` from a language or locale such as ``th-TH`` or ``vi_VN``."""
    if not isinstance(raw, str):
        return None
    code = raw.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def resolve(
    session: Session,
    workspace_id: uuid.UUID,
    given: Mapping[str, Any],
    *,
    profile_id: uuid.UUID | None = None,
    language: str | None = None,
    name: str | None = None,
) -> Recipient:
    """The customer of ``given`` identifiers (or of ``profile_id``), with what their
    profile adds: an email address, a preferred language, a name."""
    normalise = profiles.normaliser(session, workspace_id)
    recipient = Recipient(ids={})
    for kind, raw in given.items():
        if raw is None or raw == "":
            continue
        value = normalise(kind, raw)
        if value is None:
            recipient.problems.append(f"not a usable {kind.replace('_', ' ')}")
        else:
            recipient.ids[kind] = value
    recipient.profile = _profile(session, workspace_id, recipient, profile_id)
    traits = recipient.profile.traits if recipient.profile is not None else {}
    recipient.email = recipient.ids.get("email") or _trait_or_identity(
        session, workspace_id, recipient.profile, "email", normalise
    )
    recipient.phone = recipient.ids.get("phone") or _trait_or_identity(
        session, workspace_id, recipient.profile, "phone", normalise
    )
    recipient.language = language_of(language) or next(
        (found for t in _LANGUAGE_TRAITS if (found := language_of(traits.get(t)))), None
    )
    recipient.name = name or next(
        (str(traits[t]) for t in _NAME_TRAITS if isinstance(traits.get(t), str) and traits[t]),
        None,
    )
    return recipient


def of_profile(session: Session, workspace_id: uuid.UUID, profile: Profile) -> Recipient:
    return resolve(session, workspace_id, {}, profile_id=profile.id)


def _profile(
    session: Session,
    workspace_id: uuid.UUID,
    recipient: Recipient,
    profile_id: uuid.UUID | None,
) -> Profile | None:
    if profile_id is not None:
        try:
            return profiles.get_profile(session, workspace_id, profile_id)
        except profile_errors.CustomerNotFound:
            recipient.problems.append("no such customer in this workspace")
            return None
    for kind in (*KIND_ORDER, *sorted(recipient.ids)):
        if kind in recipient.ids:
            found = profiles.find_profile(session, workspace_id, kind, recipient.ids[kind])
            if found is not None:
                return found
    return None


def _trait_or_identity(
    session: Session,
    workspace_id: uuid.UUID,
    profile: Profile | None,
    kind: str,
    normalise: Callable[[str, Any], str | None],
) -> str | None:
    if profile is None:
        return None
    value = normalise(kind, profile.traits.get(kind))
    if value is not None:
        return value
    return session.scalar(
        select(Identity.value)
        .where(
            Identity.workspace_id == workspace_id,
            Identity.profile_id.in_(profiles.merged_ids(session, workspace_id, profile.id)),
            Identity.kind == kind,
        )
        .order_by(Identity.created_at.desc())
        .limit(1)
    )
