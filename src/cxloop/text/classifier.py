"""A trainable text classifier for any label set: hashed TF-IDF features of normalised,
segmented text, optionally joined with multilingual sentence embeddings, and one multinomial
logistic regression over both.

It is stored as arrays (``weights.npz``, read with ``allow_pickle=False``) and a JSON
description (``model.json``), so loading a model never runs code from the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from cxloop.core.lazy import deferred
from cxloop.text import embeddings, lexicon
from cxloop.text.errors import BadModel
from cxloop.text.language import detect_language
from cxloop.text.normalize import normalize, strip_accents
from cxloop.text.tokenize import words

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn import linear_model
    from sklearn.feature_extraction import text as sk_text
else:  # loaded on first use: see cxloop.core.lazy
    sp = deferred("scipy.sparse")
    linear_model = deferred("sklearn.linear_model")
    sk_text = deferred("sklearn.feature_extraction.text")

FORMAT = "cxloop-text-classifier/1"
Features = Literal["tfidf", "embeddings", "both"]
Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) while training or predicting."""


@dataclass(frozen=True)
class ClassifierConfig:
    features: Features = "both"
    hash_bits: int = 18
    char_ngrams: tuple[int, int] = (2, 4)
    embedding_weight: float = 2.0
    cue_weight: float = 1.0
    c: float = 4.0
    class_weight: Literal["balanced", "none"] = "balanced"
    max_iter: int = 300


@dataclass
class Prepared:
    """Texts read once: their normalised form and their features, shared by several models."""

    normalized: list[str]
    tfidf_counts: sp.csr_matrix | None
    vectors: NDArray[np.float32] | None
    cues: NDArray[np.float32]
    languages: Sequence[str]


def polarity_cues(texts: Sequence[str]) -> NDArray[np.float32]:
    """Counts of positive and negative lexicon words (capped at 3, scaled to 0..1).

    They mean the same in every language, so what the model learns about them on one
    language carries to the others, beside the multilingual embeddings.
    """
    out = np.zeros((len(texts), 2), dtype=np.float32)
    for i, text in enumerate(texts):
        signs = lexicon.signs(words(text))
        out[i, 0] = min(3, sum(1 for s in signs if s > 0)) / 3
        out[i, 1] = min(3, sum(1 for s in signs if s < 0)) / 3
    return out


def text_features(text: str, char_ngrams: tuple[int, int] = (2, 4)) -> list[str]:
    """Word, word-pair and within-word character n-gram features of one normalised text.

    Vietnamese words also count without diacritics, so ``hang`` and ``hàng`` meet.
    """
    tokens = words(text)
    feats = [f"w:{t}" for t in tokens]
    feats.extend(f"b:{a} {b}" for a, b in pairwise(tokens))
    low, high = char_ngrams
    for token in tokens:
        bare = strip_accents(token)
        if bare != token and bare.isascii():
            feats.append(f"w:{bare}")
        padded = f" {token} "
        for n in range(low, high + 1):
            feats.extend(f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
    return feats


@dataclass
class Head:
    """One linear layer: a row of weights and a bias per class."""

    coef: NDArray[np.float32]
    intercept: NDArray[np.float32]

    def proba(self, matrix: Any) -> NDArray[np.float32]:
        scores = np.asarray(matrix @ self.coef.T + self.intercept, dtype=np.float32)
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores


@dataclass
class TextClassifier:
    """``head`` reads every feature; ``portable`` (models with embeddings) reads only the
    language-free ones and answers for texts in languages the training data hardly had, whose
    words the first head never saw."""

    config: ClassifierConfig
    classes: list[str]
    idf: NDArray[np.float32] | None
    head: Head
    portable: Head | None = None
    covered: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    # -- features ---------------------------------------------------------------------------

    @staticmethod
    def prepare(
        texts: Sequence[str], config: ClassifierConfig, progress: Progress | None = None
    ) -> Prepared:
        languages = [detect_language(t) for t in texts]
        normalized = [normalize(t, lang) for t, lang in zip(texts, languages, strict=True)]
        counts = None
        vectors = None
        if config.features in ("tfidf", "both"):
            hasher = _hasher(config)
            chunks = []
            for start in range(0, len(normalized), 2000):
                chunks.append(hasher.transform(normalized[start : start + 2000]))
                if progress is not None:
                    progress("features", min(start + 2000, len(normalized)), len(normalized))
            counts = sp.vstack(chunks).tocsr() if chunks else _hasher(config).transform([])
        if config.features in ("embeddings", "both"):
            done = 0

            def step(n: int) -> None:
                nonlocal done
                done += n
                if progress is not None:
                    progress("embeddings", done, len(normalized))

            vectors = embeddings.embed(normalized, step)
        return Prepared(normalized, counts, vectors, polarity_cues(normalized), languages)

    # -- use --------------------------------------------------------------------------------

    def predict_proba(self, prepared: Prepared) -> NDArray[np.float32]:
        proba = self.head.proba(_design(prepared, self.idf, self.config))
        if self.portable is not None and prepared.vectors is not None:
            rows = [i for i, lang in enumerate(prepared.languages) if lang not in self.covered]
            if rows:
                proba[rows] = self.portable.proba(_portable_design(prepared, self.config)[rows])
        return proba

    def predict(
        self, texts: Sequence[str], progress: Progress | None = None
    ) -> tuple[list[str], NDArray[np.float32]]:
        """Labels and the probability of each label, one row per text."""
        proba = self.predict_proba(self.prepare(texts, self.config, progress))
        best = proba.argmax(axis=1) if len(texts) else np.zeros(0, dtype=np.int64)
        return [self.classes[i] for i in best], proba

    # -- training ---------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        config: ClassifierConfig | None = None,
        progress: Progress | None = None,
        prepared: Prepared | None = None,
    ) -> TextClassifier:
        """Train on ``texts`` with ``labels`` used as given (any set of two or more labels)."""
        config = config or ClassifierConfig()
        if len(set(labels)) < 2:
            raise BadModel("training needs at least two different labels")
        prepared = prepared or cls.prepare(texts, config, progress)
        idf = _idf(prepared.tfidf_counts) if prepared.tfidf_counts is not None else None
        if progress is not None:
            progress("fitting", 0, 2)
        classes, head = _fit_head(_design(prepared, idf, config), labels, config)
        portable = None
        if prepared.vectors is not None and prepared.tfidf_counts is not None:
            if progress is not None:
                progress("fitting", 1, 2)
            _, portable = _fit_head(_portable_design(prepared, config), labels, config)
        if progress is not None:
            progress("fitting", 2, 2)
        languages = _counts(prepared.languages)
        # A language is covered when the training data had enough of it to learn its words.
        floor = max(50, 0.02 * len(texts))
        covered = sorted(lang for lang, n in languages.items() if n >= floor)
        info = {"trained_on": len(texts), "label_counts": _counts(labels), "languages": languages}
        return cls(config, classes, idf, head, portable, covered, info)

    # -- storage ----------------------------------------------------------------------------

    def save(self, directory: Path, extra: dict[str, Any] | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, NDArray[Any]] = {
            "coef": self.head.coef.astype(np.float16),
            "intercept": self.head.intercept,
        }
        if self.idf is not None:
            arrays["idf"] = self.idf
        if self.portable is not None:
            arrays["portable_coef"] = self.portable.coef
            arrays["portable_intercept"] = self.portable.intercept
        np.savez_compressed(directory / "weights.npz", **arrays)  # type: ignore[arg-type]
        description = {
            "format": FORMAT,
            "classes": self.classes,
            "covered_languages": self.covered,
            "config": asdict(self.config),
            "info": {**self.info, **(extra or {})},
        }
        (directory / "model.json").write_text(
            json.dumps(description, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> TextClassifier:
        try:
            description = json.loads((directory / "model.json").read_text(encoding="utf-8"))
            if description.get("format") != FORMAT:
                raise BadModel(f"{directory}: not a cxloop text model ({FORMAT})")
            raw = dict(description["config"])
            raw["char_ngrams"] = tuple(raw["char_ngrams"])
            config = ClassifierConfig(**raw)
            with np.load(directory / "weights.npz", allow_pickle=False) as arrays:
                head = Head(
                    arrays["coef"].astype(np.float32), arrays["intercept"].astype(np.float32)
                )
                idf = arrays["idf"].astype(np.float32) if "idf" in arrays else None
                portable = None
                if "portable_coef" in arrays:
                    portable = Head(
                        arrays["portable_coef"].astype(np.float32),
                        arrays["portable_intercept"].astype(np.float32),
                    )
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise BadModel(f"{directory}: cannot read the model ({exc})") from None
        return cls(
            config,
            [str(c) for c in description["classes"]],
            idf,
            head,
            portable,
            [str(c) for c in description.get("covered_languages", [])],
            dict(description.get("info", {})),
        )


def _fit_head(
    matrix: Any, labels: Sequence[str], config: ClassifierConfig
) -> tuple[list[str], Head]:
    model = linear_model.LogisticRegression(
        C=config.c,
        max_iter=config.max_iter,
        class_weight="balanced" if config.class_weight == "balanced" else None,
    )
    model.fit(matrix, np.asarray(labels))
    classes = [str(c) for c in model.classes_]
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if len(classes) == 2:  # one logit -> a softmax over two opposite halves
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return classes, Head(coef, intercept)


def _hasher(config: ClassifierConfig) -> sk_text.HashingVectorizer:
    low, high = config.char_ngrams
    return sk_text.HashingVectorizer(
        analyzer=lambda text: text_features(text, (low, high)),
        n_features=2**config.hash_bits,
        alternate_sign=False,
        norm=None,
    )


def _idf(counts: sp.csr_matrix) -> NDArray[np.float32]:
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    n = counts.shape[0]
    idf = np.log((1 + n) / (1 + df)) + 1
    # A feature never seen in training has no weight; left in, it would only shrink the
    # others when a text is normalised (text in a language the model was not trained on).
    idf[df == 0] = 0
    return np.asarray(idf, dtype=np.float32)


def _design(
    prepared: Prepared, idf: NDArray[np.float32] | None, config: ClassifierConfig
) -> sp.csr_matrix:
    blocks: list[Any] = []
    if prepared.tfidf_counts is not None and idf is not None:
        tf = prepared.tfidf_counts.astype(np.float32)
        tf.data = np.log1p(tf.data)
        weighted = tf @ sp.diags(idf)
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
        norms[norms == 0] = 1.0
        blocks.append(sp.diags(1 / norms) @ weighted)
    if prepared.vectors is not None:
        blocks.append(sp.csr_matrix(prepared.vectors * config.embedding_weight))
    if config.cue_weight:
        blocks.append(sp.csr_matrix(prepared.cues * config.cue_weight))
    if not blocks:
        raise BadModel("the model's features do not match the prepared texts")
    return sp.hstack(blocks, format="csr")


def _portable_design(prepared: Prepared, config: ClassifierConfig) -> NDArray[np.float32]:
    if prepared.vectors is None:
        raise BadModel("the model's features do not match the prepared texts")
    return np.hstack(
        [prepared.vectors * config.embedding_weight, prepared.cues * config.cue_weight]
    ).astype(np.float32)


def _counts(labels: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for label in labels:
        out[label] = out.get(label, 0) + 1
    return out
