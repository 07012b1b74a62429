"""The figures a benchmark reports: a table row each, with notes, for docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    name: str
    value: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None  # None: not measured in this run
    notes: list[str] = field(default_factory=list)


def table(figures: Sequence[Figure]) -> str:
    lines = [
        "| figure | cxloop | baseline | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        met = "pending" if f.met is None else "yes" if f.met else "**no**"
        lines.append(f"| {f.name} | {f.value} | {f.baseline} | {ratio} | {f.target} | {met} |")
    return "\n".join(lines)


def details(figures: Sequence[Figure]) -> str:
    out = []
    for f in figures:
        out.append(f"- **{f.name}**")
        out.extend(f"  - {note}" for note in f.notes)
    return "\n".join(out)


def replace_section(path: Path, begin: str, end: str, section: str, head: str = "") -> Path:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) in place of the
    file's section between those markers, or append it; a missing file starts as ``head``."""
    old = path.read_text() if path.exists() else head
    if begin in old and end in old:
        before, rest = old.split(begin, 1)
        text = before + section.rstrip("\n") + rest.split(end, 1)[1]
    else:
        text = old.rstrip("\n") + "\n\n" + section
    path.write_text(text)
    return path
