"""`cxloop text train|predict|evaluate`: sentiment and theme models on CSV / JSON lines files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cxloop.cli.common import console, err_console
from cxloop.core.errors import CxloopError
from cxloop.core.lazy import deferred
from cxloop.text import tables
from cxloop.text.errors import BadTable
from cxloop.text.evaluation import evaluate as evaluate_labels
from cxloop.text.evaluation import score_to_sentiment

# the classifier (NumPy) and the text service (the ORM, the jobs) load with the command
if TYPE_CHECKING:
    from cxloop.text import classifier, service
    from cxloop.text.classifier import Features
    from cxloop.text.classifier import Progress as Report
else:
    classifier = deferred("cxloop.text.classifier")
    service = deferred("cxloop.text.service")

text_app = typer.Typer(help="Sentiment and themes of free text (vi, th, en).", no_args_is_help=True)

InputOption = Annotated[
    Path, typer.Option("--input", help="CSV (header line) or JSON lines file.", exists=True)
]
TextColumn_ = Annotated[str, typer.Option("--text-column", help="Column holding the text.")]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="Model folder from `cxloop text train` (default: shipped)."),
]


@contextmanager
def _clean_errors() -> Iterator[None]:
    try:
        yield
    except CxloopError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}", soft_wrap=True)
        raise typer.Exit(1) from None


@contextmanager
def _progress() -> Iterator[Report]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    ) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report


@text_app.command("train")
def train(
    input_file: InputOption,
    text_column: TextColumn_,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the model into.")],
    label_column: Annotated[
        str | None, typer.Option("--label-column", help="Column holding the label (any labels).")
    ] = None,
    score_column: Annotated[
        str | None,
        typer.Option(
            "--score-column",
            help="Instead of labels: an NPS score 0-10 (0-6 negative, 7-8 neutral, 9-10 positive).",
        ),
    ] = None,
    task: Annotated[str, typer.Option("--task", help="sentiment or theme.")] = "sentiment",
    features: Annotated[
        str, typer.Option("--features", help="both, tfidf (fastest) or embeddings.")
    ] = "both",
) -> None:
    """Train a classifier on labelled texts; the labels are used as given."""
    with _clean_errors():
        if task not in ("sentiment", "theme"):
            raise typer.BadParameter("use sentiment or theme", param_hint="--task")
        if features not in ("both", "tfidf", "embeddings"):
            raise typer.BadParameter("use both, tfidf or embeddings", param_hint="--features")
        if (label_column is None) == (score_column is None):
            raise typer.BadParameter(
                "give --label-column or --score-column", param_hint="--label-column"
            )
        rows = tables.read_rows(input_file)
        texts = tables.column(rows, text_column, input_file)
        if label_column is not None:
            labels = tables.column(rows, label_column, input_file)
        else:
            labels = _score_labels(tables.column(rows, str(score_column), input_file), input_file)
        pairs = [(t, lab) for t, lab in zip(texts, labels, strict=True) if t.strip() and lab != ""]
        feature_kind: Features = features  # type: ignore[assignment]
        with _progress() as report:
            model = classifier.TextClassifier.fit(
                [t for t, _ in pairs],
                [lab for _, lab in pairs],
                classifier.ClassifierConfig(features=feature_kind),
                progress=report,
            )
        model.save(out, {"task": task, "source": input_file.name})
    console.print(f"trained on {len(pairs):,} texts, labels {', '.join(model.classes)}: {out}")


def _score_labels(values: list[str], path: Path) -> list[str]:
    labels = []
    for number, value in enumerate(values, 1):
        if value.strip() == "":
            labels.append("")
            continue
        try:
            score = float(value)
        except ValueError:
            raise BadTable(f"{path}, row {number}: score {value!r} is not a number") from None
        if not 0 <= score <= 10:
            raise BadTable(f"{path}, row {number}: score {value!r} is not within 0-10")
        labels.append(score_to_sentiment(score))
    return labels


@text_app.command("predict")
def predict(
    input_file: InputOption,
    text_column: TextColumn_,
    output: Annotated[Path, typer.Option("--output", help="CSV or JSON lines file to write.")],
    model_dir: ModelOption = None,
) -> None:
    """Add `label` and `score` (its probability) columns to every row."""
    with _clean_errors():
        rows = tables.read_rows(input_file)
        texts = tables.column(rows, text_column, input_file, required=False)
        model = service.load_model(model_dir)
        with _progress() as report:
            labels, proba = model.predict(texts, report)
        out_rows = [
            {**row, "label": label, "score": round(float(p.max()), 4)}
            for row, label, p in zip(rows, labels, proba, strict=True)
        ]
        tables.write_rows(output, out_rows)
    console.print(f"{len(out_rows):,} rows written to {output}")


@text_app.command("evaluate")
def evaluate(
    input_file: InputOption,
    text_column: TextColumn_,
    label_column: Annotated[str, typer.Option("--label-column", help="Column of true labels.")],
    model_dir: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Accuracy, macro-F1, per-class precision / recall / F1 and the confusion matrix."""
    with _clean_errors():
        rows = tables.read_rows(input_file)
        texts = tables.column(rows, text_column, input_file)
        truth = tables.column(rows, label_column, input_file)
        pairs = [(t, lab) for t, lab in zip(texts, truth, strict=True) if lab != ""]
        model = service.load_model(model_dir)
        with _progress() as report:
            predicted, _ = model.predict([t for t, _ in pairs], report)
        result = evaluate_labels([lab for _, lab in pairs], predicted)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_report(result)


def _print_report(result: dict[str, Any]) -> None:
    console.print(
        f"n={result['n']:,}  accuracy={result['accuracy']:.4f}  macro-F1={result['macro_f1']:.4f}"
    )
    table = Table("label", "precision", "recall", "F1", "support")
    for label, row in result["per_class"].items():
        table.add_row(
            label,
            f"{row['precision']:.4f}",
            f"{row['recall']:.4f}",
            f"{row['f1']:.4f}",
            str(row["support"]),
        )
    console.print(table)
    matrix = Table("true \\ predicted", *result["labels"])
    for label, counts in zip(result["labels"], result["confusion_matrix"], strict=True):
        matrix.add_row(label, *(str(c) for c in counts))
    console.print(matrix)
