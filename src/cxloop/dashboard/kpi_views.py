"""KPIs as the dashboard shows them: tiles with the change against the period before, the
pinned metric, a table for CSV, and a chart of each KPI's series."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cxloop.analytics.kpis import Interval as KpiInterval
from cxloop.core.i18n import translate
from cxloop.dashboard.periods import Period
from cxloop.kpis import service as kpi_service
from cxloop.web import charts, formatting
from cxloop.web.charts import Chart, Series
from cxloop.web.page import Page
from cxloop.web.tables import Column, Table


@dataclass(frozen=True)
class Tile:
    id: str
    pack: str
    name: str
    definition: str
    value: str
    previous: str
    change: str
    trend: str  # "better", "worse" or "same"
    arrow: str  # up, down or none: the direction of the change
    is_omtm: bool
    sparkline: str
    raw: dict[str, Any]


def name_of(kpi: dict[str, Any], lang: str) -> str:
    names = kpi["names"]
    return str(names[lang] if isinstance(names, dict) else getattr(names, lang))


def definition_of(kpi: dict[str, Any], lang: str) -> str:
    """The definition in ``lang``: the catalogue's ``kpi.def.<pack>.<id>`` where a pack
    defines the KPI its own way, else ``kpi.def.<id>``; the KPI's English text otherwise."""
    for key in (f"kpi.def.{kpi['pack']}.{kpi['id']}", f"kpi.def.{kpi['id']}"):
        text = translate(key, lang)
        if text != key:
            return text
    return str(kpi["definition"])


def value_text(value: float | None, unit: str, currency: str, lang: str) -> str:
    """A KPI's value in its unit: a share as a percentage, money with its currency, a time
    in days, hours and minutes."""
    if value is None:
        return formatting.DASH
    if unit == "share":
        return formatting.percent(value, lang, 1)
    if unit == "count":
        return formatting.number(value, lang, 0)
    if unit == "money":
        decimals = 0 if currency in ("VND", "THB", "JPY", "KRW", "IDR") or abs(value) >= 1000 else 2
        return f"{formatting.number(value, lang, decimals)} {currency}"
    if unit == "seconds":
        return duration(value, lang)
    return formatting.number(value, lang, _decimals(value))


def _decimals(value: float) -> int:
    """Two decimals, or two significant digits below 0.1: a referral rate of 0.0011 per
    customer reads 0.0011, not 0.00."""
    if value == 0 or abs(value) >= 0.1:
        return 2
    return min(6, 1 - math.floor(math.log10(abs(value))))


def duration(seconds: float, lang: str) -> str:
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} {translate('unit.days', lang)} {hours} {translate('unit.hours', lang)}"
    if hours:
        return (
            f"{hours} {translate('unit.hours', lang)} {minutes} {translate('unit.minutes', lang)}"
        )
    return f"{minutes} {translate('unit.minutes', lang)}"


def arrow_of(kpi: dict[str, Any]) -> str:
    """Which way the figure went: the arrow shows the direction, the colour and the word
    whether that is better (cart abandonment down is better, and its arrow points down)."""
    change = kpi.get("change")
    if change is None or abs(change) < 1e-9:
        return ""
    return "\u25b2" if change > 0 else "\u25bc"


def trend_of(kpi: dict[str, Any]) -> str:
    change = kpi.get("change")
    if change is None or abs(change) < 1e-9:
        return "same"
    return "better" if (change > 0) == bool(kpi["higher_is_better"]) else "worse"


def tile(page: Page, kpi: dict[str, Any], currency: str) -> Tile:
    lang = page.lang
    name = name_of(kpi, lang)
    series = [p["value"] for p in kpi["series"]]
    return Tile(
        id=kpi["id"],
        pack=kpi["pack"],
        name=name,
        definition=definition_of(kpi, lang),
        value=value_text(kpi["value"], kpi["unit"], currency, lang),
        previous=value_text(kpi["previous"], kpi["unit"], currency, lang),
        change=formatting.signed(
            None if kpi["change"] is None else kpi["change"] * 100, lang, 1, " %"
        ),
        trend=trend_of(kpi),
        arrow=arrow_of(kpi),
        is_omtm=bool(kpi["is_omtm"]),
        sparkline=charts.sparkline(series, page.t("kpis.sparkline").format(kpi=name)),
        raw=kpi,
    )


def tiles(page: Page, report: dict[str, Any]) -> list[Tile]:
    return [tile(page, kpi, report["currency"]) for kpi in report["kpis"]]


def pinned(
    session: Session,
    root: Path,
    workspace_id: uuid.UUID,
    report: dict[str, Any],
    period: Period,
    keep: kpi_service.Keep | None = None,
) -> dict[str, Any] | None:
    """The one metric that matters, from ``report`` when it is of its pack, else measured
    on its own; None when none is pinned."""
    omtm = report["omtm"]
    if omtm is None:
        return None
    for kpi in report["kpis"]:
        if kpi["is_omtm"]:
            return {"kpi": kpi, "currency": report["currency"]}
    other = kpi_service.report(
        session,
        root,
        workspace_id,
        pack=omtm.pack,
        start=period.start,
        end=period.end,
        interval=KpiInterval.WEEK,
        only=[omtm.kpi],
        keep=keep,
    )
    if not other["kpis"]:
        return None
    return {"kpi": {**other["kpis"][0], "is_omtm": True}, "currency": other["currency"]}


def table(page: Page, report: dict[str, Any], table_id: str) -> Table:
    """Every KPI of the report with raw values, for the CSV download."""
    t = page.t
    return Table(
        id=table_id,
        title=t("kpis.table.title"),
        columns=[
            Column(t("kpis.column.kpi")),
            Column(t("kpis.column.unit")),
            Column(t("kpis.column.value"), "number", 4),
            Column(t("kpis.column.previous"), "number", 4),
            Column(t("kpis.column.change"), "share", 1),
            Column(t("kpis.column.definition")),
        ],
        rows=[
            [
                name_of(k, page.lang),
                report["currency"] if k["unit"] == "money" else t(f"unit.{k['unit']}"),
                k["value"],
                k["previous"],
                k["change"],
                definition_of(k, page.lang),
            ]
            for k in report["kpis"]
        ],
    )


def series_chart(page: Page, kpi: dict[str, Any], currency: str) -> Chart:
    """One KPI over the period, per week (or the report's interval)."""
    t, lang = page.t, page.lang
    name = name_of(kpi, lang)
    points = kpi["series"]
    scale = 100.0 if kpi["unit"] == "share" else 1.0
    unit = "%" if kpi["unit"] == "share" else (currency if kpi["unit"] == "money" else "")
    values: list[float | None] = [
        None if p["value"] is None else p["value"] * scale for p in points
    ]
    table = Table(
        id=f"kpi-{kpi['id']}",
        title=name,
        columns=[Column(t("table.period"), "date"), Column(name, "number", 2, unit)],
        rows=[[p["start"], v] for p, v in zip(points, values, strict=True)],
        caption=t("chart.no_data"),
    )
    known = [p for p in points if p["value"] is not None]
    description = (
        t("kpis.series.desc").format(
            kpi=name,
            periods=len(points),
            value=value_text(known[-1]["value"], kpi["unit"], currency, lang),
            day=formatting.day(known[-1]["start"], lang),
        )
        if known
        else t("chart.no_data")
    )
    return charts.line_chart(
        table.id,
        name,
        description,
        [formatting.short_day(p["start"], lang) for p in points],
        [Series(name, values, colour=charts.BLUE)],
        table,
    )
