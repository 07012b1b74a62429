"""Reading and writing labelled text files: CSV or JSON lines, chosen by the file name."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cxloop.text.errors import BadTable

Row = dict[str, Any]


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise BadTable(f"{path}: use a .csv or .jsonl file")


def read_rows(path: Path) -> list[Row]:
    """Every row of a CSV (header line first) or JSON lines file."""
    kind = file_format(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if kind == "csv":
                dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
                return list(csv.DictReader(handle, dialect=dialect))
            rows = []
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                value = json.loads(line)
                if not isinstance(value, dict):
                    raise BadTable(f"{path}, line {number}: a JSON object is expected")
                rows.append(value)
            return rows
    except json.JSONDecodeError as exc:
        raise BadTable(f"{path}: not JSON lines ({exc})") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadTable(f"{path}: cannot read ({exc})") from None


def column(rows: Sequence[Row], name: str, path: Path, *, required: bool = True) -> list[str]:
    """The values of column ``name`` as text; rows where it is empty are kept as ``""``."""
    if rows and not any(name in row for row in rows):
        present = sorted({key for row in rows[:100] for key in row})
        raise BadTable(f"{path}: no column {name!r} (columns: {', '.join(present)})")
    values = ["" if row.get(name) is None else str(row.get(name)) for row in rows]
    if required and rows and all(v == "" for v in values):
        raise BadTable(f"{path}: column {name!r} is empty")
    return values


def write_rows(path: Path, rows: Sequence[Row]) -> None:
    kind = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        if kind == "jsonl":
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        names: list[str] = []
        for row in rows:
            names.extend(k for k in row if k not in names)
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
