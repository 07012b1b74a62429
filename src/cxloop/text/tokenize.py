"""Words per language: Thai by dictionary segmentation (newmm), others by letters."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cxloop.core.lazy import deferred
from cxloop.text.normalize import strip_accents

if TYPE_CHECKING:
    from pythainlp import tokenize as thai
else:  # its dictionary loads on first use: see cxloop.core.lazy
    thai = deferred("pythainlp.tokenize")

_THAI_RUN = re.compile(r"[\u0e00-\u0e7f]+")
_WORD = re.compile(r"[\u0e00-\u0e7f]+|[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_LAUGH = re.compile(r"5{3,}")


def segment_thai(text: str) -> list[str]:
    """Thai words of ``text`` (newmm dictionary segmentation, offline)."""
    return [w for w in thai.word_tokenize(text, engine="newmm", keep_whitespace=False) if w.strip()]


def words(text: str) -> list[str]:
    """Lower-case words; Thai runs are segmented, ``55555`` (Thai laughter) becomes ``555``."""
    text = _LAUGH.sub("555", text.lower())
    out: list[str] = []
    for token in _WORD.findall(text):
        if _THAI_RUN.fullmatch(token):
            out.extend(segment_thai(token))
        else:
            out.append(token)
    return out


def match_form(text: str) -> str:
    """Lower-case, accent-free form used to find keywords with or without diacritics."""
    return " " + " ".join(_WORD.findall(strip_accents(text.lower()))) + " "
