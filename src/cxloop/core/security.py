"""Secrets: password hashing (Argon2id) and API key generation and checking."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id with the library's current OWASP-aligned parameters

KEY_PREFIX = "cxl"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong or malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class NewKey:
    """A freshly made key: ``token`` is shown once; ``prefix`` and ``secret_hash`` are stored."""

    token: str
    prefix: str
    secret_hash: str


def digest(secret: str) -> str:
    # A 256-bit random secret needs no slow hash: SHA-256 cannot be brute-forced at that size,
    # and a fast check keeps the ingestion hot path cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key(scope: str) -> NewKey:
    """Make a key ``cxl_<scope>_<id>_<secret>``; the scope in the text helps people, not checks."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    prefix = f"{KEY_PREFIX}_{scope}_{key_id}"
    return NewKey(token=f"{prefix}_{secret}", prefix=prefix, secret_hash=digest(secret))


def split_api_key(token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else ``None``."""
    parts = token.strip().split("_", 3)
    if len(parts) != 4 or parts[0] != KEY_PREFIX or not all(parts):
        return None
    return "_".join(parts[:3]), parts[3]


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), secret_hash)
