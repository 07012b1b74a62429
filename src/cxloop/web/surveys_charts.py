"""Interval charts: one row per group, a point at its value and a whisker over its 95 %
interval, on an axis that may run below zero (an NPS, or the effect of a driver).

Rows with too few answers are drawn hollow and say so in their label; the zero line is
drawn darker, so which side a value falls on reads without colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from cxloop.web.charts import BLUE, FONTS, GRID, INK, MUTED, WIDTH, Chart, nice_ticks
from cxloop.web.tables import Table

ROW = 30
LABEL_WIDTH = 160
VALUE_WIDTH = 110
TOP, BOTTOM = 16, 34
MINUS = "\u2212"


@dataclass(frozen=True)
class Row:
    label: str
    value: float | None
    low: float | None
    high: float | None
    text: str  # the value as the page writes it, shown at the right
    hollow: bool = False


def interval_chart(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[Row],
    table: Table,
    *,
    bounds: tuple[float, float] | None = None,
    colour: str = BLUE,
) -> Chart:
    """One row per group with its point and interval; ``bounds`` fixes the axis."""
    known = [v for r in rows for v in (r.value, r.low, r.high) if v is not None]
    lo, hi = bounds or (min([0.0, *known]), max([0.0, *known]))
    ticks = nice_ticks(lo, hi, 5)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    left, right = LABEL_WIDTH, WIDTH - VALUE_WIDTH
    height = TOP + ROW * max(len(rows), 1) + BOTTOM

    def x(value: float) -> float:
        return left + (value - lo) / ((hi - lo) or 1) * (right - left)

    parts = []
    bottom = TOP + ROW * max(len(rows), 1)
    for tick in ticks:
        text = f"{tick:g}".replace("-", MINUS)
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{TOP - 4}" x2="{x(tick):.1f}" y2="{bottom}" '
            f'stroke="{MUTED if tick == 0 else GRID}" stroke-width="{1.5 if tick == 0 else 1}"/>'
            f'<text x="{x(tick):.1f}" y="{bottom + 18}" text-anchor="middle" font-size="12" '
            f'fill="{MUTED}">{escape(text)}</text>'
        )
    for i, row in enumerate(rows):
        y = TOP + ROW * i + ROW / 2
        parts.append(
            f'<text x="{left - 10}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="{INK}">{escape(_clip(row.label, 30))}</text>'
            f'<text x="{right + 10}" y="{y + 4:.1f}" font-size="12" '
            f'fill="{MUTED}">{escape(row.text)}</text>'
        )
        if row.low is not None and row.high is not None:
            parts.append(
                f'<line x1="{x(row.low):.1f}" y1="{y:.1f}" x2="{x(row.high):.1f}" y2="{y:.1f}" '
                f'stroke="{colour}" stroke-width="2.5" stroke-linecap="round"/>'
            )
        if row.value is not None:
            fill = "#ffffff" if row.hollow else colour
            parts.append(
                f'<circle cx="{x(row.value):.1f}" cy="{y:.1f}" r="5" fill="{fill}" '
                f'stroke="{colour}" stroke-width="2"><title>{escape(row.label)}: '
                f"{escape(row.text)}</title></circle>"
            )
    if not rows:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{TOP + ROW / 2 + 4}" text-anchor="middle" '
            f'font-size="14" fill="{MUTED}">{escape(table.caption)}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{chart_id}-title '
        f'{chart_id}-desc" font-family={quoteattr(FONTS)}>'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>' + "".join(parts) + "</svg>"
    )
    return Chart(chart_id, title, description, svg, table)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
