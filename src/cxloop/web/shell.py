"""The dashboard's frame: who is looking, the navigation, the language, and what every page
template receives (:func:`app_context`).

This module knows nothing of the database: the sign-in dependency
(:mod:`cxloop.dashboard.auth`) loads the user and hands a :class:`Viewer` of plain values.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request

from cxloop.core.i18n import LANGUAGES, negotiate, translate
from cxloop.web import formatting
from cxloop.web.session import LANGUAGE_COOKIE
from cxloop.web.tables import Cell, Column, cell_text

STATIC = Path(__file__).resolve().parent / "static"
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt", "th": "ไทย"}


@dataclass(frozen=True)
class WorkspaceChoice:
    id: uuid.UUID
    name: str
    display_name: str
    role: str


@dataclass(frozen=True)
class Viewer:
    """The signed-in person and the workspace they are looking at."""

    user_id: uuid.UUID
    email: str
    name: str
    language: str
    session_id: str
    workspace: WorkspaceChoice
    workspaces: tuple[WorkspaceChoice, ...]
    timezone: str = "UTC"

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.workspace.id


@dataclass(frozen=True)
class NavItem:
    section: str
    href: str
    label_key: str


# Every section of the dashboard, in the order of the left navigation.
NAVIGATION = (
    NavItem("overview", "/app", "nav.overview"),
    NavItem("surveys", "/app/surveys", "nav.surveys"),
    NavItem("customers", "/app/customers", "nav.customers"),
    NavItem("journeys", "/app/journeys", "nav.journeys"),
    NavItem("kpis", "/app/kpis", "nav.kpis"),
    NavItem("text", "/app/text", "nav.text"),
)


def dashboard_language(request: Request, viewer: Viewer | None) -> str:
    """``?lang=`` for this page; else the user's choice; else the cookie; else the browser."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    if viewer is not None and viewer.language in LANGUAGES:
        return viewer.language
    return negotiate(
        None, request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
    )


def translator(lang: str) -> Callable[[str], str]:
    return lambda key: translate(key, lang)


@cache
def static_version(name: str) -> str:
    """A digest of a static file, put in its address so a new release is fetched anew."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version(name)}"


def export_url(request: Request, fmt: str, **which: str) -> str:
    """This page's address asking for a download (``fmt`` csv, svg or png of ``which``)."""
    params = {
        k: v for k, v in request.query_params.items() if k not in ("format", "chart", "table")
    }
    params.update({"format": fmt, **which})
    return f"{request.url.path}?{urlencode(params)}"


def page_url(request: Request, **changes: str | None) -> str:
    """This page's address with some query parameters changed (None removes one)."""
    params: dict[str, str] = dict(request.query_params.items())
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def app_context(
    request: Request,
    viewer: Viewer | None,
    *,
    section: str,
    title: str,
    csrf: str,
    lang: str | None = None,
    **values: object,
) -> dict[str, object]:
    """What every dashboard template receives, plus the page's own ``values``."""
    lang = lang or dashboard_language(request, viewer)
    t = translator(lang)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    context: dict[str, object] = {
        "lang": lang,
        "t": t,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "viewer": viewer,
        "nav": NAVIGATION,
        "section": section,
        "title": title,
        "csrf": csrf,
        "here": here,
        "static_url": static_url,
        "export_url": lambda fmt, **which: export_url(request, fmt, **which),
        "page_url": lambda **changes: page_url(request, **changes),
        "fmt": Formatter(lang),
    }
    context.update(values)
    return context


class Formatter:
    """Number and date formatting in the page's language, for templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def number(self, value: float | None, decimals: int = 0) -> str:
        return formatting.number(value, self.lang, decimals)

    def percent(self, share: float | None, decimals: int = 1) -> str:
        return formatting.percent(share, self.lang, decimals)

    def signed(self, value: float | None, decimals: int = 1, suffix: str = "") -> str:
        return formatting.signed(value, self.lang, decimals, suffix)

    def day(self, value: date | datetime | None) -> str:
        return formatting.day(value, self.lang)

    def moment(self, value: datetime | None) -> str:
        return formatting.moment(value, self.lang)

    def cell(self, value: Cell, column: Column) -> str:
        return cell_text(value, column, self.lang)
