"""Discovery of themes nobody listed yet: texts that match no theme are clustered on their
words, and each cluster is named by the words that set it apart."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from cxloop.core.lazy import deferred
from cxloop.text.language import detect_language
from cxloop.text.normalize import normalize
from cxloop.text.tokenize import words

if TYPE_CHECKING:
    from pythainlp import corpus
    from sklearn import cluster as sk_cluster
    from sklearn.feature_extraction import text as text_features
else:  # loaded on first use: see cxloop.core.lazy
    corpus = deferred("pythainlp.corpus")
    sk_cluster = deferred("sklearn.cluster")
    text_features = deferred("sklearn.feature_extraction.text")

_ENGLISH_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "my",
        "i",
        "you",
        "we",
        "they",
        "he",
        "she",
        "me",
        "our",
        "your",
        "their",
        "so",
        "very",
        "too",
        "not",
        "no",
        "just",
        "have",
        "has",
        "had",
        "do",
        "did",
        "và",
        "là",
        "của",
        "có",
        "không",
        "được",
        "thì",
        "mà",
        "cho",
        "với",
        "này",
        "rất",
        "quá",
        "cũng",
        "đã",
        "đang",
        "sẽ",
        "những",
        "các",
        "một",
        "người",
        "tôi",
        "mình",
        "bạn",
        "shop",
        "nhưng",
        "như",
        "khi",
        "nên",
        "vì",
        "rồi",
        "lại",
        "còn",
        "nữa",
        "thế",
        "vậy",
        "gì",
        "ạ",
        "nhé",
        "nha",
        "ơi",
    ]
)


@functools.cache
def _stop_words() -> frozenset[str]:
    """Thai's from pythainlp's corpus (read on first use), and a few of each language."""
    thai: frozenset[str] = frozenset(corpus.thai_stopwords())
    return thai | _ENGLISH_STOP


@dataclass
class DiscoveredTheme:
    label: str
    keywords: list[str]
    size: int
    examples: list[str]


def _terms(text: str) -> list[str]:
    tokens = [t for t in words(text) if t not in _stop_words() and len(t) > 1 and not t.isdigit()]
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def discover(
    texts: Sequence[str], max_themes: int = 8, min_size: int = 3, seed: int = 0
) -> list[DiscoveredTheme]:
    """Groups of similar texts, largest first, each with a readable label of its top terms."""
    normalized = [normalize(t, detect_language(t)) for t in texts if t.strip()]
    if len(normalized) < min_size:
        return []
    vectorizer = text_features.TfidfVectorizer(analyzer=_terms, min_df=2, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(normalized)
    except ValueError:  # no term appears twice
        return []
    k = max(1, min(max_themes, len(normalized) // min_size))
    labels = sk_cluster.KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(matrix)
    vocabulary = np.asarray(vectorizer.get_feature_names_out())
    found = []
    for cluster in range(k):
        members = np.flatnonzero(labels == cluster)
        if len(members) < min_size:
            continue
        weight = np.asarray(matrix[members].mean(axis=0)).ravel()
        top = [str(vocabulary[i]) for i in weight.argsort()[::-1][:4] if weight[i] > 0]
        if not top:
            continue
        found.append(
            DiscoveredTheme(
                label=" / ".join(top[:2]),
                keywords=top,
                size=len(members),
                examples=[normalized[i] for i in members[:3]],
            )
        )
    return sorted(found, key=lambda theme: -theme.size)
