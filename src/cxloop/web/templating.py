"""The Jinja environment of every page, with translation built in."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from cxloop.core.i18n import LANGUAGES, negotiate, translate

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def page_language(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get("cxloop_lang"),
        request.headers.get("accept-language"),
    )


def context(request: Request, **values: object) -> dict[str, object]:
    lang = page_language(request)
    return {"lang": lang, "languages": LANGUAGES, "t": lambda key: translate(key, lang), **values}
