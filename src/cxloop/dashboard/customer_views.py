"""What the customer pages show, as tables and charts: the search results and each part of
the customer 360."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from cxloop.web import charts, formatting
from cxloop.web.charts import Chart
from cxloop.web.page import Page
from cxloop.web.tables import Column, Table

SCORES = ("nps", "csat", "ces")


@dataclass
class Built:
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)


def identifier(view: dict[str, Any], kind: str) -> str | None:
    for identity in view["identities"]:
        if identity.kind == kind:
            value: str = identity.value
            return value
    return None


def display_name(view: dict[str, Any], t: Callable[[str], str]) -> str:
    """The customer's name, else an email, phone or user id, else a short id."""
    traits = view["traits"] or {}
    name = traits.get("name") or " ".join(
        str(traits[k]) for k in ("first_name", "last_name") if traits.get(k)
    )
    if name:
        return str(name)
    for kind in ("email", "phone", "user_id"):
        value = identifier(view, kind)
        if value:
            return value
    return t("customers.anonymous").format(id=str(view["id"])[:8])


def search_table(page: Page, views: Sequence[dict[str, Any]]) -> Table:
    t = page.t
    return Table(
        id="customers",
        title=t("customers.results"),
        columns=[
            Column(t("customers.column.name")),
            Column(t("customers.column.email")),
            Column(t("customers.column.phone")),
            Column(t("customers.column.user_id")),
            Column(t("customers.column.last_seen"), "time"),
            Column(t("customers.column.events"), "int"),
            Column(t("customers.column.channels")),
        ],
        rows=[
            [
                display_name(v, t),
                identifier(v, "email"),
                identifier(v, "phone"),
                identifier(v, "user_id"),
                v["last_seen_at"],
                v["event_count"],
                ", ".join(sorted(v["channels"] or {})),
            ]
            for v in views
        ],
        caption=t("customers.none"),
        links=[f"/app/customers/{v['id']}" for v in views],
    )


def detail(
    page: Page,
    view: dict[str, Any],
    events: Sequence[dict[str, Any]],
    answers: Sequence[dict[str, Any]],
) -> Built:
    """The tables and charts of a customer 360."""
    t, fmt = page.t, page.fmt
    built = Built()
    built.facts = [
        (t("customer.first_seen"), fmt.moment(view["first_seen_at"])),
        (t("customer.last_seen"), fmt.moment(view["last_seen_at"])),
        (t("customer.events"), fmt.number(view["event_count"])),
        (t("customer.channels"), fmt.number(len(view["channels"] or {}))),
        (t("customer.merges"), fmt.number(len(view["merges"]))),
    ]
    built.charts.append(channel_chart(page, view["channels"] or {}))
    built.tables += [
        traits_table(page, view),
        identities_table(page, view),
        answers_table(page, answers),
        texts_table(page, view),
        timeline_table(page, events),
    ]
    return built


def channel_chart(page: Page, channels: dict[str, Any]) -> Chart:
    t, lang = page.t, page.lang
    ordered = sorted(channels.items(), key=lambda item: (-int(item[1]), item[0]))
    table = Table(
        id="channels",
        title=t("customer.channels.title"),
        columns=[Column(t("customer.column.channel")), Column(t("customer.column.events"), "int")],
        rows=[[name, int(count)] for name, count in ordered],
        caption=t("chart.no_data"),
    )
    description = (
        t("customer.channels.desc").format(
            channels=len(ordered),
            top=ordered[0][0],
            n=formatting.number(int(ordered[0][1]), lang),
        )
        if ordered
        else t("chart.no_data")
    )
    return charts.bar_chart(
        "channels",
        table.title,
        description,
        [name for name, _ in ordered],
        [float(count) for _, count in ordered],
        table,
        colour=charts.BLUE,
        value_labels=[formatting.number(int(count), lang) for _, count in ordered],
    )


def traits_table(page: Page, view: dict[str, Any]) -> Table:
    t = page.t
    times = view["trait_times"] or {}
    return Table(
        id="traits",
        title=t("customer.traits"),
        columns=[
            Column(t("customer.column.trait")),
            Column(t("customer.column.value")),
            Column(t("customer.column.set_at"), "time"),
        ],
        rows=[
            [key, _plain(value), _when(times.get(key))]
            for key, value in sorted((view["traits"] or {}).items())
        ],
        caption=t("table.empty"),
    )


def identities_table(page: Page, view: dict[str, Any]) -> Table:
    t = page.t
    return Table(
        id="identities",
        title=t("customer.identities"),
        columns=[
            Column(t("customer.column.kind")),
            Column(t("customer.column.value")),
            Column(t("customer.column.first_seen"), "time"),
        ],
        rows=[[i.kind, i.value, i.first_seen_at] for i in view["identities"]],
        caption=t("table.empty"),
    )


def answers_table(page: Page, answers: Sequence[dict[str, Any]]) -> Table:
    t = page.t
    rows = []
    for event in answers:
        props = event["properties"] or {}
        rows.append(
            [
                event["timestamp"],
                props.get("survey_name") or props.get("survey_id"),
                *(_score(props.get(name)) for name in SCORES),
                props.get("touchpoint"),
                _comment(props.get("answers")),
            ]
        )
    return Table(
        id="survey-answers",
        title=t("customer.answers"),
        columns=[
            Column(t("customer.column.time"), "time"),
            Column(t("customer.column.survey")),
            Column(t("metric.nps"), "int"),
            Column(t("metric.csat"), "int"),
            Column(t("metric.ces"), "int"),
            Column(t("customer.column.touchpoint")),
            Column(t("customer.column.comment")),
        ],
        rows=rows,
        caption=t("customer.answers.none"),
    )


def texts_table(page: Page, view: dict[str, Any]) -> Table:
    t = page.t
    return Table(
        id="text-analyses",
        title=t("customer.texts"),
        columns=[
            Column(t("customer.column.time"), "time"),
            Column(t("customer.column.source")),
            Column(t("customer.column.language")),
            Column(t("customer.column.sentiment")),
            Column(t("customer.column.confidence"), "share", 0),
            Column(t("customer.column.themes")),
        ],
        rows=[
            [
                a.analysed_at,
                t(f"source.{a.source_kind}"),
                a.language,
                t(f"sentiment.{a.sentiment}"),
                a.score,
                ", ".join(a.themes or ()),
            ]
            for a in view["text_analyses"]
        ],
        caption=t("customer.texts.none"),
    )


def timeline_table(page: Page, events: Sequence[dict[str, Any]]) -> Table:
    t = page.t
    return Table(
        id="timeline",
        title=t("customer.timeline"),
        columns=[
            Column(t("customer.column.time"), "time"),
            Column(t("customer.column.channel")),
            Column(t("customer.column.type")),
            Column(t("customer.column.event")),
            Column(t("customer.column.details")),
        ],
        rows=[
            [
                e["timestamp"],
                e["channel"],
                e["type"],
                e["event"] or e["name"],
                summary(e["properties"] or e["traits"]),
            ]
            for e in events
        ],
        caption=t("customer.timeline.none"),
    )


def summary(values: dict[str, Any] | None) -> str:
    """A few properties of an event in one line."""
    if not values:
        return ""
    parts = []
    for key, value in values.items():
        if isinstance(value, dict | list) or value in (None, ""):
            continue
        parts.append(f"{key}: {value}")
        if len(parts) == 4:
            break
    return ", ".join(parts)


def _score(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _comment(answers: Any) -> str | None:
    """The longest free-text answer of a response."""
    if not isinstance(answers, dict):
        return None
    texts = [v for v in answers.values() if isinstance(v, str) and len(v.split()) > 1]
    return max(texts, key=len) if texts else None


def _when(value: Any) -> datetime | None:
    """A trait's time as stored (ISO text), as a time; None when it is not one."""
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()
