"""Language, sentiment, themes and aspect sentiment of texts, in batches."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cxloop.text import lexicon
from cxloop.text.classifier import TextClassifier
from cxloop.text.language import Language, detect_language
from cxloop.text.normalize import normalize
from cxloop.text.taxonomy import Matcher, Taxonomy

# Clause boundaries: punctuation, and contrast words that usually turn the sentiment.
_CLAUSE_BREAK = re.compile(
    r"[.!?;,\n]+|\s*(?<![^\W\d_])(?:nhưng mà|nhưng|tuy nhiên|mà|nhung|tuy nhien|but|however|"
    r"although|though|whereas|yet)(?![^\W\d_])\s*|\s*(?:แต่ว่า|แต่(?!ง|ละ)|ส่วน|ทว่า)\s*",
    re.IGNORECASE,
)
_NEUTRAL_BAND = 0.25


@dataclass
class Aspect:
    theme: str
    sentiment: str
    score: float
    polarity: float
    span: str


@dataclass
class Analysis:
    text: str
    language: Language
    sentiment: str
    score: float
    polarity: float | None
    themes: list[str] = field(default_factory=list)
    aspects: list[Aspect] = field(default_factory=list)


def clauses(text: str) -> list[str]:
    """Clauses of ``text``, split at punctuation and contrast words (nhưng, แต่, but...)."""
    return [part.strip() for part in _CLAUSE_BREAK.split(text) if part and part.strip()]


def polarity_of(model: TextClassifier, proba: NDArray[np.float32]) -> NDArray[np.float32] | None:
    """P(positive) - P(negative) per row, when the model's labels are a sentiment scale."""
    if "positive" not in model.classes or "negative" not in model.classes:
        return None
    pos = model.classes.index("positive")
    neg = model.classes.index("negative")
    return np.asarray(proba[:, pos] - proba[:, neg], dtype=np.float32)


def _label(value: float) -> tuple[str, float]:
    if value > _NEUTRAL_BAND:
        return "positive", (1 + value) / 2
    if value < -_NEUTRAL_BAND:
        return "negative", (1 - value) / 2
    return "neutral", 1 - abs(value)


class Analyzer:
    """Applies one sentiment model and one taxonomy; safe to share between threads."""

    def __init__(self, model: TextClassifier, taxonomy: Taxonomy) -> None:
        self.model = model
        self.matcher = Matcher(taxonomy)

    def analyze(self, texts: Sequence[str]) -> list[Analysis]:
        languages = [detect_language(t) for t in texts]
        normalized = [normalize(t, lang) for t, lang in zip(texts, languages, strict=True)]
        parts = [clauses(t) for t in normalized]
        themed = [[(c, self.matcher.find(c)) for c in p] for p in parts]
        # A clause needs the model's own reading only where a text mixes several of them and
        # the lexicon has no word in it (each reading costs an embedding: most of the time).
        lexical = {c: lexicon.polarity(c) for p in parts if len(p) > 1 for c in p}
        extra: list[str] = []
        for clause_list in themed:
            if len(clause_list) > 1 and any(found for _, found in clause_list):
                extra.extend(c for c, found in clause_list if found and not lexical[c][1])
        proba = self.model.predict_proba(
            self.model.prepare([*normalized, *extra], self.model.config)
        )
        polarity = polarity_of(self.model, proba)
        results = []
        cursor = len(texts)
        for i, text in enumerate(texts):
            best = int(proba[i].argmax())
            whole = float(polarity[i]) if polarity is not None else None
            analysis = Analysis(
                text=text,
                language=languages[i],
                sentiment=self.model.classes[best],
                score=round(float(proba[i, best]), 4),
                polarity=None if whole is None else round(whole, 4),
            )
            clause_list = themed[i]
            several = len(clause_list) > 1 and any(found for _, found in clause_list)
            for clause, found in clause_list:
                if not found:
                    continue
                if not several:
                    value = _blend(whole, clause)
                elif lexical[clause][1]:
                    value = lexical[clause][0]
                else:
                    value = float(polarity[cursor]) if polarity is not None else 0.0
                    cursor += 1
                sentiment, score = _label(value)
                for theme in found:
                    if theme not in analysis.themes:
                        analysis.themes.append(theme)
                    analysis.aspects.append(
                        Aspect(theme, sentiment, round(score, 4), round(value, 4), clause)
                    )
            results.append(analysis)
        return results


def _blend(model_value: float | None, clause: str) -> float:
    """The model's polarity of a clause, steadied by the lexicon where it has words."""
    lex, hits = lexicon.polarity(clause)
    if model_value is None:
        return lex
    if hits == 0:
        return model_value
    return 0.4 * model_value + 0.6 * lex
