"""Charts drawn on the server as SVG: a line with its confidence band, bars, stacked bars
(promoters, passives, detractors) and sparklines.

Colours are the Okabe-Ito palette, which people with any common colour-vision deficiency
tell apart; no chart relies on colour alone (legends, labels, a data table). Every chart has
a ``<title>`` and ``<desc>`` and carries its data as a :class:`~cxloop.web.tables.Table`,
shown under it as its text alternative and downloadable as CSV. The same SVG is the
download (``?format=svg``) and the source of the PNG (:mod:`cxloop.web.exports`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from cxloop.web.formatting import MINUS
from cxloop.web.tables import Table

# Okabe & Ito (2008), "Color Universal Design"
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
PALETTE = (BLUE, ORANGE, BLUISH_GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE, YELLOW, BLACK)
PROMOTER, PASSIVE, DETRACTOR = BLUISH_GREEN, YELLOW, VERMILLION

INK = "#1b1f24"
MUTED = "#57606a"  # 6.4:1 on white
GRID = "#d8dee4"
# the PNG is drawn without a browser, with the server's fonts (see exports.svg_to_png)
FONTS = "system-ui, 'Noto Sans', 'DejaVu Sans', sans-serif"
WIDTH, PLOT_HEIGHT = 640, 210  # the plot area; a legend of several rows adds to the height
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 16, 34, 40
HEIGHT = PAD_TOP + PLOT_HEIGHT + PAD_BOTTOM
FONT, SMALL = 14, 13  # px at the SVG's own size


@dataclass(frozen=True)
class Series:
    """One line: values per x (None where there is no figure) and an optional band."""

    name: str
    values: Sequence[float | None]
    low: Sequence[float | None] | None = None
    high: Sequence[float | None] | None = None
    colour: str = BLUE
    hollow: Sequence[bool] | None = None  # points drawn hollow (e.g. too few answers)


@dataclass(frozen=True)
class Part:
    """One layer of stacked bars."""

    name: str
    values: Sequence[float]
    colour: str


@dataclass(frozen=True)
class Chart:
    """An SVG with its words: ``id`` names it in the page's URL (``?format=svg&chart=ID``)."""

    id: str
    title: str
    description: str
    svg: str
    table: Table


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    table: Table,
    *,
    y_range: tuple[float, float] | None = None,
    bounds: tuple[float, float] | None = None,
    band_label: str = "",
) -> Chart:
    """Lines over ``labels`` with their bands (drawn first, translucent, in the line's colour).

    The axis fits the data (or ``y_range``) but never leaves ``bounds``, the scale's own
    limits (NPS -100..100): a wide band does not push the axis past what can happen."""
    known = [
        v
        for s in series
        for seq in (s.values, s.low or (), s.high or ())
        for v in seq
        if v is not None
    ]
    lo, hi = y_range or (bounds if bounds and not known else _span(known))
    ticks = nice_ticks(lo, hi)
    if bounds is not None:
        ticks = [tick for tick in ticks if bounds[0] <= tick <= bounds[1]] or list(bounds)
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    legend = [(s.name, s.colour, 1.0) for s in series]
    if band_label and any(s.low is not None for s in series):
        legend.append((band_label, series[0].colour, 0.25))
    key, top = _legend(legend)
    plot = _Plot(len(labels), lo, hi, top)
    parts = [key, _grid(plot, ticks), _x_labels(plot, labels)]
    for s in series:
        if s.low is not None and s.high is not None:
            parts.append(_band(plot, s.low, s.high, s.colour))
    for s in series:
        parts.append(_line(plot, s))
    if not known:
        parts.append(_empty_note((plot.top + plot.bottom) / 2, table.caption))
    svg = _svg(chart_id, title, description, parts, height=plot.height)
    return Chart(chart_id, title, description, svg, table)


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    layers: Sequence[Part],
    table: Table,
) -> Chart:
    """One bar per label, its layers as shares of the bar's total (each bar is 100 %)."""
    key, top = _legend([(layer.name, layer.colour, 1.0) for layer in layers])
    plot = _Plot(len(labels), 0, 100, top)
    parts = [key, _grid(plot, [0, 25, 50, 75, 100], suffix=" %"), _x_labels(plot, labels)]
    width = max(4.0, plot.step * 0.7)
    for i in range(len(labels)):
        total = sum(layer.values[i] for layer in layers)
        if total <= 0:
            continue
        bottom = 0.0
        x = plot.x(i) - width / 2
        for layer in layers:
            share = layer.values[i] / total * 100
            if share > 0:
                y_top, y_bottom = plot.y(bottom + share), plot.y(bottom)
                parts.append(
                    f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                    f'height="{y_bottom - y_top:.1f}" fill="{layer.colour}" stroke="#ffffff" '
                    f'stroke-width="1"><title>{escape(labels[i])}: {escape(layer.name)} '
                    f"{share:.0f} %</title></rect>"
                )
            bottom += share
    if not any(sum(layer.values[i] for layer in layers) for i in range(len(labels))):
        parts.append(_empty_note((plot.top + plot.bottom) / 2, table.caption))
    svg = _svg(chart_id, title, description, parts, height=plot.height)
    return Chart(chart_id, title, description, svg, table)


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float],
    table: Table,
    *,
    colour: str = BLUE,
    value_labels: Sequence[str] | None = None,
) -> Chart:
    """Horizontal bars, one per label (long labels and Thai words fit on the left)."""
    row, label_width = 28, 190
    height = 12 + row * max(len(labels), 1) + 12
    top = max(values, default=0) or 1
    parts = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 12 + i * row
        length = (WIDTH - label_width - 90) * max(value, 0) / top
        shown = value_labels[i] if value_labels else f"{value:g}"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end" font-size="{FONT}" '
            f'fill="{INK}">{escape(_clip(label, 26))}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 18}" font-size="{SMALL}" '
            f'fill="{MUTED}">{escape(shown)}</text>'
        )
    if not labels:
        parts.append(_empty_note(height / 2 + 5, table.caption))
    svg = _svg(chart_id, title, description, parts, height=height)
    return Chart(chart_id, title, description, svg, table)


def sparkline(
    values: Sequence[float | None], label: str, *, colour: str = BLUE, width: int = 120
) -> str:
    """A small line without axes, for a table cell or a tile; its data is in the row beside it."""
    height = 32
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label={quoteattr(label)}>'
            f"<title>{escape(label)}</title>"
            f'<line x1="2" y1="{height / 2}" x2="{width - 2}" y2="{height / 2}" '
            f'stroke="{GRID}" stroke-dasharray="3 3"/></svg>'
        )
    lo, hi = min(known), max(known)
    hi = hi if hi > lo else lo + 1
    step = (width - 6) / max(len(values) - 1, 1)
    points, last = [], (0.0, 0.0)
    for i, v in enumerate(values):
        if v is None:
            continue
        last = (3 + i * step, height - 4 - (v - lo) / (hi - lo) * (height - 8))
        points.append(f"{last[0]:.1f},{last[1]:.1f}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label={quoteattr(label)}>'
        f"<title>{escape(label)}</title>"
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
        f'stroke-width="2" stroke-linejoin="round"/>'
        f'<circle cx="{last[0]:.1f}" cy="{last[1]:.1f}" r="2.5" fill="{colour}"/></svg>'
    )


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round numbers from at most ``lo`` to at least ``hi``, about ``count`` of them."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step) * step
    ticks, value = [], start
    while value < hi + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    return ticks


# -- drawing --------------------------------------------------------------------------------


class _Plot:
    def __init__(self, n: int, lo: float, hi: float, top: int = PAD_TOP) -> None:
        self.n = max(n, 1)
        self.lo, self.hi = lo, hi if hi > lo else lo + 1
        self.left, self.right = PAD_LEFT, WIDTH - PAD_RIGHT
        self.top, self.bottom = top, top + PLOT_HEIGHT
        self.height = self.bottom + PAD_BOTTOM
        self.step = (self.right - self.left) / self.n

    def x(self, i: int) -> float:
        return self.left + self.step * (i + 0.5)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.lo) / (self.hi - self.lo) * (self.bottom - self.top)


def _span(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        return lo - 1, hi + 1
    margin = (hi - lo) * 0.08
    return lo - margin, hi + margin


def _grid(plot: _Plot, ticks: Sequence[float], suffix: str = "") -> str:
    out = []
    for tick in ticks:
        y = plot.y(tick)
        text = f"{tick:g}{suffix}".replace("-", MINUS)
        out.append(
            f'<line x1="{plot.left}" y1="{y:.1f}" x2="{plot.right}" y2="{y:.1f}" '
            f'stroke="{GRID if tick else MUTED}" stroke-width="1"/>'
            f'<text x="{plot.left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{SMALL}" '
            f'fill="{MUTED}">{escape(text)}</text>'
        )
    return "".join(out)


def _x_labels(plot: _Plot, labels: Sequence[str]) -> str:
    every = max(1, math.ceil(len(labels) * 64 / (plot.right - plot.left)))
    out = []
    for i, label in enumerate(labels):
        if i % every and i != len(labels) - 1:
            continue
        if i != len(labels) - 1 and len(labels) - 1 - i < every:
            continue  # keep the last label clear of its neighbour
        out.append(
            f'<text x="{plot.x(i):.1f}" y="{plot.bottom + 18}" text-anchor="middle" '
            f'font-size="{SMALL}" fill="{MUTED}">{escape(label)}</text>'
        )
    return "".join(out)


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Indexes of the unbroken stretches of known values."""
    runs: list[list[int]] = []
    for i, v in enumerate(values):
        if v is None:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _band(
    plot: _Plot, low: Sequence[float | None], high: Sequence[float | None], colour: str
) -> str:
    both = [
        lo if lo is not None and hi is not None else None for lo, hi in zip(low, high, strict=True)
    ]
    out = []
    for run in _runs(both):
        if len(run) == 1:
            i = run[0]
            out.append(
                f'<line x1="{plot.x(i):.1f}" y1="{plot.y(low[i] or 0):.1f}" x2="{plot.x(i):.1f}" '
                f'y2="{plot.y(high[i] or 0):.1f}" stroke="{colour}" stroke-opacity="0.35" '
                f'stroke-width="8"/>'
            )
            continue
        upper = [f"{plot.x(i):.1f},{plot.y(high[i] or 0):.1f}" for i in run]
        lower = [f"{plot.x(i):.1f},{plot.y(low[i] or 0):.1f}" for i in reversed(run)]
        out.append(
            f'<polygon points="{" ".join(upper + lower)}" fill="{colour}" fill-opacity="0.18"/>'
        )
    return "".join(out)


def _line(plot: _Plot, s: Series) -> str:
    out = []
    for run in _runs(s.values):
        points = " ".join(f"{plot.x(i):.1f},{plot.y(s.values[i] or 0):.1f}" for i in run)
        if len(run) > 1:
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{s.colour}" '
                f'stroke-width="2.5" stroke-linejoin="round"/>'
            )
    for i, v in enumerate(s.values):
        if v is None:
            continue
        hollow = bool(s.hollow and s.hollow[i])
        fill = "#ffffff" if hollow else s.colour
        out.append(
            f'<circle cx="{plot.x(i):.1f}" cy="{plot.y(v):.1f}" r="3.5" fill="{fill}" '
            f'stroke="{s.colour}" stroke-width="2"/>'
        )
    return "".join(out)


def _legend(items: Sequence[tuple[str, str, float]]) -> tuple[str, int]:
    """The legend, in as many rows as its names need, and where the plot may start."""
    out, x, y = [], PAD_LEFT, 8
    for name, colour, opacity in items:
        width = 28 + int(_text_width(name, SMALL))
        if x > PAD_LEFT and x + width > WIDTH - PAD_RIGHT:
            x, y = PAD_LEFT, y + 22
        out.append(
            f'<rect x="{x}" y="{y}" width="13" height="13" fill="{colour}" '
            f'fill-opacity="{opacity:g}" stroke="{MUTED}" stroke-width="0.5"/>'
            f'<text x="{x + 18}" y="{y + 11}" font-size="{SMALL}" '
            f'fill="{INK}">{escape(name)}</text>'
        )
        x += width
    return "".join(out), y + 26


def _empty_note(y: float, text: str) -> str:
    return (
        f'<text x="{WIDTH / 2}" y="{y:.0f}" text-anchor="middle" '
        f'font-size="{FONT}" fill="{MUTED}">{escape(text)}</text>'
    )


# Thai vowel and tone marks written above or below a consonant: they take no width
_THAI_MARKS = frozenset("\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a") | frozenset(
    chr(c) for c in range(0x0E47, 0x0E4F)
)


def _text_width(text: str, size: float = 12) -> float:
    """About how wide ``text`` is drawn; Thai vowel and tone marks take no width."""
    combining = sum(1 for ch in text if ch in _THAI_MARKS)
    return (len(text) - combining) * size * 0.6


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(
    chart_id: str, title: str, description: str, parts: Sequence[str], *, height: int = HEIGHT
) -> str:
    ids = f"{chart_id}-title {chart_id}-desc"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{ids}" '
        f"font-family={quoteattr(FONTS)}>"
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>' + "".join(parts) + "</svg>"
    )
