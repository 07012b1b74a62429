"""Tables of the dashboard: shown as HTML, downloaded as CSV, and the text alternative of a
chart. Cells keep their raw values; the page formats them for its language, the CSV keeps
them plain (ISO dates, '.' decimals) so that a spreadsheet reads them as numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from cxloop.web import formatting

Kind = Literal["text", "int", "number", "percent", "share", "signed", "date", "time"]
Cell = str | int | float | date | datetime | None
# Excel opens a UTF-8 file as UTF-8 only when it starts with a byte order mark; without it
# Vietnamese and Thai come out garbled.
BOM = "\ufeff"
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Column:
    """A column's heading and how its cells are written: ``percent`` is a value already in
    percent (NPS 12.3), ``share`` a share of 1 (0.123), ``signed`` a change with its sign."""

    label: str
    kind: Kind = "text"
    decimals: int = 1
    unit: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.kind not in ("text", "date", "time")


@dataclass(frozen=True)
class Table:
    """``id`` names the table in its page's URL (``?format=csv&table=ID``)."""

    id: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    caption: str = ""
    links: Sequence[str | None] = field(default_factory=tuple)  # a link per row, or none

    def __post_init__(self) -> None:
        for number, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.id}: row {number} has {len(row)} cells")


def cell_text(value: Cell, column: Column, lang: str) -> str:
    """A cell as the page shows it in ``lang``."""
    if value is None:
        return formatting.DASH
    if column.kind == "date" and isinstance(value, date | datetime):
        return formatting.day(value, lang)
    if column.kind == "time" and isinstance(value, datetime):
        return formatting.moment(value, lang)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = _numeric_text(float(value), column, lang)
    return f"{text} {column.unit}" if column.unit else text


def _numeric_text(value: float, column: Column, lang: str) -> str:
    if column.kind == "int":
        return formatting.number(value, lang, 0)
    if column.kind == "share":
        return formatting.percent(value, lang, column.decimals)
    if column.kind == "signed":
        return formatting.signed(value, lang, column.decimals)
    if column.kind == "percent":
        return f"{formatting.number(value, lang, column.decimals)} %"
    return formatting.number(value, lang, column.decimals)


def to_csv(table: Table) -> str:
    """The table as CSV text with a byte order mark, one heading row, raw values."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label + (f" ({c.unit})" if c.unit else "") for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(v) for v in row])
    return BOM + out.getvalue()


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(round(value, 6))
    text = str(value)
    # a cell starting with = + - @ would run as a formula in a spreadsheet
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def file_name(page: str, name: str, extension: str) -> str:
    """``cxloop-overview-nps-trend.csv``: ASCII only, safe in a Content-Disposition header."""
    stem = "-".join(p for p in (_SLUG.sub("-", page.lower()), _SLUG.sub("-", name.lower())) if p)
    return f"cxloop-{stem.strip('-')}.{extension}"
