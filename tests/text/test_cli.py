from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxloop.cli.main import app
from tests.text.test_classifier import BAD, GOOD

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    # progress bars go to stderr; a failure's message too
    return result.stdout if code == 0 else result.output


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def labelled() -> list[dict[str, str]]:
    return [{"comment": t, "mood": "happy"} for t in GOOD * 2] + [
        {"comment": t, "mood": "upset"} for t in BAD * 2
    ]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_train_predict_evaluate_round_trip(tmp_path: Path, suffix: str) -> None:
    rows = labelled()
    source = (write_csv if suffix == ".csv" else write_jsonl)(tmp_path / f"train{suffix}", rows)  # type: ignore[operator]
    model = tmp_path / "model"
    out = run(
        "text",
        "train",
        "--input",
        str(source),
        "--text-column",
        "comment",
        "--label-column",
        "mood",
        "--out",
        str(model),
        "--features",
        "tfidf",
    )
    assert "happy, upset" in out
    assert (model / "model.json").is_file()

    predicted = tmp_path / f"predicted{suffix}"
    run(
        "text",
        "predict",
        "--input",
        str(source),
        "--text-column",
        "comment",
        "--model",
        str(model),
        "--output",
        str(predicted),
    )
    if suffix == ".csv":
        with predicted.open(encoding="utf-8") as handle:
            back = list(csv.DictReader(handle))
    else:
        back = [json.loads(line) for line in predicted.read_text("utf-8").splitlines()]
    assert [r["comment"] for r in back] == [r["comment"] for r in rows]
    assert [r["label"] for r in back] == [r["mood"] for r in rows]
    assert all(0.5 <= float(r["score"]) <= 1 for r in back)

    report = json.loads(
        run(
            "text",
            "evaluate",
            "--input",
            str(source),
            "--text-column",
            "comment",
            "--label-column",
            "mood",
            "--model",
            str(model),
            "--json",
        )
    )
    assert report["accuracy"] == 1.0
    assert report["macro_f1"] == 1.0
    assert report["labels"] == ["happy", "upset"]
    assert report["confusion_matrix"] == [[12, 0], [0, 12]]
    assert set(report["per_class"]["happy"]) == {"precision", "recall", "f1", "support"}

    table = run(
        "text",
        "evaluate",
        "--input",
        str(source),
        "--text-column",
        "comment",
        "--label-column",
        "mood",
        "--model",
        str(model),
    )
    assert "macro-F1=1.0000" in table


def test_train_from_nps_scores(tmp_path: Path) -> None:
    rows = [{"answer": t, "nps": "10"} for t in GOOD] + [{"answer": t, "nps": "2"} for t in BAD]
    rows += [{"answer": "it was fine, nothing special", "nps": "7"}] * 4
    source = write_csv(tmp_path / "nps.csv", rows)
    out = run(
        "text",
        "train",
        "--input",
        str(source),
        "--text-column",
        "answer",
        "--score-column",
        "nps",
        "--out",
        str(tmp_path / "m"),
        "--features",
        "tfidf",
    )
    assert "negative, neutral, positive" in out


def test_predict_with_the_default_model(tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": 1, "text": "Sản phẩm tuyệt vời, rất hài lòng"}, {"id": 2, "text": "แย่มาก ผิดหวัง"}],
    )
    run(
        "text",
        "predict",
        "--input",
        str(source),
        "--text-column",
        "text",
        "--output",
        str(tmp_path / "out.csv"),
    )
    with (tmp_path / "out.csv").open(encoding="utf-8") as handle:
        back = list(csv.DictReader(handle))
    assert [r["id"] for r in back] == ["1", "2"]
    assert [r["label"] for r in back] == ["positive", "negative"]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", labelled())
    out = run(
        "text",
        "train",
        "--input",
        str(source),
        "--text-column",
        "review",
        "--label-column",
        "mood",
        "--out",
        str(tmp_path / "m"),
        code=1,
    )
    assert "no column 'review'" in out
    assert "comment" in out
    out = run(
        "text",
        "evaluate",
        "--input",
        str(source),
        "--text-column",
        "comment",
        "--label-column",
        "stars",
        "--model",
        str(tmp_path / "nowhere"),
        code=1,
    )
    assert "no column 'stars'" in out


def test_a_folder_without_a_model(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", labelled())
    out = run(
        "text",
        "predict",
        "--input",
        str(source),
        "--text-column",
        "comment",
        "--model",
        str(tmp_path),
        "--output",
        str(tmp_path / "o.csv"),
        code=1,
    )
    assert "no cxloop text model" in out
