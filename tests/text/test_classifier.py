from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cxloop.text.classifier import ClassifierConfig, TextClassifier
from cxloop.text.errors import BadModel
from cxloop.text.evaluation import evaluate, majority_baseline, score_to_sentiment

GOOD = [
    "great product, fast delivery",
    "sản phẩm rất tốt, giao hàng nhanh",
    "สินค้าดีมาก ส่งไว",
    "love it, excellent quality",
    "nhân viên nhiệt tình, hài lòng",
    "ชอบมาก คุ้มราคา",
]
BAD = [
    "terrible, the item arrived broken",
    "giao hàng chậm, sản phẩm lỗi",
    "ส่งช้ามาก ของพัง",
    "awful service, never again",
    "thất vọng, hàng kém chất lượng",
    "แย่มาก ผิดหวัง",
]


def synthetic() -> tuple[list[str], list[str]]:
    texts = GOOD * 3 + BAD * 3
    return texts, ["good"] * len(GOOD) * 3 + ["bad"] * len(BAD) * 3


def test_trains_and_predicts_any_label_set(tmp_path: Path) -> None:
    texts, labels = synthetic()
    model = TextClassifier.fit(texts, labels, ClassifierConfig(features="tfidf", hash_bits=14))
    assert model.classes == ["bad", "good"]
    predicted, proba = model.predict(["giao hàng chậm quá", "ส่งไว สินค้าดี"])
    assert predicted == ["bad", "good"]
    assert proba.shape == (2, 2)
    assert np.allclose(proba.sum(axis=1), 1)

    model.save(tmp_path / "m", {"task": "sentiment"})
    loaded = TextClassifier.load(tmp_path / "m")
    assert loaded.classes == model.classes
    assert loaded.info["task"] == "sentiment"
    again, again_proba = loaded.predict(["giao hàng chậm quá", "ส่งไว สินค้าดี"])
    assert again == predicted
    assert np.allclose(again_proba, proba, atol=1e-2)


def test_embeddings_carry_across_languages() -> None:
    texts, labels = synthetic()
    model = TextClassifier.fit(texts, labels, ClassifierConfig(features="both", hash_bits=14))
    predicted, _ = model.predict(["excellent, I am very happy with it", "broken and late"])
    assert predicted == ["good", "bad"]


def test_three_labels_and_more() -> None:
    texts = ["a a", "b b", "c c", "d d"] * 4
    labels = ["w", "x", "y", "z"] * 4
    model = TextClassifier.fit(texts, labels, ClassifierConfig(features="tfidf", hash_bits=12))
    assert model.predict(["c c", "z"])[0][0] == "y"


def test_one_label_is_not_enough() -> None:
    with pytest.raises(BadModel, match="two different labels"):
        TextClassifier.fit(["a", "b"], ["x", "x"], ClassifierConfig(features="tfidf"))


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text('{"format": "other"}')
    with pytest.raises(BadModel, match="not a cxloop text model"):
        TextClassifier.load(tmp_path)


def test_evaluation_report() -> None:
    report = evaluate(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert report["accuracy"] == 0.75
    assert report["labels"] == ["a", "b"]
    assert report["confusion_matrix"] == [[1, 1], [0, 2]]
    assert report["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert majority_baseline(["a", "b", "b"], ["a", "b"])["accuracy"] == 0.5


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0, "negative"),
        (6, "negative"),
        (7, "neutral"),
        (8, "neutral"),
        (9, "positive"),
        (10, "positive"),
    ],
)
def test_nps_scores_become_sentiment(score: int, label: str) -> None:
    assert score_to_sentiment(score) == label
