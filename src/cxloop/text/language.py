"""Offline language detection for vi / th / en (anything else is ``other``).

Scripts decide most cases: Thai has its own block, Vietnamese letters with horn, breve or
stroke (ơ ư ă đ) and the stacked tone marks of Latin Extended Additional appear in no other
major language. Vietnamese typed without diacritics is told from English by function words.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Language = Literal["vi", "th", "en", "other"]
LANGUAGES: tuple[Language, ...] = ("vi", "th", "en", "other")

_VI_STRONG = set("ăđơưĂĐƠƯ")
_VI_WEAK = set("âêôÂÊÔàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# Frequent words of Vietnamese written without diacritics (and chat forms), none of them
# common English words.
_VI_WORDS = frozenset(
    [
        "khong",
        "ko",
        "hok",
        "hong",
        "kg",
        "dc",
        "duoc",
        "dk",
        "giao",
        "hang",
        "san",
        "pham",
        "sp",
        "nhung",
        "rat",
        "qua",
        "toi",
        "minh",
        "ban",
        "cua",
        "cho",
        "la",
        "co",
        "nay",
        "shop",
        "nhanh",
        "cham",
        "tot",
        "dep",
        "xau",
        "nhan",
        "vien",
        "gia",
        "tien",
        "mua",
        "ban",
        "roi",
        "chua",
        "cung",
        "nhu",
        "the",
        "nao",
        "gi",
        "vay",
        "voi",
        "den",
        "di",
        "lam",
        "duoc",
        "thi",
        "se",
        "da",
        "dang",
        "con",
        "nhieu",
        "it",
        "lan",
        "sau",
        "truoc",
        "khi",
        "ma",
        "nen",
        "vi",
        "nguoi",
        "chat",
        "luong",
        "dich",
        "vu",
        "ung",
        "dung",
        "thanh",
        "toan",
        "hoan",
        "tra",
        "doi",
        "goi",
        "mat",
        "hai",
        "long",
        "that",
        "vong",
    ]
)
_EN_WORDS = frozenset(
    [
        "the",
        "and",
        "is",
        "was",
        "it",
        "to",
        "of",
        "you",
        "this",
        "that",
        "not",
        "very",
        "but",
        "for",
        "with",
        "my",
        "good",
        "bad",
        "great",
        "are",
        "be",
        "have",
        "has",
        "had",
        "they",
        "we",
        "our",
        "your",
        "its",
        "at",
        "on",
        "in",
        "from",
        "by",
        "an",
        "or",
        "so",
        "no",
        "all",
        "just",
        "too",
        "would",
        "could",
        "service",
        "delivery",
        "price",
        "staff",
        "product",
        "quality",
        "love",
        "hate",
        "slow",
        "fast",
        "order",
        "app",
        "website",
    ]
)


def _is_thai(char: str) -> bool:
    return "\u0e00" <= char <= "\u0e7f"


def detect_language(text: str) -> Language:
    """The language of ``text``: ``vi``, ``th``, ``en`` or ``other`` (also for empty text)."""
    text = unicodedata.normalize("NFC", text)
    thai = latin = vi_strong = vi_weak = foreign = 0
    for char in text:
        if not char.isalpha():
            continue
        if _is_thai(char):
            thai += 1
        elif char.isascii():
            latin += 1
        elif char in _VI_STRONG or "\u1ea0" <= char <= "\u1ef9":
            vi_strong += 1
        elif char in _VI_WEAK:
            vi_weak += 1
        else:
            foreign += 1
    letters = thai + latin + vi_strong + vi_weak + foreign
    if letters == 0:
        return "other"
    if thai / letters >= 0.3:
        return "th"
    if foreign / letters > 0.3:
        return "other"
    if vi_strong >= 1 and vi_strong + vi_weak >= 0.02 * letters:
        return "vi"
    words = [w.lower() for w in _WORD.findall(text)]
    vi_hits = sum(1 for w in words if w in _VI_WORDS)
    en_hits = sum(1 for w in words if w in _EN_WORDS)
    if vi_weak and vi_hits:
        return "vi"
    if vi_hits > en_hits:
        return "vi"
    if latin and (en_hits or vi_weak == 0):
        return "en"
    return "other"
