"""Pages and their translations: every key in every language, HTML errors for browsers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cxloop.core.i18n import LANGUAGES, negotiate

LOCALES = Path(__file__).resolve().parents[2] / "src" / "cxloop" / "core" / "locales"
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "cxloop" / "web" / "templates"


def test_every_language_has_every_key_and_no_empty_text() -> None:
    catalogs = {lang: json.loads((LOCALES / f"{lang}.json").read_text()) for lang in LANGUAGES}
    english = set(catalogs["en"])
    for lang, catalog in catalogs.items():
        assert set(catalog) == english, f"{lang}: missing {english - set(catalog)}"
        assert all(text.strip() for text in catalog.values())
        if lang != "en":
            same = [k for k in catalog if catalog[k] == catalogs["en"][k]]
            assert same == [], f"{lang}: not translated: {same}"


def test_templates_use_only_known_keys() -> None:
    keys = set(json.loads((LOCALES / "en.json").read_text()))
    for template in TEMPLATES.rglob("*.html"):
        for key in re.findall(r"\bt\(['\"]([\w.]+)['\"]\)", template.read_text()):
            assert key in keys, f"{template.relative_to(TEMPLATES)} uses unknown key {key}"


# Vietnamese written without its diacritics: these forms are no Vietnamese words at all
_STRIPPED = {"khong", "duoc", "nguoi", "cua", "mot", "cac", "nhung", "chua", "viec", "tren"}


def test_vietnamese_keeps_its_diacritics_and_thai_is_thai() -> None:
    vi = json.loads((LOCALES / "vi.json").read_text(encoding="utf-8"))
    th = json.loads((LOCALES / "th.json").read_text(encoding="utf-8"))
    for key, text in vi.items():
        words = re.findall(r"[^\W\d_]+", re.sub(r"{\w+}", "", text).lower())
        assert not _STRIPPED & set(words), f"vi {key}: diacritics missing in {text!r}"
        if len(words) >= 3:
            assert not text.isascii(), f"vi {key}: {text!r} has no diacritics"
    for key, text in th.items():
        assert re.search(r"[\u0e00-\u0e7f]", text), f"th {key}: {text!r} is not in Thai"


def test_placeholders_are_the_same_in_every_language() -> None:
    catalogs = {lang: json.loads((LOCALES / f"{lang}.json").read_text()) for lang in LANGUAGES}
    for key, text in catalogs["en"].items():
        wanted = sorted(re.findall(r"{(\w+)}", text))
        for lang in ("vi", "th"):
            assert sorted(re.findall(r"{(\w+)}", catalogs[lang][key])) == wanted, (lang, key)


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("vi", None, "th", "vi"),
        (None, "th", "vi", "th"),
        (None, None, "vi-VN,vi;q=0.9,en;q=0.8", "vi"),
        (None, None, "fr-FR,th;q=0.4,en;q=0.6", "en"),
        (None, None, "xx", "en"),
        ("de", "zz", None, "en"),
    ],
)
def test_language_negotiation(
    query: str | None, cookie: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(query, cookie, header) == expected


@pytest.mark.parametrize(
    ("lang", "title"),
    [("en", "Page not found"), ("vi", "Không tìm thấy trang"), ("th", "ไม่พบหน้าที่ต้องการ")],
)
def test_browsers_get_a_translated_error_page(client: TestClient, lang: str, title: str) -> None:
    response = client.get(f"/no-such-page?lang={lang}", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert title in response.text
    assert f'<html lang="{lang}">' in response.text


def test_the_api_keeps_json_errors_for_browsers_too(client: TestClient) -> None:
    response = client.get("/api/v1/nothing", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_language_choice_is_remembered(client: TestClient) -> None:
    client.get("/?lang=vi")
    assert "cxloop đang chạy" in client.get("/").text
