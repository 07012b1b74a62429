"""The results page of a survey drawn from its figures: a tile per metric, the weekly trends
with their bands, the promoter/passive/detractor split, the breakdowns with their intervals
and the comments, each chart with its table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cxloop.analytics.feedback import Metric
from cxloop.dashboard import overview
from cxloop.dashboard.overview import SHAPES, MetricShape
from cxloop.dashboard.surveys_data import Breakdown, CommentPage, MetricResult
from cxloop.web import charts, formatting
from cxloop.web.charts import Chart, Part
from cxloop.web.page import Page
from cxloop.web.surveys_charts import Row, interval_chart
from cxloop.web.tables import Column, Table

SHAPE = {shape.metric.value: shape for shape in SHAPES}
BOUNDS = {"nps": (-100.0, 100.0), "csat": (0.0, 100.0), "ces": (1.0, 7.0)}


@dataclass(frozen=True)
class Tile:
    metric: str
    name: str
    value: str
    interval: str
    n: int
    small_sample: bool
    details: list[str]


def tiles(page: Page, found: Sequence[MetricResult]) -> list[Tile]:
    t, fmt = page.t, page.fmt
    out = []
    for result in found:
        shape, figure = SHAPE[result.metric], result.figure
        value = figure.get(shape.value)
        details: list[str] = []
        if result.metric == "nps" and figure["n"]:
            details = [
                t("results.split").format(
                    promoters=fmt.percent(figure["promoters"] / figure["n"], 0),
                    passives=fmt.percent(figure["passives"] / figure["n"], 0),
                    detractors=fmt.percent(figure["detractors"] / figure["n"], 0),
                )
            ]
        elif result.metric == "csat" and figure.get("mean") is not None:
            details = [t("results.csat_mean").format(mean=fmt.number(figure["mean"], 2))]
        elif result.metric == "ces" and figure.get("easy_pct") is not None:
            details = [t("results.ces_easy").format(share=fmt.number(figure["easy_pct"], 1))]
        out.append(
            Tile(
                metric=result.metric,
                name=t(f"metric.{result.metric}"),
                value=_value(page, shape, value),
                interval=t("results.interval").format(
                    low=_value(page, shape, figure.get("ci_low")),
                    high=_value(page, shape, figure.get("ci_high")),
                )
                if figure.get("ci_low") is not None
                else "",
                n=figure["n"],
                small_sample=figure["small_sample"],
                details=details,
            )
        )
    return out


def _value(page: Page, shape: MetricShape, value: float | None) -> str:
    return page.fmt.number(value, shape.decimals) + (f" {shape.unit}" if shape.unit else "")


def trend_chart(page: Page, result: MetricResult) -> Chart:
    """The metric week by week with its 95 % band; weeks with too few answers hollow."""
    return overview.trend_chart(page, SHAPE[result.metric], result.trend, "results.trend")


def mix_chart(page: Page, nps: MetricResult) -> Chart:
    """Promoters, passives and detractors: the whole period, then each week."""
    t, lang = page.t, page.lang
    names = (t("nps.promoters"), t("nps.passives"), t("nps.detractors"))
    keys = ("promoters", "passives", "detractors")
    overall = nps.figure
    rows: list[tuple[str, Any, Mapping[str, Any]]] = []
    if overall["n"]:
        rows.append((t("results.mix.all"), None, overall))
    rows += [(formatting.short_day(b["period"], lang), b["period"], b) for b in nps.trend]
    table = Table(
        id="nps-mix",
        title=t("results.mix.title"),
        columns=[
            Column(t("table.week"), "date"),
            *(Column(name, "int") for name in names),
            Column(t("table.n"), "int"),
        ],
        rows=[[period, *(figure[k] for k in keys), figure["n"]] for _, period, figure in rows],
        caption=t("chart.no_data"),
    )
    description = t("chart.no_data")
    if overall["n"]:
        description = t("results.mix.desc").format(
            **{k: formatting.percent(overall[k] / overall["n"], lang, 0) for k in keys},
            n=formatting.number(overall["n"], lang),
        )
    layers = [
        Part(names[0], [f["promoters"] for _, _, f in rows], charts.PROMOTER),
        Part(names[1], [f["passives"] for _, _, f in rows], charts.PASSIVE),
        Part(names[2], [f["detractors"] for _, _, f in rows], charts.DETRACTOR),
    ]
    labels = [label for label, _, _ in rows]
    return charts.stacked_bars(table.id, table.title, description, labels, layers, table)


def breakdown_chart(page: Page, metric: str, breakdown: Breakdown, min_n: int) -> Chart:
    """The metric per value of one field, each with its interval and its number of answers."""
    t, lang = page.t, page.lang
    shape = SHAPE[metric]
    name = t(f"metric.{metric}")
    field = t(f"results.by.{breakdown.by}")
    groups = breakdown.groups
    table = Table(
        id=f"by-{breakdown.by}",
        title=t("results.by.title").format(metric=name, field=field),
        columns=[
            Column(field),
            Column(name, "number", shape.decimals, shape.unit),
            Column(t("table.ci_low"), "number", shape.decimals, shape.unit),
            Column(t("table.ci_high"), "number", shape.decimals, shape.unit),
            Column(t("table.n"), "int"),
            Column(t("results.small.column")),
        ],
        rows=[
            [
                group_label(page, breakdown.by, g["key"]),
                g[shape.value],
                g["ci_low"],
                g["ci_high"],
                g["n"],
                t("results.small.yes") if g["small_sample"] else "",
            ]
            for g in groups
        ],
        caption=t("chart.no_data"),
    )
    rows = [
        Row(
            label=group_label(page, breakdown.by, g["key"]),
            value=g[shape.value],
            low=g["ci_low"],
            high=g["ci_high"],
            text=f"{formatting.number(g[shape.value], lang, shape.decimals)} "
            f"(n = {formatting.number(g['n'], lang)})",
            hollow=g["small_sample"],
        )
        for g in groups
    ]
    small = sum(1 for g in groups if g["small_sample"])
    description = t("chart.no_data")
    if groups:
        description = t("results.by.desc").format(
            metric=name, field=field, groups=len(groups), small=small, min_n=min_n
        )
    return interval_chart(
        table.id, table.title, description, rows, table, bounds=BOUNDS[metric], colour=shape.colour
    )


def group_label(page: Page, by: str, key: str) -> str:
    """A group's value as people read it: a language or a stage by its name."""
    if key == "(none)":
        return page.t("results.none")
    if by == "language" and key in ("vi", "th", "en"):
        return page.t(f"surveys.language.{key}")
    if by == "stage":
        return page.t(f"surveys.stage.{key}")
    return key


def comments_table(page: Page, found: CommentPage, labels: Mapping[str, str]) -> Table:
    t = page.t
    return Table(
        id="comments",
        title=t("results.comments.title"),
        columns=[
            Column(t("results.comments.submitted"), "time"),
            Column(t("results.comments.question")),
            Column(t("results.comments.text")),
            Column(t("results.comments.language")),
            Column(t("results.comments.sentiment")),
            Column(t("results.comments.themes")),
            Column(t("metric.nps"), "int"),
            Column(t("results.by.touchpoint")),
        ],
        rows=[
            [
                c.submitted_at,
                c.question,
                c.text,
                c.language,
                sentiment_label(page, c.sentiment),
                ", ".join(labels.get(theme, theme) for theme in c.themes),
                c.nps,
                c.touchpoint or "",
            ]
            for c in found.items
        ],
        caption=t("results.comments.none"),
    )


def sentiment_label(page: Page, sentiment: str) -> str:
    key = f"sentiment.{sentiment}"
    text = page.t(key)
    return sentiment if text == key else text


def metric_of(value: str | None) -> Metric | None:
    try:
        return Metric(value) if value else None
    except ValueError:
        return None
