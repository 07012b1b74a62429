"""The one DuckDB statement behind each figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxloop.analytics import events as store
from cxloop.analytics.feedback.spec import EVENT, FIELDS, NONE, SCALE, Period, Sides, Spec

# -- SQL ------------------------------------------------------------------------------------

_TRAITS_SCHEMA = pa.schema([("profile_id", pa.string()), ("value", pa.string())])
_LABELS_SCHEMA = pa.schema([("response_id", pa.string()), ("value", pa.string())])


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: dict[str, Any]
    merges: bool  # joins the merge map
    traits: bool  # joins the traits table
    labels: bool = False  # joins the labels table


def statement_for(spec: Spec, sides: Sides | None, mode: str) -> _Statement:
    """The latest version of each response, filtered, then counted per score (``histogram``,
    ``sides``) or reduced to its customers (``customers``). Each event's JSON is parsed
    once, for the properties the spec uses only."""
    low, high = SCALE[spec.metric]
    periods = _periods(sides)
    paths, columns = _extraction(spec)
    params: dict[str, Any] = {"event": EVENT, "low": low, "high": high, "paths": paths}
    pre, inner, post = _conditions(spec, periods, params)
    group, period = _keys(spec, sides, periods, mode, params)
    merges = spec.per_customer or spec.trait is not None or mode == "customers"
    # a response without an id stands alone; versions with both times equal (sent in one
    # request) are taken in no set order: ordering by message id too costs a tenth more
    latest = (
        "row_number() OVER (PARTITION BY survey_id, customer_id ORDER BY ts DESC, ra DESC) = 1"
        if spec.per_customer
        else "response_id IS NULL OR row_number() OVER "
        "(PARTITION BY response_id ORDER BY ts DESC, ra DESC) = 1"
    )
    customer = ", coalesce(m.into_id, src.profile_id) AS customer_id" if merges else ""
    join_merges = " LEFT JOIN merge_map AS m ON m.from_id = src.profile_id" if merges else ""
    join_traits = " LEFT JOIN traits AS t ON t.profile_id = v.customer_id" if spec.trait else ""
    if spec.labelled:
        join_traits = " LEFT JOIN labels AS x ON x.response_id = v.response_id"
    # only fixed fragments are joined into the text; every value goes as a parameter
    sql = (
        "WITH src AS (SELECT json_extract_string(properties, $paths) AS j, timestamp AS ts, "  # noqa: S608
        "received_at AS ra, profile_id FROM read_parquet($files, "
        f"union_by_name = true) WHERE {' AND '.join(pre)}), "
        f"r AS (SELECT {', '.join(columns)}, ts, ra{customer} "
        f"FROM src{join_merges} WHERE {inner}), "
        f"l AS (SELECT * FROM r QUALIFY {latest}), "
        "v AS (SELECT *, TRY_CAST(score AS DOUBLE) AS s FROM l), "
        f"scored AS (SELECT s, {group} AS g, {period} AS p, v.response_id"
        f"{', v.customer_id' if merges else ''} "
        f"FROM v{join_traits} WHERE {' AND '.join(post)}) "
    )
    if mode == "customers":
        sql += "SELECT DISTINCT customer_id FROM scored"
    elif mode == "responses":
        sql += "SELECT DISTINCT response_id FROM scored WHERE response_id IS NOT NULL"
    elif mode == "sides":
        sql += (
            "SELECT g, CAST(s AS INTEGER) AS score, count(*) AS n FROM scored "
            "WHERE g IS NOT NULL GROUP BY g, s"
        )
    else:
        keys = [k for k, on in (("g", group != "NULL"), ("p", period != "NULL")) if on]
        # every response is in one group and one period: the total is the sum of either
        sets = ", ".join([f"({k}, s)" for k in keys] or ["(s)"])
        flags = ", ".join(
            f"grouping({k}) AS no_{k}, {k}" if k in keys else f"1 AS no_{k}, NULL AS {k}"
            for k in ("g", "p")
        )
        sql += (
            f"SELECT {flags}, CAST(s AS INTEGER) AS score, count(*) AS n FROM scored "  # noqa: S608
            f"GROUP BY GROUPING SETS ({sets})"
        )
    return _Statement(sql, params, merges, spec.trait is not None, spec.labelled)


def _periods(sides: Sides | None) -> tuple[Period, Period] | None:
    if sides is not None and isinstance(sides.a, Period) and isinstance(sides.b, Period):
        return sides.a, sides.b
    return None


def _extraction(spec: Spec) -> tuple[list[str], list[str]]:
    """JSON paths to extract and the columns they become: the response id, the score, and
    the fields the filters and the breakdown use."""
    flt = spec.filters
    by_field = FIELDS.get(spec.by or "")
    score = f'$.answers."{spec.question_id}"' if spec.question_id else f"$.{spec.metric.value}"
    paths, columns = ["$.response_id", score], ["j[1] AS response_id", "j[2] AS score"]
    wanted = {
        "survey_id": bool(flt.survey_ids) or by_field == "survey_id" or spec.per_customer,
        "touchpoint": bool(flt.touchpoints) or by_field == "touchpoint",
        "channel": bool(flt.channels) or by_field == "channel",
        "language": bool(flt.languages) or by_field == "language",
        "stage": bool(flt.stages) or by_field == "stage",
        "is_complete": flt.complete_only,
    }
    for name in (n for n, on in wanted.items() if on):
        paths.append(f"$.{name}")
        columns.append(f"j[{len(paths)}] AS {name}")
    return paths, columns


def _conditions(
    spec: Spec, periods: tuple[Period, Period] | None, params: dict[str, Any]
) -> tuple[list[str], str, list[str]]:
    """Conditions before the JSON is read, before dedupe, and after it (on the latest
    version): a response counts, is dated and is filtered as its latest version."""
    flt = spec.filters
    pre = ["type = 'track'", "event = $event"]
    since = min(periods[0].start, periods[1].start) if periods else flt.since
    if since is not None:  # an older version never outranks one inside the window
        pre.append("timestamp >= $since")
        params["since"] = since
    inner = "TRUE"
    if flt.survey_ids:  # a response belongs to one survey
        inner = "list_contains($surveys, survey_id)"
        params["surveys"] = list(flt.survey_ids)
    post = ["s BETWEEN $low AND $high AND s = floor(s)"]
    if flt.until is not None and not periods:
        post.append("ts < $until")
        params["until"] = flt.until
    for name, values in (
        ("touchpoint", flt.touchpoints),
        ("channel", flt.channels),
        ("language", flt.languages),
        ("stage", flt.stages),
    ):
        if values:
            post.append(f"list_contains(${name}s, {name})")
            params[f"{name}s"] = list(values)
    if flt.complete_only:
        post.append("is_complete = 'true'")
    return pre, inner, post


def _keys(
    spec: Spec,
    sides: Sides | None,
    periods: tuple[Period, Period] | None,
    mode: str,
    params: dict[str, Any],
) -> tuple[str, str]:
    """The group (``by``, or side ``a``/``b`` of a comparison) and period expressions."""
    group = "NULL"
    if spec.trait is not None:
        group = f"coalesce(t.value, '{NONE}')"
    elif spec.labelled:
        group = f"coalesce(x.value, '{NONE}')"
    elif spec.by is not None:
        group = f"coalesce(nullif({FIELDS[spec.by]}, ''), '{NONE}')"
    if periods is not None:
        group = (
            "CASE WHEN ts >= $a_start AND ts < $a_end THEN 'a' "
            "WHEN ts >= $b_start AND ts < $b_end THEN 'b' END"
        )
        params |= {
            "a_start": periods[0].start,
            "a_end": periods[0].end,
            "b_start": periods[1].start,
            "b_end": periods[1].end,
        }
    elif sides is not None:
        group = f"CASE {group} WHEN $a THEN 'a' WHEN $b THEN 'b' END"
        params |= {"a": sides.a, "b": sides.b}
    period = "NULL"
    if spec.interval is not None and mode == "histogram":
        period = "CAST(date_trunc($unit, timezone($tz, ts)) AS DATE)"
        params |= {"unit": spec.interval.value, "tz": spec.tz}
    return group, period


def run_statement(
    files: Sequence[str | Path],
    merge_map: Mapping[str, str],
    traits: pa.Table | None,
    statement: _Statement,
    labels: pa.Table | None = None,
) -> list[dict[str, Any]]:
    if not files:
        return []
    con = store.connect().cursor()
    try:
        if statement.merges:
            con.register(
                "merge_map",
                pa.table(
                    {
                        "from_id": pa.array(list(merge_map.keys()), pa.string()),
                        "into_id": pa.array(list(merge_map.values()), pa.string()),
                    }
                ),
            )
        if statement.traits:
            table = _TRAITS_SCHEMA.empty_table() if traits is None else traits
            con.register("traits", table.select(["profile_id", "value"]).cast(_TRAITS_SCHEMA))
        if statement.labels:
            table = _LABELS_SCHEMA.empty_table() if labels is None else labels
            con.register("labels", table.select(["response_id", "value"]).cast(_LABELS_SCHEMA))
        params = statement.params | {"files": [str(f) for f in files]}
        result: list[dict[str, Any]] = (
            con.sql(statement.sql, params=params).to_arrow_table().to_pylist()
        )
        return result
    finally:
        con.close()
