"""What cxloop's funnel, retention cohorts and e-commerce pack are measured against.

For each figure: a hand-written DuckDB query, as an analyst who knows DuckDB would write it
(only the needed columns, DuckDB's own ``ASOF JOIN`` and ``date_trunc``, one JSON parse per
needed property), and a pandas implementation (Parquet read into pandas, then filters,
``merge_asof``, group-bys). Both read the same files and apply the same merge map, and
answer in one plain shape (:data:`Answer`) that :func:`differences` compares with cxloop's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa

from cxloop.analytics import events as store
from cxloop.analytics.portable import PASSIVE_EVENTS

Answer = dict[str, Any]
DAY_US = 86_400_000_000
ACTIVITY = ("track", "page", "screen")
# an action is a track, page or screen call, but no email delivered or push received
PASSIVE = ", ".join(f"'{e}'" for e in PASSIVE_EVENTS)
STEPS = ("Product Viewed", "Product Added", "Order Completed")
KPI_EVENTS = (
    "Order Completed",
    "Checkout Started",
    "Product List Viewed",
    "Product Clicked",
    "Signed Up",
    "Email Delivered",
    "Email Link Clicked",
)


@dataclass(frozen=True)
class Plan:
    """The three questions, in days of the data set."""

    funnel_from: date
    funnel_to: date
    cohorts_from: date
    cohorts_to: date
    kpi_from: date
    kpi_to: date
    window_days: int = 7
    periods: int = 12
    sample: int = 20

    @classmethod
    def of(cls, start: date, end: date) -> Plan:
        kpi_to = end - timedelta(days=35)
        return cls(
            funnel_from=start,
            funnel_to=end,
            cohorts_from=start,
            cohorts_to=start + timedelta(weeks=12, days=-1),
            kpi_from=kpi_to - timedelta(days=30),
            kpi_to=kpi_to,
        )

    @property
    def kpi_length(self) -> timedelta:
        return self.kpi_to - self.kpi_from + timedelta(days=1)

    @property
    def observed_until(self) -> date:
        """The first day retention does not read (the cohorts' last week + periods + 1)."""
        last = self.cohorts_to - timedelta(days=self.cohorts_to.weekday())
        return last + timedelta(weeks=self.periods + 1)

    def weeks(self) -> list[tuple[date, date]]:
        """The KPI series: each week of the period, clipped to it."""
        stop = self.kpi_to + timedelta(days=1)
        monday = self.kpi_from - timedelta(days=self.kpi_from.weekday())
        out = []
        while monday < stop:
            out.append((max(monday, self.kpi_from), min(monday + timedelta(weeks=1), stop)))
            monday += timedelta(weeks=1)
        return out


def moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def us(day: date) -> int:
    return int(moment(day).timestamp()) * 1_000_000


def _week(index: int) -> date:
    """The Monday of a week number (weeks since the Monday before 1970-01-01)."""
    return date(1970, 1, 1) + timedelta(weeks=int(index), days=-3)


def daynum(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _merge_table(merge_map: Mapping[str, str]) -> pa.Table:
    return pa.table(
        {
            "from_id": pa.array(list(merge_map), pa.string()),
            "into_id": pa.array(list(merge_map.values()), pa.string()),
        }
    )


def _duck(sql: str, glob: str, merge_map: Mapping[str, str]) -> list[tuple[Any, ...]]:
    """Run on cxloop's DuckDB connection settings (memory limit, UTC) over the files."""
    con = store.connect().cursor()
    try:
        con.register("merge_map", _merge_table(merge_map))
        return con.sql(sql.replace("$FILES", f"read_parquet('{glob}')")).fetchall()
    finally:
        con.close()


# -- the funnel -------------------------------------------------------------------------------

FUNNEL = """
WITH e AS MATERIALIZED (
    SELECT coalesce(m.into_id, p.profile_id) AS c, epoch_us(p.timestamp) AS ts, p.event
    FROM $FILES AS p LEFT JOIN merge_map AS m ON m.from_id = p.profile_id
    WHERE p.type = 'track' AND p.event IN ('{0}', '{1}', '{2}')
      AND p.timestamp >= to_timestamp({low} / 1e6) AND p.timestamp < to_timestamp({last} / 1e6)
),
s1 AS MATERIALIZED (SELECT c, ts FROM e WHERE event = '{0}' AND ts < {high}),
-- the latest start before each step-2 event; a later start leaves the most room
s2 AS MATERIALIZED (
    SELECT e.c, e.ts, s1.ts AS st FROM e ASOF JOIN s1 ON e.c = s1.c AND e.ts > s1.ts
    WHERE e.event = '{1}' AND e.ts - s1.ts <= {window}
),
s3 AS (
    SELECT e.c, e.ts, s2.st FROM e ASOF JOIN s2 ON e.c = s2.c AND e.ts > s2.ts
    WHERE e.event = '{2}' AND e.ts - s2.st <= {window}
),
reached AS MATERIALIZED (
    SELECT c, 1 AS k, NULL::BIGINT AS t FROM s1 GROUP BY c
    UNION ALL SELECT c, 2, arg_min(ts - st, ts) FROM s2 GROUP BY c
    UNION ALL SELECT c, 3, arg_min(ts - st, ts) FROM s3 GROUP BY c
),
top AS (SELECT c, max(k) AS k FROM reached GROUP BY c)
SELECT 'n' AS kind, k, count(*) AS n, quantile_cont(t, 0.5) AS med, quantile_cont(t, 0.9) AS p90,
       NULL AS c
FROM reached GROUP BY k
UNION ALL
SELECT 'd', k, NULL, NULL, NULL, c FROM (
    SELECT c, k, row_number() OVER (PARTITION BY k ORDER BY c) AS rn FROM top WHERE k < 3
) WHERE rn <= {sample}
"""


def _funnel_bounds(plan: Plan) -> dict[str, int]:
    low, high = us(plan.funnel_from), us(plan.funnel_to + timedelta(days=1))
    window = plan.window_days * DAY_US
    return {"low": low, "high": high, "window": window, "last": high + window}


def funnel_answer(
    counts: Sequence[int], times: Mapping[int, tuple[float, float]], dropped: Mapping[int, list]
) -> Answer:
    def seconds(value: float | None) -> float | None:
        return None if value is None or math.isnan(value) else round(value / 1e6, 6)

    return {
        "customers": list(counts),
        "median": [seconds(times.get(k, (None, None))[0]) for k in (1, 2, 3)],
        "p90": [seconds(times.get(k, (None, None))[1]) for k in (1, 2, 3)],
        "dropped": [[], sorted(dropped.get(1, [])), sorted(dropped.get(2, []))],
    }


def funnel_duckdb(glob: str, merge_map: Mapping[str, str], plan: Plan) -> Answer:
    sql = FUNNEL.format(*STEPS, sample=plan.sample, **_funnel_bounds(plan))
    counts, times, dropped = {1: 0, 2: 0, 3: 0}, {}, {}
    for kind, k, n, med, p90, c in _duck(sql, glob, merge_map):
        if kind == "n":
            counts[k] = n
            if k > 1:
                times[k] = (med, p90)
        else:
            dropped.setdefault(k, []).append(c)
    return funnel_answer([counts[1], counts[2], counts[3]], times, dropped)


def _read(paths: Sequence[str], columns: list[str], filters: list[Any]) -> pd.DataFrame:
    return pd.read_parquet(list(paths), columns=columns, filters=filters)


def _customers(frame: pd.DataFrame, merge_map: Mapping[str, str]) -> pd.Series:
    mapping = pd.Series(merge_map, dtype="str")
    return frame["profile_id"].map(mapping).fillna(frame["profile_id"])


def _micros(frame: pd.DataFrame) -> pd.Series:
    return (frame["timestamp"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)


def funnel_pandas(paths: Sequence[str], merge_map: Mapping[str, str], plan: Plan) -> Answer:
    b = _funnel_bounds(plan)
    frame = _read(
        paths,
        ["profile_id", "timestamp", "type", "event"],
        [
            ("type", "==", "track"),
            ("event", "in", list(STEPS)),
            ("timestamp", ">=", pd.Timestamp(b["low"], unit="us", tz="UTC")),
            ("timestamp", "<", pd.Timestamp(b["last"], unit="us", tz="UTC")),
        ],
    )
    e = pd.DataFrame({"c": _customers(frame, merge_map), "ts": _micros(frame), "ev": frame.event})
    e = e.sort_values("ts", kind="stable")
    chain = e[(e.ev == STEPS[0]) & (e.ts < b["high"])][["c", "ts"]].rename(columns={"ts": "st"})
    right = chain.assign(at=chain.st)
    reached = [chain]
    for step in STEPS[1:]:
        left = e[e.ev == step][["c", "ts"]]
        joined = pd.merge_asof(
            left, right, left_on="ts", right_on="at", by="c", allow_exact_matches=False
        )
        joined = joined[joined.st.notna() & (joined.ts - joined.st <= b["window"])]
        joined = joined.astype({"st": "int64"})
        reached.append(joined)
        right = joined[["c", "st"]].assign(at=joined.ts)
    counts = [r.c.nunique() for r in reached]
    times = {}
    for k, r in enumerate(reached[1:], start=2):
        first = r.sort_values("ts", kind="stable").groupby("c").first()
        t = first.ts - first.st
        times[k] = (t.quantile(0.5), t.quantile(0.9)) if len(t) else (None, None)
    top = pd.concat([r[["c"]].assign(k=k) for k, r in enumerate(reached, 1)]).groupby("c").k.max()
    dropped = {k: top[top == k].index.sort_values()[: plan.sample].tolist() for k in (1, 2)}
    return funnel_answer(counts, times, dropped)


# -- retention cohorts ------------------------------------------------------------------------

RETENTION = """
WITH a AS (
    SELECT coalesce(m.into_id, p.profile_id) AS c,
           epoch_us(p.timestamp) AS t, (epoch_us(p.timestamp) // {day} + 3) // 7 AS w
    FROM $FILES AS p LEFT JOIN merge_map AS m ON m.from_id = p.profile_id
    WHERE p.type IN ('track', 'page', 'screen') AND p.timestamp < '{stop}'::TIMESTAMPTZ
      AND (p.event IS NULL OR p.event NOT IN ({passive}))
),
cohort AS (
    SELECT c, arg_min(w, t) AS w FROM a GROUP BY c
    HAVING min(t) >= {low} AND min(t) < {high}
),
back AS (SELECT DISTINCT a.c, h.w, a.w - h.w AS k FROM a JOIN cohort AS h ON a.c = h.c)
SELECT w, -1 AS k, count(*) AS n FROM cohort GROUP BY w
UNION ALL SELECT w, k, count(*) FROM back WHERE k <= {periods} GROUP BY w, k
"""


def retention_answer(rows: Sequence[tuple[date, int, int]]) -> Answer:
    sizes = {d.isoformat(): n for d, k, n in rows if k == -1}
    cells = {f"{d.isoformat()}+{k}": n for d, k, n in rows if k >= 0 and n}
    return {"sizes": sizes, "cells": cells}


def retention_duckdb(glob: str, merge_map: Mapping[str, str], plan: Plan) -> Answer:
    sql = RETENTION.format(
        passive=PASSIVE,
        day=DAY_US,
        stop=moment(plan.observed_until),
        low=us(plan.cohorts_from),
        high=us(plan.cohorts_to + timedelta(days=1)),
        periods=plan.periods,
    )
    return retention_answer([(_week(w), k, n) for w, k, n in _duck(sql, glob, merge_map)])


def retention_pandas(paths: Sequence[str], merge_map: Mapping[str, str], plan: Plan) -> Answer:
    stop = pd.Timestamp(moment(plan.observed_until))
    frame = _read(
        paths,
        ["profile_id", "timestamp", "type"],
        [  # page and screen calls, or track events but the passive ones
            [("type", "in", ["page", "screen"]), ("timestamp", "<", stop)],
            [
                ("type", "==", "track"),
                ("event", "not in", PASSIVE_EVENTS),
                ("timestamp", "<", stop),
            ],
        ],
    )
    day = _micros(frame) // DAY_US
    a = pd.DataFrame({"c": _customers(frame, merge_map), "week": (day + 3) // 7, "day": day})
    first = a.groupby("c").day.min()
    low, high = daynum(plan.cohorts_from), daynum(plan.cohorts_to) + 1
    cohort = (first[(first >= low) & (first < high)] + 3) // 7
    a = a[a.c.isin(cohort.index)]
    a = a.assign(cw=a.c.map(cohort))
    a = a.assign(k=a.week - a.cw)
    back = a[a.k <= plan.periods][["c", "cw", "k"]].drop_duplicates()
    rows = [(_week(w), -1, int(n)) for w, n in cohort.value_counts().items()]
    rows += [(_week(w), int(k), int(n)) for (w, k), n in back.groupby(["cw", "k"]).size().items()]
    return retention_answer(rows)


# -- the e-commerce pack ------------------------------------------------------------------------


def kpis_answer(figures: Mapping[str, Mapping[str, float]], plan: Plan) -> Answer:
    """Each KPI of the pack from the measures of a group, by its definition."""

    def ratio(num: float | None, den: float | None) -> float | None:
        return None if num is None or not den else num / den

    def values(f: Mapping[str, float]) -> dict[str, float | None]:
        abandon = ratio(f["both"], f["checkouts"])
        return {
            "conversion_rate": ratio(f["buyers"], f["active"]),
            "average_cart_size": ratio(f["revenue"], f["orders"]),
            "purchase_frequency": ratio(f["orders"], f["buyers"]),
            "cart_abandonment": None if abandon is None else 1 - abandon,
            "cac": ratio(f["spend"], f["new"]),
            "revenue_per_customer": ratio(f["revenue"], f["buyers"]),
            "recommendation_acceptance": ratio(f["rec_clicked"], f["rec_shown"]),
            "virality": ratio(f["referred"], f["active"]),
            "email_click_through": ratio(f["email_clicked"], f["email_delivered"]),
        }

    cur, prev = values(figures["cur"]), values(figures["prev"])
    series = [values(figures[f"w{i}"]) for i in range(len(plan.weeks()))]
    return {
        kpi: {"value": cur[kpi], "previous": prev[kpi], "series": [s[kpi] for s in series]}
        for kpi in cur
    }


def _groups(plan: Plan) -> list[tuple[str, date, date]]:
    stop = plan.kpi_to + timedelta(days=1)
    return [
        ("cur", plan.kpi_from, stop),
        ("prev", plan.kpi_from - plan.kpi_length, plan.kpi_from),
        *[(f"w{i}", a, b) for i, (a, b) in enumerate(plan.weeks())],
    ]


def _with_spend(
    figures: dict[str, dict[str, float]], spend: Mapping[date, float], plan: Plan
) -> None:
    for key, a, b in _groups(plan):
        figures[key]["spend"] = float(sum(v for d, v in spend.items() if a <= d < b))


KPI_SIMPLE = """
WITH x AS (
    SELECT coalesce(m.into_id, p.profile_id) AS c,
           CASE WHEN p.timestamp >= '{cur}'::TIMESTAMPTZ THEN 'cur' ELSE 'prev' END AS g,
           CASE WHEN p.timestamp >= '{cur}'::TIMESTAMPTZ
                THEN greatest(date_trunc('week', p.timestamp), '{cur}'::TIMESTAMPTZ) END AS w,
           p.type IN ('track', 'page', 'screen')
               AND (p.event IS NULL OR p.event NOT IN ({passive})) AS act,
           p.event = 'Order Completed' AS buy,
           CASE WHEN p.event = 'Order Completed' THEN coalesce(
               TRY_CAST(json_extract_string(p.properties, '$.revenue') AS DOUBLE),
               TRY_CAST(json_extract_string(p.properties, '$.total') AS DOUBLE),
               TRY_CAST(json_extract_string(p.properties, '$.value') AS DOUBLE)) END AS rev,
           p.event = 'Checkout Started' AS chk,
           CASE WHEN p.event IN ('Product List Viewed', 'Product Clicked')
                THEN json_extract_string(p.properties, '$.list_id') = 'recommended' END AS rec,
           p.event = 'Signed Up'
               AND json_extract_string(p.properties, '$.referrer') IS NOT NULL AS referred,
           p.event = 'Email Delivered' AS mail, p.event = 'Email Link Clicked' AS click,
           p.event
    FROM $FILES AS p LEFT JOIN merge_map AS m ON m.from_id = p.profile_id
    WHERE p.timestamp >= '{low}'::TIMESTAMPTZ AND p.timestamp < '{high}'::TIMESTAMPTZ
),
per AS MATERIALIZED (
    SELECT g, w, c, bool_or(act) AS a, count_if(buy) AS nb, sum(rev) AS rev, count_if(chk) AS nc,
           count_if(rec AND event = 'Product List Viewed') AS shown,
           count_if(rec AND event = 'Product Clicked') AS clicked,
           count_if(referred) AS nr, bool_or(mail) AS mail, bool_or(click) AS click
    FROM x GROUP BY g, w, c
),
per_g AS (
    SELECT g, c, bool_or(a) AS a, sum(nb) AS nb, sum(rev) AS rev, sum(nc) AS nc,
           sum(shown) AS shown, sum(clicked) AS clicked, sum(nr) AS nr, bool_or(mail) AS mail,
           bool_or(click) AS click
    FROM per GROUP BY g, c
),
both_levels AS (
    SELECT g, NULL::TIMESTAMPTZ AS w, a, nb, rev, nc, shown, clicked, nr, mail, click FROM per_g
    UNION ALL
    SELECT 'week', w, a, nb, rev, nc, shown, clicked, nr, mail, click FROM per WHERE g = 'cur'
)
SELECT g, w, count_if(a), count_if(nb > 0), sum(nb), coalesce(sum(rev), 0), count_if(nc > 0),
       count_if(nc > 0 AND nb > 0), sum(shown), sum(clicked), sum(nr), count_if(mail),
       count_if(click)
FROM both_levels GROUP BY g, w
"""
SIMPLE_NAMES = [
    *("active", "buyers", "orders", "revenue", "checkouts", "both", "rec_shown"),
    *("rec_clicked", "referred", "email_delivered", "email_clicked"),
]

KPI_FIRSTS = """
SELECT {counts} FROM (
    SELECT coalesce(m.into_id, p.profile_id) AS c, min(p.timestamp) AS f
    FROM $FILES AS p LEFT JOIN merge_map AS m ON m.from_id = p.profile_id
    WHERE p.type = 'track' AND p.event = 'Order Completed'
      AND p.timestamp < '{high}'::TIMESTAMPTZ
    GROUP BY ALL
)
"""


def kpis_duckdb(
    glob: str, merge_map: Mapping[str, str], plan: Plan, spend: Mapping[date, float]
) -> Answer:
    groups = _groups(plan)
    stop = plan.kpi_to + timedelta(days=1)
    rows = _duck(
        KPI_SIMPLE.format(
            passive=PASSIVE, cur=moment(plan.kpi_from), low=moment(groups[1][1]), high=moment(stop)
        ),
        glob,
        merge_map,
    )
    figures: dict[str, dict[str, float]] = {k: dict.fromkeys(SIMPLE_NAMES, 0.0) for k, *_ in groups}
    week_of = {moment(a): f"w{i}" for i, (a, _) in enumerate(plan.weeks())}
    for g, w, *values in rows:
        figures[g if w is None else week_of[w]] = dict(zip(SIMPLE_NAMES, values, strict=True))
    counts = ", ".join(
        f"count_if(f >= '{moment(a)}'::TIMESTAMPTZ AND f < '{moment(b)}'::TIMESTAMPTZ)"
        for _, a, b in groups
    )
    news = _duck(KPI_FIRSTS.format(counts=counts, high=moment(stop)), glob, merge_map)[0]
    for (key, _, _), new in zip(groups, news, strict=True):
        figures[key]["new"] = new
    _with_spend(figures, spend, plan)
    return kpis_answer(figures, plan)


def kpis_pandas(
    paths: Sequence[str], merge_map: Mapping[str, str], plan: Plan, spend: Mapping[date, float]
) -> Answer:
    groups = _groups(plan)
    stop = plan.kpi_to + timedelta(days=1)
    low = groups[1][1]
    frame = _read(
        paths,
        ["profile_id", "timestamp", "type", "event", "properties"],
        [
            ("timestamp", ">=", pd.Timestamp(moment(low))),
            ("timestamp", "<", pd.Timestamp(moment(stop))),
        ],
    )
    frame = frame.assign(c=_customers(frame, merge_map), day=_micros(frame) // DAY_US)
    buys = _read(
        paths,
        ["profile_id", "timestamp"],
        [("event", "==", "Order Completed"), ("timestamp", "<", pd.Timestamp(moment(stop)))],
    )
    first = buys.assign(c=_customers(buys, merge_map)).groupby("c").timestamp.min()
    figures: dict[str, dict[str, float]] = {}
    for key, a, b in groups:
        g = frame[(frame.day >= daynum(a)) & (frame.day < daynum(b))]
        act = g[g.type.isin(ACTIVITY) & ~g.event.isin(PASSIVE_EVENTS)]
        buy = g[g.event == "Order Completed"]
        props = buy.properties.map(orjson.loads)
        revenue = props.map(
            lambda d: next((float(d[k]) for k in ("revenue", "total", "value") if k in d), None)
        )
        checkout = set(g[g.event == "Checkout Started"].c)
        lists = g[g.event.isin(["Product List Viewed", "Product Clicked"])]
        recommended = lists[
            lists.properties.map(lambda p: orjson.loads(p).get("list_id")) == "recommended"
        ]
        signups = g[g.event == "Signed Up"]
        figures[key] = {
            "active": act.c.nunique(),
            "buyers": buy.c.nunique(),
            "orders": len(buy),
            "revenue": float(revenue.sum()),
            "checkouts": len(checkout),
            "both": len(checkout & set(buy.c)),
            "rec_shown": int((recommended.event == "Product List Viewed").sum()),
            "rec_clicked": int((recommended.event == "Product Clicked").sum()),
            "referred": int(signups.properties.map(lambda p: "referrer" in orjson.loads(p)).sum()),
            "email_delivered": g[g.event == "Email Delivered"].c.nunique(),
            "email_clicked": g[g.event == "Email Link Clicked"].c.nunique(),
            "new": int(((first >= moment(a)) & (first < moment(b))).sum()),
        }
    _with_spend(figures, spend, plan)
    return kpis_answer(figures, plan)


# -- comparing ------------------------------------------------------------------------------


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where two answers differ (floats to 1e-9 relative)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = []
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours or key not in theirs:
                out.append(f"{path}.{key}: only in {'ours' if key in ours else 'theirs'}")
            else:
                out.extend(differences(ours[key], theirs[key], f"{path}.{key}"))
        return out
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [
            d
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    if isinstance(ours, int | float) and isinstance(theirs, int | float):
        if math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-6):
            return []
    elif ours == theirs:
        return []
    return [f"{path}: {ours!r} != {theirs!r}"]
