"""Quality on the shared real data sets (skipped when ../shared/data is absent)."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from cxloop.text.classifier import ClassifierConfig, TextClassifier
from cxloop.text.evaluation import evaluate
from cxloop.text.tokenize import words
from tests.text.conftest import shared_data


def uci_sample(n: int) -> tuple[list[str], list[str]]:
    folder = shared_data("uci-sentences")
    rows = []
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt"):
        for line in (folder / name).read_text("utf-8").splitlines():
            if "\t" in line:
                text, label = line.rsplit("\t", 1)
                rows.append((text, "positive" if label.strip() == "1" else "negative"))
    random.Random(3).shuffle(rows)
    return [t for t, _ in rows[:n]], [lab for _, lab in rows[:n]]


def wisesight(path: Path, n: int) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()[:n]]
    return [r["texts"] for r in rows], [r["category"] for r in rows]


def test_default_model_on_english_sentences(default_model: TextClassifier) -> None:
    texts, truth = uci_sample(300)
    predicted, _ = default_model.predict(texts)
    report = evaluate(truth, predicted)
    majority = evaluate(truth, [max(set(truth), key=truth.count)] * len(truth))
    assert report["macro_f1"] > majority["macro_f1"] + 0.3, report
    assert report["accuracy"] > 0.7, report


@pytest.mark.slow
def test_train_then_evaluate_beats_tfidf_svm_on_wisesight() -> None:
    folder = shared_data("wisesight-sentiment")
    train_x, train_y = wisesight(folder / "train.jsonl", 6000)
    valid_x, valid_y = wisesight(folder / "valid.jsonl", 2404)
    model = TextClassifier.fit(train_x, train_y, ClassifierConfig(features="tfidf"))
    ours = evaluate(valid_y, model.predict(valid_x)[0])

    def terms(text: str) -> list[str]:
        tokens = words(text)
        return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]

    vectorizer = TfidfVectorizer(analyzer=terms, sublinear_tf=True)
    svm = LinearSVC().fit(vectorizer.fit_transform(train_x), train_y)
    base = evaluate(valid_y, list(svm.predict(vectorizer.transform(valid_x))))
    assert ours["macro_f1"] > base["macro_f1"], (ours["macro_f1"], base["macro_f1"])
