"""Customers picked by what they did: events of the event store, read with DuckDB over the
files the manifest names, and the property filters of triggers and audiences."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from cxloop.analytics import events as store
from cxloop.config import Settings
from cxloop.eventstore import service as eventstore
from cxloop.profiles import service as profiles

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "exists")

_SQL = (
    "SELECT message_id, customer_id, event, timestamp, received_at, properties FROM events "
    "WHERE type = 'track' AND list_contains(?, event) AND timestamp >= ? AND timestamp < ? "
    "ORDER BY timestamp, message_id"
)


def find_events(
    session: Session,
    workspace_id: uuid.UUID,
    settings: Settings,
    *,
    names: Sequence[str],
    since: datetime,
    until: datetime,
    files: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Track events called one of ``names`` that happened in ``[since, until)``, oldest
    first, with ``customer_id`` mapped through merges and ``properties`` parsed."""
    if files is None:
        files = eventstore.current_files(
            session, workspace_id, eventstore.events_root(settings), since=since, until=until
        )
    if not files or not names:
        return []
    rows = store.query(
        files, profiles.merge_map(session, workspace_id), _SQL, [list(names), since, until]
    )
    for row in rows:
        row["properties"] = _parse(row.get("properties"))
    return rows


def matches(where: Mapping[str, Any], properties: Mapping[str, Any]) -> bool:
    """Do ``properties`` pass every filter? A filter is a value (equality) or
    ``{"op": value}`` with op one of eq, ne, lt, lte, gt, gte, in, exists."""
    for name, rule in where.items():
        value = properties.get(name)
        conditions = rule if isinstance(rule, Mapping) else {"eq": rule}
        if not all(_holds(op, value, wanted) for op, wanted in conditions.items()):
            return False
    return True


def check_filters(where: Mapping[str, Any]) -> list[tuple[list[str | int], str]]:
    """Problems of a filter set, each with its path under ``where``."""
    problems: list[tuple[list[str | int], str]] = []
    for name, rule in where.items():
        if not isinstance(rule, Mapping):
            if isinstance(rule, list | dict):
                problems.append((["where", name], "a value, or {operator: value}"))
            continue
        for op, wanted in rule.items():
            if op not in OPERATORS:
                problems.append((["where", name, op], f"one of {', '.join(OPERATORS)}"))
            elif op == "in" and not isinstance(wanted, list):
                problems.append((["where", name, op], "a list of values"))
    return problems


def _holds(op: str, value: Any, wanted: Any) -> bool:
    if op == "exists":
        return (value is not None) == bool(wanted)
    if op == "eq":
        return bool(value == wanted)
    if op == "ne":
        return bool(value != wanted)
    if op == "in":
        return isinstance(wanted, list) and value in wanted
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    try:
        if op == "lt":
            return bool(value < wanted)
        if op == "lte":
            return bool(value <= wanted)
        if op == "gt":
            return bool(value > wanted)
        if op == "gte":
            return bool(value >= wanted)
    except TypeError:
        return False
    return False


def _parse(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
