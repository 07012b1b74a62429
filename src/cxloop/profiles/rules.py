"""Identity rules and identifier normalisation (email, phone in E.164, external ids)."""

from __future__ import annotations

import functools
import re
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator

KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

DEFAULT_PRIORITY = [
    "user_id",
    "email",
    "phone",
    "line_id",
    "zalo_id",
    "facebook_id",
    "loyalty_id",
    "anonymous_id",
]
DEFAULT_LIMITS = {"user_id": 1, "email": 5, "phone": 5, "anonymous_id": 1000}
DEFAULT_BLOCKED = [
    "",
    "0",
    "-1",
    "null",
    "none",
    "nil",
    "nan",
    "undefined",
    "unknown",
    "anonymous",
    "n/a",
    "na",
    "[object object]",
    "test@test.com",
    "test@example.com",
    "email@example.com",
    "noreply@example.com",
    "+10000000000",
]

# Trait names (identify traits, context.traits) that carry an identifier, and its kind.
TRAIT_IDENTIFIERS = {
    "email": "email",
    "phone": "phone",
    "phoneNumber": "phone",
    "phone_number": "phone",
    "mobile": "phone",
    "lineId": "line_id",
    "line_id": "line_id",
    "lineUserId": "line_id",
    "zaloId": "zalo_id",
    "zalo_id": "zalo_id",
    "facebookId": "facebook_id",
    "facebook_id": "facebook_id",
    "loyaltyId": "loyalty_id",
    "loyalty_id": "loyalty_id",
    "loyaltyCard": "loyalty_id",
}


class IdentityRules(BaseModel):
    """How identifiers of one workspace resolve into profiles."""

    model_config = ConfigDict(extra="forbid")

    priority: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PRIORITY),
        description="Identifier kinds, most trusted first. On a conflict the least trusted "
        "identifier of the message is dropped first. Kinds not listed rank last.",
    )
    limits: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_LIMITS),
        description="Most values of a kind one profile may hold (e.g. one user_id).",
    )
    default_limit: int = Field(default=10, ge=1, description="Limit for kinds not in `limits`.")
    blocked_values: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BLOCKED),
        description="Values never used as identifiers, compared case-insensitively.",
    )
    merge_cap: int = Field(
        default=100,
        ge=0,
        description="Most profiles that may be merged into one; beyond it merges are refused.",
    )
    default_region: str = Field(
        default="VN", description="Region for phone numbers written without a country code."
    )

    @field_validator("priority")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        for kind in value:
            if not KIND.fullmatch(kind):
                raise ValueError(f"{kind!r} is not an identifier kind (a-z, 0-9, _)")
        if len(set(value)) != len(value):
            raise ValueError("a kind is listed twice")
        return value

    @field_validator("limits")
    @classmethod
    def _limits(cls, value: dict[str, int]) -> dict[str, int]:
        for kind, limit in value.items():
            if not KIND.fullmatch(kind):
                raise ValueError(f"{kind!r} is not an identifier kind (a-z, 0-9, _)")
            if limit < 1:
                raise ValueError(f"the limit of {kind!r} must be at least 1")
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a phone region code such as VN or TH")
        return region

    def limit(self, kind: str) -> int:
        return self.limits.get(kind, self.default_limit)

    def rank(self, kind: str) -> int:
        """Smaller is more trusted."""
        try:
            return self.priority.index(kind)
        except ValueError:
            return len(self.priority)


class Normaliser:
    """Turns raw identifier values into the canonical form, or None when unusable."""

    def __init__(self, rules: IdentityRules) -> None:
        self.rules = rules
        self.blocked = frozenset(v.strip().lower() for v in rules.blocked_values)

    def __call__(self, kind: str, raw: Any) -> str | None:
        if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int | float):
            return None
        value = str(raw).strip()
        if kind == "email":
            value = value.lower()
            if not _EMAIL.fullmatch(value):
                return None
        elif kind == "phone":
            value = to_e164(value, self.rules.default_region) or ""
        if not value or len(value) > 400 or value.lower() in self.blocked:
            return None
        return value


@functools.lru_cache(maxsize=65536)
def to_e164(raw: str, region: str) -> str | None:
    """``+84912345678`` for ``0912 345 678`` in VN; None when it is no valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def kind_of_external(type_name: Any) -> str | None:
    """``context.externalIds[].type`` as an identifier kind (``LINE ID`` -> ``line_id``)."""
    if not isinstance(type_name, str):
        return None
    kind = re.sub(r"[^a-z0-9]+", "_", type_name.strip().lower()).strip("_")[:40]
    if kind in ("userid", "user"):
        kind = "user_id"
    return kind if KIND.fullmatch(kind) else None
