"""Normalisation: Unicode NFC, Vietnamese chat abbreviations, accent-free matching forms."""

from __future__ import annotations

import re
import unicodedata

from cxloop.text.language import Language

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
_VI_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# Chat spellings of Vietnamese, as customers type them, mapped to the written word.
VI_ABBREVIATIONS: dict[str, str] = {
    "ko": "không",
    "k": "không",
    "kg": "không",
    "kh": "không",
    "khg": "không",
    "hok": "không",
    "hong": "không",
    "hông": "không",
    "hem": "không",
    "dc": "được",
    "đc": "được",
    "dk": "được",
    "đk": "được",
    "sp": "sản phẩm",
    "ship": "giao hàng",
    "shiper": "người giao hàng",
    "shipper": "người giao hàng",
    "nv": "nhân viên",
    "vs": "với",
    "r": "rồi",
    "j": "gì",
    "bt": "bình thường",
    "wa": "quá",
    "qá": "quá",
    "cx": "cũng",
    "cũg": "cũng",
    "mn": "mọi người",
    "ng": "người",
    "trc": "trước",
    "bn": "bao nhiêu",
    "nhìu": "nhiều",
    "lun": "luôn",
    "mún": "muốn",
    "thik": "thích",
    "iu": "yêu",
    "đag": "đang",
    "tks": "cảm ơn",
    "thanks": "cảm ơn",
    "dt": "điện thoại",
    "đt": "điện thoại",
    "ok": "ổn",
    "oke": "ổn",
    "okie": "ổn",
}


def clean(text: str) -> str:
    """NFC, no invisible characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


def strip_accents(text: str) -> str:
    """Latin text without diacritics: ``giao hàng chậm`` -> ``giao hang cham``."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def expand_vi_abbreviations(text: str) -> str:
    """Chat abbreviations written out: ``sp ko dc`` -> ``sản phẩm không được``."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        full = VI_ABBREVIATIONS.get(word.lower())
        return word if full is None else full

    return _VI_TOKEN.sub(replace, text)


def normalize(text: str, language: Language) -> str:
    """The form every model reads: clean text, Vietnamese abbreviations written out."""
    text = clean(text)
    if language == "vi":
        text = expand_vi_abbreviations(text)
    return text
