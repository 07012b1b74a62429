"""Classification quality: accuracy, macro-F1, per-class precision / recall / F1, confusion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def score_to_sentiment(score: float) -> str:
    """NPS groups as sentiment labels: 0-6 negative, 7-8 neutral, 9-10 positive."""
    if score <= 6:
        return "negative"
    if score <= 8:
        return "neutral"
    return "positive"


def evaluate(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """The report `cxloop text evaluate` prints; labels are compared as given."""
    labels = sorted(set(truth) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t]][index[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    for label, i in index.items():
        hit = matrix[i][i]
        predicted_n = sum(row[i] for row in matrix)
        actual_n = sum(matrix[i])
        precision = hit / predicted_n if predicted_n else 0.0
        recall = hit / actual_n if actual_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": actual_n,
        }
    present = [label for label in labels if per_class[label]["support"] > 0]
    total = len(truth)
    return {
        "n": total,
        "accuracy": sum(matrix[i][i] for i in range(len(labels))) / total if total else 0.0,
        "macro_f1": (
            sum(per_class[label]["f1"] for label in present) / len(present) if present else 0.0
        ),
        "per_class": per_class,
        "labels": labels,
        "confusion_matrix": matrix,
    }


def majority_baseline(train_labels: Sequence[str], truth: Sequence[str]) -> dict[str, Any]:
    """What always answering the most frequent training label scores on ``truth``."""
    majority = max(sorted(set(train_labels)), key=list(train_labels).count)
    return evaluate(truth, [majority] * len(truth))
