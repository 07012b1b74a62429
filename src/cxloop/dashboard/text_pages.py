"""Text and themes (``/app/text``): what customers write about, week by week and by
sentiment, the themes detractors mention, the NPS drivers with their effects and intervals,
and example comments of each theme in the language they were written in."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query
from fastapi.responses import Response

from cxloop.core.deps import ReadSessionDep, SettingsDep
from cxloop.core.errors import InvalidInput
from cxloop.dashboard import periods, text_data
from cxloop.dashboard.auth import PageDep
from cxloop.dashboard.text_data import TextOverview
from cxloop.eventstore.service import events_root
from cxloop.web import charts, formatting
from cxloop.web.charts import Chart, Part, Series
from cxloop.web.page import Page
from cxloop.web.surveys_charts import Row, interval_chart
from cxloop.web.tables import Column, Table

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 90
SENTIMENT_COLOURS = {
    "negative": charts.VERMILLION,
    "neutral": charts.YELLOW,
    "positive": charts.BLUISH_GREEN,
}


@router.get("/app/text")
def text_page(
    page: PageDep,
    session: ReadSessionDep,
    settings: SettingsDep,
    start: date | None = Query(None, alias="from"),
    end: date | None = Query(None, alias="to"),
    source: list[str] = Query(default_factory=list, max_length=3),
) -> Response:
    unknown = [s for s in source if s not in text_data.SOURCES]
    if unknown:
        known = ", ".join(text_data.SOURCES)
        raise InvalidInput("source", f"one of {known}, not {unknown[0]!r}")
    sources = source or list(text_data.SOURCES)
    period = periods.choose(start, end, page.viewer.timezone, DEFAULT_DAYS)
    found = text_data.overview(
        session,
        settings,
        events_root(settings),
        page.viewer.workspace_id,
        lang=page.lang,
        timezone=period.tz,
        since=period.since,
        until=period.until,
        sources=sources,
    )
    built = [
        weekly_chart(page, found),
        sentiment_chart(page, found),
        detractor_chart(page, found),
        drivers_chart(page, found),
    ]
    return page.render(
        "app/text/overview.html",
        section="text",
        title=page.t("text.title"),
        charts=built,
        tables=[examples_table(page, found)],
        period=period,
        found=found,
        sources=sources,
        all_sources=text_data.SOURCES,
    )


def weekly_chart(page: Page, found: TextOverview) -> Chart:
    t, lang = page.t, page.lang
    themes = list(found.over_time)
    names = [found.labels.get(theme, theme) for theme in themes]
    table = Table(
        id="themes-weekly",
        title=t("text.weekly.title"),
        columns=[Column(t("table.week"), "date"), *(Column(name, "int") for name in names)],
        rows=[
            [week, *(found.over_time[theme][i] for theme in themes)]
            for i, week in enumerate(found.weeks)
        ],
        caption=t("text.none"),
    )
    series = [
        Series(_short(name, 14), [float(v) for v in found.over_time[theme]], colour=colour)
        for name, theme, colour in zip(names, themes, charts.PALETTE, strict=False)
    ]
    description = t("text.none")
    if themes:
        totals = {
            name: sum(found.over_time[theme]) for name, theme in zip(names, themes, strict=True)
        }
        top = max(totals, key=lambda name: totals[name])
        description = t("text.weekly.desc").format(
            themes=len(themes),
            weeks=len(found.weeks),
            top=top,
            n=formatting.number(totals[top], lang),
            total=formatting.number(found.total, lang),
        )
    return charts.line_chart(
        table.id,
        table.title,
        description,
        [formatting.short_day(week, lang) for week in found.weeks],
        series if themes else [Series(t("text.none"), [None] * len(found.weeks))],
        table,
    )


def sentiment_chart(page: Page, found: TextOverview) -> Chart:
    t, lang = page.t, page.lang
    themes = list(found.by_sentiment)[:12]
    names = [found.labels.get(theme, theme) for theme in themes]
    sentiments = found.sentiments
    titles = [_sentiment(page, s) for s in sentiments]
    table = Table(
        id="themes-sentiment",
        title=t("text.sentiment.title"),
        columns=[
            Column(t("text.theme")),
            *(Column(title, "int") for title in titles),
            Column(t("text.texts"), "int"),
        ],
        rows=[
            [
                name,
                *(found.by_sentiment[theme].get(s, 0) for s in sentiments),
                sum(found.by_sentiment[theme].values()),
            ]
            for name, theme in zip(names, themes, strict=True)
        ],
        caption=t("text.none"),
    )
    layers = [
        Part(
            title,
            [float(found.by_sentiment[theme].get(s, 0)) for theme in themes],
            SENTIMENT_COLOURS.get(s, charts.SKY_BLUE),
        )
        for s, title in zip(sentiments, titles, strict=True)
    ]
    description = t("text.none")
    if themes:
        worst = max(
            themes,
            key=lambda th: (
                found.by_sentiment[th].get("negative", 0)
                / max(sum(found.by_sentiment[th].values()), 1)
            ),
        )
        share = found.by_sentiment[worst].get("negative", 0) / max(
            sum(found.by_sentiment[worst].values()), 1
        )
        description = t("text.sentiment.desc").format(
            themes=len(themes),
            worst=found.labels.get(worst, worst),
            share=formatting.percent(share, lang, 0),
        )
    labels = [_short(name, 11) for name in names]  # the axis has room for short words only
    return charts.stacked_bars(table.id, table.title, description, labels, layers, table)


def detractor_chart(page: Page, found: TextOverview) -> Chart:
    t, lang = page.t, page.lang
    items = found.detractors[:10]
    names = [found.labels.get(d.theme, d.theme) for d in items]
    table = Table(
        id="detractor-themes",
        title=t("text.detractors.title"),
        columns=[
            Column(t("text.theme")),
            Column(t("text.detractors.count"), "int"),
            Column(t("text.detractors.share"), "number", 1, "%"),
            Column(t("text.detractors.nps"), "number", 1),
            Column(t("table.n"), "int"),
        ],
        rows=[
            [name, d.detractors, d.share, d.nps, d.n] for name, d in zip(names, items, strict=True)
        ],
        caption=t("text.detractors.none"),
    )
    description = t("text.detractors.none")
    if items:
        description = t("text.detractors.desc").format(
            theme=names[0],
            share=formatting.number(items[0].share, lang, 0),
            n=formatting.number(found.analysed_detractors, lang),
        )
    return charts.bar_chart(
        table.id,
        table.title,
        description,
        names,
        [d.share or 0.0 for d in items],
        table,
        colour=charts.DETRACTOR,
        value_labels=[
            f"{formatting.number(d.share, lang, 0)} % ({formatting.number(d.detractors, lang)})"
            for d in items
        ],
    )


def drivers_chart(page: Page, found: TextOverview) -> Chart:
    t, lang = page.t, page.lang
    items = found.drivers[:12]
    labels = [_driver_label(page, found, d) for d in items]
    table = Table(
        id="drivers",
        title=t("text.drivers.title"),
        columns=[
            Column(t("text.drivers.driver")),
            Column(t("text.drivers.effect"), "signed", 1),
            Column(t("table.ci_low"), "number", 1),
            Column(t("table.ci_high"), "number", 1),
            Column(t("text.drivers.p"), "number", 4),
            Column(t("text.drivers.nps_with"), "number", 1),
            Column(t("text.drivers.nps_without"), "number", 1),
            Column(t("text.drivers.n_with"), "int"),
            Column(t("text.drivers.n_without"), "int"),
            Column(t("results.small.column")),
        ],
        rows=[
            [
                label,
                d["effect"],
                d["ci_low"],
                d["ci_high"],
                d["p_value"],
                d["nps_with"],
                d["nps_without"],
                d["n_with"],
                d["n_without"],
                t("results.small.yes") if d["small_sample"] else "",
            ]
            for label, d in zip(labels, items, strict=True)
        ],
        caption=t("text.drivers.none"),
    )
    rows = [
        Row(
            label=label,
            value=d["effect"],
            low=d["ci_low"],
            high=d["ci_high"],
            text=f"{formatting.signed(d['effect'], lang, 0)} "
            f"(n = {formatting.number(d['n_with'], lang)})",
            hollow=d["small_sample"],
        )
        for label, d in zip(labels, items, strict=True)
    ]
    description = t("text.drivers.none")
    if items:
        first = items[0]
        description = t("text.drivers.desc").format(
            driver=labels[0],
            effect=formatting.signed(first["effect"], lang, 0),
            low=formatting.number(first["ci_low"], lang, 0),
            high=formatting.number(first["ci_high"], lang, 0),
            n=formatting.number(first["n_with"], lang),
            min_n=found.min_n,
        )
    return interval_chart(table.id, table.title, description, rows, table)


def _driver_label(page: Page, found: TextOverview, driver: dict[str, object]) -> str:
    key = str(driver["key"])
    if driver["kind"] == "theme":
        return page.t("text.drivers.theme").format(name=found.labels.get(key, key))
    return page.t("text.drivers.touchpoint").format(name=key)


def examples_table(page: Page, found: TextOverview) -> Table:
    t = page.t
    return Table(
        id="examples",
        title=t("text.examples.title"),
        columns=[
            Column(t("text.theme")),
            Column(t("text.examples.text")),
            Column(t("results.comments.language")),
            Column(t("results.comments.sentiment")),
            Column(t("text.examples.source")),
            Column(t("text.examples.at"), "time"),
        ],
        rows=[
            [
                found.labels.get(theme, theme),
                e.text,
                e.language,
                _sentiment(page, e.sentiment),
                t(f"source.{e.source_kind}"),
                e.at,
            ]
            for theme, examples in found.examples.items()
            for e in examples
        ],
        caption=t("text.none"),
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"


def _sentiment(page: Page, sentiment: str) -> str:
    key = f"sentiment.{sentiment}"
    text = page.t(key)
    return sentiment if text == key else text
