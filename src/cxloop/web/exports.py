"""Downloads of what a page shows: each table as CSV, each chart as SVG or PNG.

A page answers ``?format=csv&table=ID``, ``?format=svg&chart=ID`` and
``?format=png&chart=ID`` (see :func:`export`). The PNG is drawn on the server from the same
SVG by resvg (``vl-convert-python``), with the server's fonts, so Thai needs
``fonts-thai-tlwg`` and nothing is fetched from the network.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from fastapi.responses import Response

from cxloop.core.errors import InvalidInput
from cxloop.core.lazy import deferred
from cxloop.web.charts import Chart
from cxloop.web.tables import Table, file_name, to_csv

if TYPE_CHECKING:
    import vl_convert
else:
    vl_convert = deferred("vl_convert")

FORMATS = ("html", "csv", "svg", "png")
PNG_SCALE = 2.0  # sharp on high-density screens and in documents
Item = TypeVar("Item", Chart, Table)


def export(
    page: str,
    fmt: str,
    charts: Sequence[Chart],
    tables: Sequence[Table],
    *,
    chart_id: str | None,
    table_id: str | None,
) -> Response:
    """The download ``fmt`` of one of the page's charts or tables; a 422 naming the bad
    parameter when the format, the chart or the table is not one the page has."""
    if fmt == "csv":
        every = [*tables, *(c.table for c in charts)]
        table = _pick(every, table_id, "table")
        return Response(
            to_csv(table).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers=_attachment(file_name(page, table.id, "csv")),
        )
    if fmt in ("svg", "png"):
        chart = _pick(charts, chart_id, "chart")
        if fmt == "svg":
            body = '<?xml version="1.0" encoding="UTF-8"?>\n' + chart.svg
            return Response(
                body.encode("utf-8"),
                media_type="image/svg+xml",
                headers=_attachment(file_name(page, chart.id, "svg")),
            )
        return Response(
            svg_to_png(chart.svg),
            media_type="image/png",
            headers=_attachment(file_name(page, chart.id, "png")),
        )
    raise InvalidInput("format", f"one of {', '.join(FORMATS)}, not {fmt!r}")


def svg_to_png(svg: str, scale: float = PNG_SCALE) -> bytes:
    png: bytes = vl_convert.svg_to_png(thai_fonts(svg), scale=scale)
    return png


def thai_fonts(svg: str) -> str:
    """Name a Thai face on each text in Thai. A browser finds a font for every letter by
    itself; resvg picks one face for a whole text, and for Thai beside Latin letters it
    borrows an oblique one. Loma (fonts-thai-tlwg) has Thai and Latin in one upright face;
    other texts keep the chart's fonts, whose Latin covers Vietnamese."""
    return _TEXT.sub(_thai_face, svg)


_TEXT = re.compile(r"<text\b([^>]*)>([^<]*)</text>")
_THAI = re.compile("[\u0e00-\u0e7f]")
THAI_FONTS = "Loma, Garuda, 'Noto Sans Thai', 'DejaVu Sans', sans-serif"


def _thai_face(found: re.Match[str]) -> str:
    attributes, text = found.group(1), found.group(2)
    if not _THAI.search(text) or "font-family" in attributes:
        return found.group(0)
    return f'<text{attributes} font-family="{THAI_FONTS}">{text}</text>'


def _pick(items: Sequence[Item], wanted: str | None, kind: str) -> Item:
    known = [item.id for item in items]
    if not wanted:
        raise InvalidInput(kind, f"name the {kind}: one of {', '.join(known) or '(none here)'}")
    for item in items:
        if item.id == wanted:
            return item
    raise InvalidInput(kind, f"no {kind} {wanted!r} on this page; one of {', '.join(known)}")


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
