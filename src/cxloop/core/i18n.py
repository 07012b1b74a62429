"""Translations for pages and messages: English, Vietnamese and Thai."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "vi", "th")
DEFAULT_LANGUAGE = "en"
_LOCALES = Path(__file__).resolve().parent / "locales"


@cache
def catalog(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    return data


def translate(key: str, language: str) -> str:
    """The text for ``key`` in ``language``, falling back to English, then to the key itself."""
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """Pick a language: explicit ``?lang=``, then the cookie, then the browser's list."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    if accept_language:
        ranked: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            ranked.append((quality, tag.split("-")[0].lower()))
        for _, lang in sorted(ranked, key=lambda r: -r[0]):
            if lang in LANGUAGES:
                return lang
    return DEFAULT_LANGUAGE
