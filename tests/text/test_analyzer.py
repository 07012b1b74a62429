from __future__ import annotations

import pytest

from cxloop.text.analyzer import Analyzer, clauses
from cxloop.text.classifier import TextClassifier
from cxloop.text.discovery import discover
from cxloop.text.taxonomy import DEFAULT_TAXONOMY, Matcher, Taxonomy, Theme


@pytest.fixture(scope="module")
def analyzer(default_model: TextClassifier) -> Analyzer:
    return Analyzer(default_model, DEFAULT_TAXONOMY)


def test_clauses_split_at_contrast_words() -> None:
    assert clauses("giao hàng chậm nhưng sản phẩm tốt") == ["giao hàng chậm", "sản phẩm tốt"]
    assert clauses("ส่งของช้ามากแต่สินค้าดี") == ["ส่งของช้ามาก", "สินค้าดี"]
    assert clauses("Slow delivery, but great product.") == ["Slow delivery", "great product"]
    assert clauses("แต่งตัวสวย") == ["แต่งตัวสวย"]  # แต่ง (dress) is no "but"


@pytest.mark.parametrize(
    "text",
    [
        "giao hàng chậm nhưng sản phẩm tốt",
        "giao hang cham nhung san pham tot",
        "ship chậm mà sp tốt",
        "ส่งของช้ามากแต่สินค้าดี",
        "Delivery was slow but the product is great",
    ],
)
def test_aspect_sentiment(analyzer: Analyzer, text: str) -> None:
    [result] = analyzer.analyze([text])
    aspects = {a.theme: a.sentiment for a in result.aspects}
    assert aspects == {"delivery": "negative", "product_quality": "positive"}
    assert result.themes == ["delivery", "product_quality"]


def test_analysis_of_each_language(analyzer: Analyzer) -> None:
    results = analyzer.analyze(
        [
            "Nhân viên rất thân thiện, tôi rất hài lòng",
            "พนักงานพูดจาไม่ดี แย่มาก",
            "The app keeps crashing, terrible experience",
            "",
        ]
    )
    assert [r.language for r in results] == ["vi", "th", "en", "other"]
    assert results[0].sentiment == "positive"
    assert results[1].sentiment == "negative"
    assert results[2].sentiment == "negative"
    assert "staff" in results[0].themes
    assert "app_website" in results[2].themes
    for result in results:
        assert 0 <= result.score <= 1
        assert result.polarity is not None
        assert -1 <= result.polarity <= 1


def test_workspace_taxonomy() -> None:
    taxonomy = Taxonomy(
        themes=[
            Theme(
                id="parking",
                label={"en": "Parking"},
                keywords={"en": ["parking"], "vi": ["bãi đỗ xe"], "th": ["ที่จอดรถ"]},
            )
        ]
    )
    matcher = Matcher(taxonomy)
    assert matcher.find("no parking at all") == ["parking"]
    assert matcher.find("bai do xe chat") == ["parking"]
    assert matcher.find("ไม่มีที่จอดรถ") == ["parking"]
    assert matcher.find("delivery was late") == []


def test_discovery_names_new_themes() -> None:
    texts = [
        "the parking lot was full",
        "no parking space near the store",
        "parking was a nightmare",
        "parking lot too small",
        "wifi password did not work",
        "the wifi was down all day",
        "wifi too slow in the lobby",
        "no wifi signal upstairs",
    ]
    found = discover(texts, max_themes=2, min_size=3)
    labels = " ".join(theme.label for theme in found)
    assert "parking" in labels
    assert "wifi" in labels
    assert sum(theme.size for theme in found) == len(texts)
