"""The SVG charts, tables and downloads, without a server: well-formed SVG with its words,
gaps left open, axes within the scale, the palette, CSV that spreadsheets read safely."""

from __future__ import annotations

import csv
import io
import struct
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from cxloop.core.errors import InvalidInput
from cxloop.web import charts, exports, formatting
from cxloop.web.charts import Part, Series
from cxloop.web.tables import Column, Table, cell_text, file_name, to_csv

NS = "{http://www.w3.org/2000/svg}"
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (made by the code under test)


def table(rows: list[list[object]]) -> Table:
    return Table("t", "T", [Column("week", "date"), Column("value", "number")], rows, "no data")  # type: ignore[arg-type]


def test_a_line_with_its_band_is_svg_with_a_title_and_a_description() -> None:
    chart = charts.line_chart(
        "nps-trend",
        "NPS <by> week & more",
        "Description with ภาษาไทย and tiếng Việt",
        ["1 Mar", "8 Mar", "15 Mar"],
        [Series("NPS", [10.0, None, 30.0], low=[0.0, None, 20.0], high=[20.0, None, 40.0])],
        table([[date(2026, 3, 1), 10.0], [date(2026, 3, 8), None], [date(2026, 3, 15), 30.0]]),
        bounds=(-100, 100),
    )
    root = parse(chart.svg)
    assert root.tag == f"{NS}svg"
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-labelledby"] == "nps-trend-title nps-trend-desc"
    assert root.find(f"{NS}title").text == "NPS <by> week & more"  # type: ignore[union-attr]
    assert "ภาษาไทย" in (root.find(f"{NS}desc").text or "")  # type: ignore[union-attr]
    # the gap in the middle splits the line: two single points, no polyline across it
    assert root.findall(f".//{NS}polyline") == []
    assert len(root.findall(f".//{NS}circle")) == 2


def test_the_axis_stays_within_the_scale() -> None:
    chart = charts.line_chart(
        "x",
        "t",
        "d",
        ["a", "b"],
        [Series("NPS", [-90.0, 95.0], low=[-100.0, 80.0], high=[-60.0, 100.0])],
        table([[date(2026, 1, 1), 1.0], [date(2026, 1, 2), 2.0]]),
        bounds=(-100, 100),
    )
    labels = [t.text for t in parse(chart.svg).iter(f"{NS}text")]
    assert "\u2212100" in labels
    assert "100" in labels
    assert "\u2212200" not in labels
    assert "200" not in labels


def test_a_long_legend_takes_more_rows_and_the_chart_grows() -> None:
    many = [Series(f"ธีมที่ยาวมากหมายเลข {n}", [1.0, 2.0]) for n in range(8)]
    rows = [[date(2026, 1, 1), 1.0], [date(2026, 1, 2), 2.0]]
    one = charts.line_chart("a", "t", "d", ["x", "y"], many[:1], table(rows))
    eight = charts.line_chart("b", "t", "d", ["x", "y"], many, table(rows))
    assert int(parse(eight.svg).attrib["height"]) > int(parse(one.svg).attrib["height"])
    for text in parse(eight.svg).iter(f"{NS}text"):
        assert float(text.attrib["x"]) < charts.WIDTH


def test_empty_charts_say_so() -> None:
    empty = table([])
    for chart in (
        charts.line_chart("a", "t", "d", [], [Series("s", [])], empty),
        charts.stacked_bars("b", "t", "d", [], [Part("p", [], charts.PROMOTER)], empty),
        charts.bar_chart("c", "t", "d", [], [], empty),
    ):
        texts = [t.text for t in parse(chart.svg).iter(f"{NS}text")]
        assert "no data" in texts


def test_stacked_bars_are_shares_of_each_bar() -> None:
    chart = charts.stacked_bars(
        "mix",
        "t",
        "d",
        ["w1", "w2"],
        [
            Part("promoters", [3, 0], charts.PROMOTER),
            Part("passives", [1, 0], charts.PASSIVE),
            Part("detractors", [0, 0], charts.DETRACTOR),
        ],
        table([[date(2026, 1, 1), 1.0]]),
    )
    bars = [r for r in parse(chart.svg).iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    titles = [r.find(f"{NS}title").text for r in bars]  # type: ignore[union-attr]
    assert titles == ["w1: promoters 75 %", "w1: passives 25 %"]
    heights = [float(r.attrib["height"]) for r in bars]
    assert heights[0] == pytest.approx(3 * heights[1], rel=0.02)


def test_every_colour_is_okabe_ito() -> None:
    assert set(charts.PALETTE) - {charts.BLACK} == OKABE_ITO
    chart = charts.bar_chart("c", "t", "d", ["web", "app"], [3, 1], table([]))
    fills = {r.attrib["fill"] for r in parse(chart.svg).iter(f"{NS}rect")} - {"#ffffff"}
    assert fills <= OKABE_ITO


def test_a_sparkline_needs_two_points() -> None:
    assert "<polyline" in charts.sparkline([1.0, None, 3.0], "trend")
    flat = charts.sparkline([None, 2.0], "trend")
    assert "<polyline" not in flat
    assert parse(flat).find(f"{NS}title").text == "trend"  # type: ignore[union-attr]


def test_nice_ticks() -> None:
    assert charts.nice_ticks(0, 100) == [0, 25, 50, 75, 100]
    assert charts.nice_ticks(-37, 81) == [-50, 0, 50, 100]
    assert charts.nice_ticks(3.2, 3.2)[0] <= 3.2


def test_png_is_drawn_on_the_server_with_thai() -> None:
    chart = charts.bar_chart("c", "ช่องทาง", "d", ["ไลน์", "เว็บ"], [3, 1], table([]))
    png = exports.svg_to_png(chart.svg)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    height = int(parse(chart.svg).attrib["height"])
    assert struct.unpack(">II", png[16:24]) == (2 * charts.WIDTH, 2 * height)


def test_csv_has_a_bom_plain_values_and_no_formulas() -> None:
    data = Table(
        "customers",
        "Customers",
        [Column("Tên"), Column("Events", "int"), Column("Share", "share"), Column("Seen", "time")],
        [
            ["Nguyễn Thị Hương", 12, 0.25, datetime(2026, 3, 1, 8, tzinfo=UTC)],
            ['=HYPERLINK("x")', None, None, None],
        ],
    )
    text = to_csv(data)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Tên", "Events", "Share", "Seen"]
    assert rows[1] == ["Nguyễn Thị Hương", "12", "0.25", "2026-03-01T08:00:00+00:00"]
    assert rows[2] == ['\'=HYPERLINK("x")', "", "", ""]


def test_a_row_must_fit_its_columns() -> None:
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        Table("t", "T", [Column("a"), Column("b")], [["only one"]])


@pytest.mark.parametrize(
    ("value", "column", "lang", "shown"),
    [
        (1234.5, Column("x", "number", 1), "vi", "1.234,5"),
        (1234.5, Column("x", "number", 1), "th", "1,234.5"),
        (0.1234, Column("x", "share", 1), "en", "12.3 %"),
        (-3.25, Column("x", "signed", 2), "en", "\u22123.25"),
        (3.0, Column("x", "signed", 1), "vi", "+3,0"),
        (None, Column("x", "int"), "th", "\u2013"),
        (7, Column("x", "int", unit="VND"), "en", "7 VND"),
    ],
)
def test_cells_are_written_the_languages_way(
    value: float | None, column: Column, lang: str, shown: str
) -> None:
    assert cell_text(value, column, lang) == shown


def test_axis_days_in_each_language() -> None:
    day = date(2026, 3, 2)
    assert [formatting.short_day(day, lang) for lang in ("en", "vi", "th")] == [
        "2 Mar",
        "2/3",
        "2 มี.ค.",
    ]


def test_file_names_are_ascii() -> None:
    assert file_name("overview", "NPS trend", "csv") == "cxloop-overview-nps-trend.csv"
    assert file_name("customers", "ลูกค้า", "svg") == "cxloop-customers.svg"


def test_a_download_of_an_unknown_chart_names_it() -> None:
    with pytest.raises(InvalidInput) as raised:
        exports.export("p", "svg", [], [], chart_id="nope", table_id=None)
    assert raised.value.field == "chart"


def test_the_png_names_a_thai_face_for_thai_texts_only() -> None:
    chart = charts.bar_chart("c", "t", "d", ["ไลน์", "Người ủng hộ"], [3, 1], table([]))
    texts = {t.text: t.attrib for t in parse(exports.thai_fonts(chart.svg)).iter(f"{NS}text")}
    assert texts["ไลน์"]["font-family"].startswith("Loma")
    assert "font-family" not in texts["Người ủng hộ"]
