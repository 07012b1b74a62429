"""The server's secret for signing links and form tokens.

``CXLOOP_SECRET_KEY`` when it is set; otherwise a random key made on first use and kept in
the data dir, so every process that shares the data dir signs and checks alike. Several
machines must share the data dir or set the same ``CXLOOP_SECRET_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cxloop.config import Settings

FILE_NAME = "secret_key"
_cache: dict[tuple[str, Path], bytes] = {}
_derived: dict[tuple[bytes, str], bytes] = {}


def server_secret(settings: Settings) -> bytes:
    """The secret key as bytes (at least 32), made and stored on first use when not set."""
    given = settings.secret_key.get_secret_value()
    cache_key = (given, settings.data_dir)  # signing runs on every page: no file system here
    found = _cache.get(cache_key)
    if found is None:
        found = given.encode() if given else _stored(settings.data_dir.resolve() / FILE_NAME)
        _cache[cache_key] = found
    return found


def derive(settings: Settings, purpose: str) -> bytes:
    """A key for one purpose only: a token signed for one use never passes for another."""
    secret = server_secret(settings)
    found = _derived.get((secret, purpose))
    if found is None:
        found = hmac.new(secret, purpose.encode(), hashlib.sha256).digest()
        _derived[(secret, purpose)] = found
    return found


def _stored(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when two processes start together, one writes and both read its key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48))
    return _read(path)


def _read(path: Path) -> bytes:
    for _ in range(50):  # another process may still be writing it
        value = path.read_text().strip()
        if value:
            return value.encode()
        os.sched_yield()
    raise RuntimeError(f"the secret key file {path} is empty; delete it or set CXLOOP_SECRET_KEY")
