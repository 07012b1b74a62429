from __future__ import annotations

import pytest

from cxloop.text.language import detect_language
from cxloop.text.normalize import clean, expand_vi_abbreviations, normalize, strip_accents
from cxloop.text.tokenize import match_form, segment_thai, words


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("giao hàng chậm nhưng sản phẩm tốt", "vi"),
        ("giao hang cham nhung san pham tot", "vi"),
        ("sp ko dc, shop tra loi cham", "vi"),
        ("Nhân viên rất nhiệt tình", "vi"),
        ("ส่งของช้ามากแต่สินค้าดี", "th"),
        ("แอพ Shopee ใช้งานง่าย 555", "th"),
        ("Delivery was slow but the product is great", "en"),
        ("The staff were friendly", "en"),
        ("Très bien, merci beaucoup", "other"),
        ("Доставка быстрая", "other"),
        ("配送很快", "other"),
        ("", "other"),
        ("12345 !!!", "other"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_nfc_joins_decomposed_vietnamese() -> None:
    decomposed = "hàng".replace("à", "a\u0300")
    assert decomposed != "hàng"
    assert clean(f"  giao {decomposed}\u200b  tốt ") == "giao hàng tốt"


def test_vietnamese_chat_abbreviations_are_written_out() -> None:
    assert expand_vi_abbreviations("sp ko dc, ship hok nhanh") == (
        "sản phẩm không được, giao hàng không nhanh"
    )
    assert expand_vi_abbreviations("Đc rồi, k sao") == "được rồi, không sao"
    # only whole words
    assert expand_vi_abbreviations("kong spam") == "kong spam"
    # English text is left alone
    assert normalize("ok ship it", "en") == "ok ship it"


def test_accents_are_stripped_for_matching() -> None:
    assert strip_accents("Giao hàng chậm, đóng gói đẹp") == "Giao hang cham, dong goi dep"
    assert match_form("Sản phẩm TỐT!") == " san pham tot "


def test_thai_is_segmented_into_words() -> None:
    assert segment_thai("ส่งของช้ามากแต่สินค้าดี") == [
        "ส่ง",
        "ของ",
        "ช้า",
        "มาก",
        "แต่",
        "สินค้า",
        "ดี",
    ]


def test_words_per_language() -> None:
    assert words("Delivery was SLOW, isn't it") == ["delivery", "was", "slow", "isn't", "it"]
    assert words("giao hàng chậm") == ["giao", "hàng", "chậm"]
    assert words("ส่งของช้า 55555 iPhone") == ["ส่ง", "ของ", "ช้า", "555", "iphone"]
