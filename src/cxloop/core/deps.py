"""Request dependencies shared by every domain: the database session and the caller's address."""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.core.db import read_transaction
from cxloop.core.groupcommit import GroupCommitter


async def resolve(request: Request, dependency: Callable[[Request], Any]) -> Any:
    """The value of a dependency that takes only the request, for a plain route outside
    FastAPI's dependency injection; an override the app holds for it is honoured."""
    provider = request.app.dependency_overrides.get(dependency, dependency)
    found = provider(request) if _takes_request(provider) else provider()
    return await found if inspect.isawaitable(found) else found


@cache
def _takes_request(provider: Callable[..., Any]) -> bool:
    return bool(inspect.signature(provider).parameters)


async def get_settings(request: Request) -> Settings:
    # async, as every dependency that does no blocking work: a sync one costs a trip to the
    # thread pool on every request
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error.

    Used with ``scope="function"`` so the commit happens before the response is sent: a
    client never sees 200 for a change that then fails to commit.
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for a request that only reads: on SQLite it takes no write lock, so pages
    that only show something never queue behind writers. Rolled back at the end."""
    with read_transaction(request.app.state.sessionmaker) as session:
        yield session


Reads = Callable[[], AbstractContextManager[Session]]


async def get_reads(request: Request) -> Reads:
    """What opens a read-only transaction (as :func:`get_read_session`), for an ``async``
    handler that must not keep a session open while it awaits: it opens one for each
    stretch of reading. Costs no trip to the thread pool."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return lambda: read_transaction(factory)


async def get_committer(request: Request) -> GroupCommitter:
    committer: GroupCommitter = request.app.state.committer
    return committer


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
ReadsDep = Annotated[Reads, Depends(get_reads)]
CommitterDep = Annotated[GroupCommitter, Depends(get_committer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The caller's address; X-Forwarded-For is believed only from a trusted proxy."""
    peer = request.client.host if request.client else ""
    return forwarded_ip(peer, request.headers.get("x-forwarded-for"), trusted_proxies)


def forwarded_ip(peer: str, forwarded: str | None, trusted_proxies: list[str]) -> str:
    if forwarded and trusted_proxies and _is_trusted(peer, trusted_proxies):
        return forwarded.split(",")[0].strip()
    return peer


def _is_trusted(peer: str, trusted: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
