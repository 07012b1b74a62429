"""Touchpoint scorecards and the weakest-touchpoint ranking over the event files.

A customer **meets** a touchpoint with an event that matches one of its matchers, or with a
``Survey Responded`` event **attributed** to it: the response's ``touchpoint`` property is
the touchpoint's key, or its survey is one of the touchpoint's ``survey_ids`` (a response may
be attributed to several touchpoints; the journey as a whole counts it once). Without a
journey, the touchpoints are the values of the responses' ``touchpoint`` property, and they
are met through those responses only.

For a range of whole UTC days ``[start, end]`` each touchpoint gets:

- **volume**: the events that met it (a response counts once, whatever its versions);
- **reach**: the customers who met it, a merged customer once (``customer_id``);
- **responses** and the **NPS / CSAT / CES** of the responses attributed to it, each figure
  with its 95% interval and n from :mod:`cxloop.analytics.feedback` (a response counts as
  its latest version, dated by it, as in the feedback metrics);
- **conversion** to the next stage: of the customers who met it, the share who *entered*
  the next stage strictly after a meeting in the range and at most ``window`` after it (the
  entry may fall after ``end``). A customer enters a stage when one of its entry rules is
  first met, over their whole history: at the ``count``-th event matching the rule's
  matcher. A customer who had entered the next stage before meeting the touchpoint did not
  get there from it and does not count as converted.

The weakest-touchpoint ranking orders the touchpoints with at least ``min_n`` scored
responses by the **upper end of their 95% interval**, lowest first, so a touchpoint ranks
weaker only when even the best value its responses allow is lower; ties go to the lower
score, then the larger sample. Each one is tested against the rest of the journey and
against the touchpoint ranked after it (:func:`cxloop.analytics.feedback.figures.differences`),
which tells the overlapping intervals that cannot be told apart. Touchpoints under the
minimum are listed after the ranked ones, in journey order, and never ranked.

The SQL is written once for DuckDB and Spark (:mod:`cxloop.analytics.portable`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from cxloop.analytics.feedback import EVENT, Figure, Metric, Scores, Spec, summarize
from cxloop.analytics.feedback.figures import Difference, differences
from cxloop.analytics.feedback.spec import SCALE
from cxloop.analytics.portable import (
    US_PER_DAY,
    US_PER_SECOND,
    Engine,
    Matcher,
    SpecError,
    check_days,
    day_number,
    day_start,
    literal,
    micros,
    number,
    prop,
    week_number,
    week_start,
)

MAX_WINDOW_DAYS = 366
MAX_DAYS = 3 * 366
METRICS = (Metric.NPS, Metric.CSAT, Metric.CES)
RESPONSE = f"(type = 'track' AND event = {literal(EVENT)})"
RESPONSE_KEY = f"coalesce({prop('response_id')}, message_id)"


@dataclass(frozen=True)
class Touchpoint:
    """A touchpoint of a journey: its key, the index of its stage, what meets it."""

    key: str
    stage: int
    matchers: Sequence[Matcher] = ()
    survey_ids: Sequence[str] = ()


@dataclass(frozen=True)
class Entry:
    """An entry rule of a stage: met at the ``count``-th event matching ``matcher``."""

    matcher: Matcher
    count: int = 1


@dataclass(frozen=True)
class ScorecardSpec:
    """``touchpoints`` in journey order, or None for the touchpoints the responses name;
    ``stages`` holds each stage's entry rules, in journey order."""

    start: date
    end: date  # inclusive
    touchpoints: Sequence[Touchpoint] | None = None
    stages: Sequence[Sequence[Entry]] = ()
    window: timedelta = timedelta(days=30)
    min_n: int = 30
    weekly: bool = False  # volume, reach and figures per week (Monday, UTC), no conversion
    only: str | None = None  # just this touchpoint

    def check(self) -> None:
        check_days(self.start, self.end)
        if (self.end - self.start).days >= MAX_DAYS:
            raise SpecError("to", f"a range of at most {MAX_DAYS} days")
        if self.window <= timedelta(0):
            raise SpecError("window_days", "must be more than 0")
        if self.window > timedelta(days=MAX_WINDOW_DAYS):
            raise SpecError("window_days", f"at most {MAX_WINDOW_DAYS} days")
        if self.min_n < 1:
            raise SpecError("min_responses", "must be at least 1")
        for i, stage in enumerate(self.stages):
            for j, rule in enumerate(stage):
                rule.matcher.check(f"stages.{i}.entry.{j}")
                if rule.count < 1:
                    raise SpecError(f"stages.{i}.entry.{j}.count", "must be at least 1")
        for tp in self.touchpoints or ():
            if not 0 <= tp.stage < max(len(self.stages), 1):
                raise SpecError(f"touchpoints.{tp.key}.stage", "no such stage")
            for j, matcher in enumerate(tp.matchers):
                matcher.check(f"touchpoints.{tp.key}.matchers.{j}")

    @property
    def bounds(self) -> tuple[int, int]:
        """[low, high) of the range, in microseconds."""
        low = micros(day_start(self.start))
        return low, low + ((self.end - self.start).days + 1) * US_PER_DAY

    @property
    def window_us(self) -> int:
        return int(self.window.total_seconds() * US_PER_SECOND)

    def chosen(self) -> list[Touchpoint]:
        return [t for t in self.touchpoints or () if self.only in (None, t.key)]

    def next_stages(self) -> dict[str, int]:
        """Touchpoint key -> the next stage's index, when that stage has entry matchers."""
        if self.weekly:
            return {}
        return {
            t.key: t.stage + 1
            for t in self.chosen()
            if t.stage + 1 < len(self.stages) and self.stages[t.stage + 1]
        }


@dataclass
class Conversion:
    next_stage: int | None  # index of the next stage; None in the last stage
    customers: int | None  # None when the next stage has no entry matchers
    rate: float | None


@dataclass
class Scorecard:
    key: str
    stage: int | None
    volume: int
    reach: int
    responses: int
    respondents: int
    small_sample: bool  # fewer responses than min_n
    figures: dict[Metric, Figure]
    conversion: Conversion
    scores: dict[Metric, Scores] = field(repr=False)


@dataclass
class Week:
    start: date  # the Monday
    volume: int
    reach: int
    responses: int
    figures: dict[Metric, Figure]


@dataclass
class Scorecards:
    items: list[Scorecard]
    journey: dict[Metric, Figure]  # every response attributed to a touchpoint, once
    journey_scores: dict[Metric, Scores] = field(repr=False)
    responses: int = 0


# -- SQL ------------------------------------------------------------------------------------


def tables(spec: ScorecardSpec) -> dict[str, pa.Table]:
    """The small tables the SQL joins: which responses go to which touchpoint, the
    touchpoints with matchers, and the next stage of each touchpoint."""
    attr: dict[str, list[str]] = {"tp": [], "kind": [], "value": []}
    for tp in spec.chosen():
        for kind, values in (("touchpoint", [tp.key]), ("survey", list(tp.survey_ids))):
            for value in values:
                attr["tp"].append(tp.key)
                attr["kind"].append(kind)
                attr["value"].append(str(value))
    nexts = spec.next_stages()
    matched = [t.key for t in spec.chosen() if t.matchers]
    return {
        "tp_attr": pa.table({k: pa.array(v, pa.string()) for k, v in attr.items()}),
        "tp_matched": pa.table({"tp": pa.array(matched, pa.string())}),
        "tp_next": pa.table(
            {
                "tp": pa.array(list(nexts), pa.string()),
                "next_stage": pa.array(list(nexts.values()), pa.int64()),
            }
        ),
    }


def scorecard_sql(spec: ScorecardSpec) -> str:
    """One statement: volume and reach, responses, score counts and conversions per
    touchpoint (and week), plus the journey's score counts (``tp`` NULL)."""
    spec.check()
    low, high = spec.bounds
    wk = week_number("day_n") if spec.weekly else "CAST(0 AS BIGINT)"
    ctes = [
        f"resp AS (SELECT customer_id, ts, message_id, day_n, {RESPONSE_KEY} AS rk, "  # noqa: S608
        f"{prop('touchpoint')} AS tpk, {prop('survey_id')} AS sid, {number('nps')} AS nps, "
        f"{number('csat')} AS csat, {number('ces')} AS ces FROM events "
        f"WHERE {RESPONSE} AND ts >= {low})",
        # the latest version of a response decides whether, when and how it counts (a
        # version after the range takes the response out of it, as in the feedback metrics)
        "ranked AS (SELECT *, row_number() OVER (PARTITION BY rk "
        "ORDER BY ts DESC, message_id DESC) AS rn FROM resp)",
        f"latest AS (SELECT customer_id, ts, rk, tpk, sid, nps, csat, ces, {wk} AS wk "  # noqa: S608
        f"FROM ranked WHERE rn = 1 AND ts < {high})",
        f"att AS ({_attribution(spec)})",
    ]
    hits = [
        "SELECT a.tp, l.customer_id, l.ts, l.rk AS vk, l.wk FROM att AS a "
        "JOIN latest AS l ON l.rk = a.rk"
    ]
    matched = [t for t in spec.chosen() if t.matchers]
    if matched:
        flags = ", ".join(f"{_any(t.matchers)} AS f{i}" for i, t in enumerate(matched))
        ctes.append(
            "ev AS (SELECT customer_id, ts, "  # noqa: S608
            f"CASE WHEN {RESPONSE} THEN {RESPONSE_KEY} ELSE message_id END AS vk, {wk} AS wk, "
            f"{flags} FROM events WHERE ts >= {low} AND ts < {high} "
            f"AND ({' OR '.join(_any(t.matchers) for t in matched)}))"
        )
        # one pass over the events: each is paired with the touchpoints whose flag it has
        which = " ".join(f"WHEN {literal(t.key)} THEN e.f{i}" for i, t in enumerate(matched))
        hits.append(
            "SELECT m.tp, e.customer_id, e.ts, e.vk, e.wk FROM ev AS e "  # noqa: S608
            f"JOIN tp_matched AS m ON CASE m.tp {which} END"
        )
    ctes.append(f"hits AS ({' UNION ALL '.join(hits)})")
    ctes.append(
        "scored AS (SELECT a.tp, l.wk, l.nps, l.csat, l.ces FROM att AS a "
        "JOIN latest AS l ON l.rk = a.rk UNION ALL "
        "SELECT CAST(NULL AS VARCHAR) AS tp, l.wk, l.nps, l.csat, l.ces FROM latest AS l "
        "WHERE l.rk IN (SELECT rk FROM att))"
    )
    nulls = "CAST(NULL AS VARCHAR) AS metric, CAST(NULL AS BIGINT) AS score"
    parts = [
        f"SELECT 'hits' AS kind, tp, wk, {nulls}, count(DISTINCT vk) AS a, "  # noqa: S608
        "count(DISTINCT customer_id) AS b FROM hits GROUP BY tp, wk",
        f"SELECT 'responses' AS kind, a.tp, l.wk, {nulls}, count(*) AS a, "  # noqa: S608
        "count(DISTINCT l.customer_id) AS b FROM att AS a JOIN latest AS l ON l.rk = a.rk "
        "GROUP BY a.tp, l.wk",
        f"SELECT 'responses' AS kind, CAST(NULL AS VARCHAR) AS tp, CAST(0 AS BIGINT) AS wk, "  # noqa: S608
        f"{nulls}, count(*) AS a, count(DISTINCT customer_id) AS b FROM latest "
        "WHERE rk IN (SELECT rk FROM att)",
    ]
    for metric in METRICS:
        lo, hi = SCALE[metric]
        col = metric.value
        parts.append(
            f"SELECT 'score' AS kind, tp, wk, {literal(col)} AS metric, "  # noqa: S608
            f"CAST({col} AS BIGINT) AS score, count(*) AS a, CAST(NULL AS BIGINT) AS b "
            f"FROM scored WHERE {col} BETWEEN {lo} AND {hi} AND {col} = floor({col}) "
            f"GROUP BY tp, wk, CAST({col} AS BIGINT)"
        )
    if spec.next_stages():
        ctes.extend(_conversion_ctes(spec, high))
        # converted: entered the next stage at most the window after meeting the touchpoint
        parts.append(
            f"SELECT 'converted' AS kind, e.tp, CAST(0 AS BIGINT) AS wk, {nulls}, "  # noqa: S608
            "count(DISTINCT e.customer_id) AS a, CAST(NULL AS BIGINT) AS b FROM entered AS e "
            "JOIN hits AS h ON h.tp = e.tp AND h.customer_id = e.customer_id "
            f"WHERE h.ts < e.ts AND e.ts - h.ts <= {spec.window_us} GROUP BY e.tp"
        )
    return "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(parts)


def _any(matchers: Sequence[Matcher]) -> str:
    return "(" + " OR ".join(m.sql() for m in matchers) + ")"


def _attribution(spec: ScorecardSpec) -> str:
    """(tp, rk) of every response attributed to a touchpoint, once per pair."""
    if spec.touchpoints is None:
        only = f" AND tpk = {literal(spec.only)}" if spec.only is not None else ""
        return f"SELECT DISTINCT tpk AS tp, rk FROM latest WHERE tpk <> ''{only}"  # noqa: S608
    return (
        "SELECT DISTINCT tp, rk FROM ("
        "SELECT a.tp, l.rk FROM latest AS l JOIN tp_attr AS a "
        "ON a.kind = 'touchpoint' AND a.value = l.tpk UNION ALL "
        "SELECT a.tp, l.rk FROM latest AS l JOIN tp_attr AS a "
        "ON a.kind = 'survey' AND a.value = l.sid) AS x"
    )


def _conversion_ctes(spec: ScorecardSpec, high: int) -> list[str]:
    """Each customer's entry into each next stage (first time a rule is met, over the whole
    history; only the events of a rule met the n-th time, n > 1, are numbered), then each
    entry that a meeting of the touchpoint preceded within the window."""
    wanted = sorted(set(spec.next_stages().values()))
    rules = [(s, j, rule) for s in wanted for j, rule in enumerate(spec.stages[s])]
    flags = ", ".join(f"{rule.matcher.sql()} AS g{s}_{j}" for s, j, rule in rules)
    either = " OR ".join(rule.matcher.sql() for _, _, rule in rules)
    order = "PARTITION BY customer_id ORDER BY ts, message_id"
    numbered = "SELECT customer_id, ts, row_number() OVER ({order}) AS k FROM ent WHERE {flag}"
    hits = " UNION ALL ".join(
        f"SELECT {s} AS stage, customer_id, ts FROM ent WHERE g{s}_{j}"  # noqa: S608
        if rule.count <= 1
        else f"SELECT {s} AS stage, customer_id, ts FROM "  # noqa: S608
        f"({numbered.format(order=order, flag=f'g{s}_{j}')}) AS r WHERE k = {int(rule.count)}"
        for s, j, rule in rules
    )
    return [
        f"ent AS (SELECT customer_id, ts, message_id, {flags} FROM events "  # noqa: S608
        f"WHERE ts < {high + spec.window_us} AND ({either}))",
        f"entries AS (SELECT stage, customer_id, min(ts) AS ts FROM ({hits}) AS r "  # noqa: S608
        "GROUP BY stage, customer_id)",
        "entered AS (SELECT n.tp, e.customer_id, e.ts FROM entries AS e "
        "JOIN tp_next AS n ON n.next_stage = e.stage)",
    ]


# -- results --------------------------------------------------------------------------------


@dataclass
class _Cell:
    volume: int = 0
    reach: int = 0
    responses: int = 0
    respondents: int = 0
    converted: int = 0
    counts: dict[Metric, list[int]] = field(default_factory=dict)

    def scores(self, metric: Metric) -> Scores:
        low, high = SCALE[metric]
        return Scores(low, tuple(self.counts.get(metric, [0] * (high - low + 1))))


def _cells(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str | None, int], _Cell]:
    cells: dict[tuple[str | None, int], _Cell] = {}
    for row in rows:
        cell = cells.setdefault((row["tp"], int(row["wk"])), _Cell())
        a, b = int(row["a"] or 0), int(row["b"] or 0)
        if row["kind"] == "hits":
            cell.volume, cell.reach = a, b
        elif row["kind"] == "responses":
            cell.responses, cell.respondents = a, b
        elif row["kind"] == "converted":
            cell.converted = a
        else:
            metric = Metric(row["metric"])
            low, high = SCALE[metric]
            counts = cell.counts.setdefault(metric, [0] * (high - low + 1))
            counts[int(row["score"]) - low] = a
    return cells


def run(engine: Engine, spec: ScorecardSpec) -> Scorecards:
    """Every touchpoint's scorecard (journey order; by key without a journey)."""
    return assemble(spec, engine.run(scorecard_sql(spec), tables(spec)))


def assemble(spec: ScorecardSpec, rows: Sequence[Mapping[str, Any]]) -> Scorecards:
    cells = _cells(rows)
    if spec.touchpoints is None:
        keys = sorted({tp for tp, _ in cells if tp is not None})
        defs = [Touchpoint(key, -1) for key in keys if spec.only in (None, key)]
    else:
        defs = spec.chosen()
    nexts = spec.next_stages()
    items = []
    for tp in defs:
        cell = cells.get((tp.key, 0), _Cell())
        next_stage = tp.stage + 1 if 0 <= tp.stage < len(spec.stages) - 1 else None
        converted = cell.converted if tp.key in nexts else None
        rate = converted / cell.reach if converted is not None and cell.reach else None
        scores = {m: cell.scores(m) for m in METRICS}
        items.append(
            Scorecard(
                key=tp.key,
                stage=tp.stage if tp.stage >= 0 else None,
                volume=cell.volume,
                reach=cell.reach,
                responses=cell.responses,
                respondents=cell.respondents,
                small_sample=cell.responses < spec.min_n,
                figures={m: summarize(m, s, spec.min_n) for m, s in scores.items()},
                conversion=Conversion(next_stage, converted, rate),
                scores=scores,
            )
        )
    whole = cells.get((None, 0), _Cell())
    journey_scores = {m: whole.scores(m) for m in METRICS}
    return Scorecards(
        items=items,
        journey={m: summarize(m, s, spec.min_n) for m, s in journey_scores.items()},
        journey_scores=journey_scores,
        responses=whole.responses,
    )


def weekly(engine: Engine, spec: ScorecardSpec, key: str) -> list[Week]:
    """One touchpoint's volume, reach and figures per week (Monday, UTC), every week of
    the range included."""
    by_week = replace(spec, weekly=True, only=key)
    cells = _cells(engine.run(scorecard_sql(by_week), tables(by_week)))
    first = (day_number(spec.start) + 3) // 7
    last = (day_number(spec.end) + 3) // 7
    weeks = []
    for n in range(first, last + 1):
        cell = cells.get((key, n), _Cell())
        weeks.append(
            Week(
                start=week_start(n),
                volume=cell.volume,
                reach=cell.reach,
                responses=cell.responses,
                figures={m: summarize(m, cell.scores(m), spec.min_n) for m in METRICS},
            )
        )
    return weeks


# -- the ranking ----------------------------------------------------------------------------

LOWEST = "lowest"  # shown as lowest_<metric>
BELOW = "below_journey"
IN_LINE = "in_line_with_journey"
ABOVE = "above_journey"
INSUFFICIENT = "insufficient_sample"


@dataclass
class Ranked:
    card: Scorecard
    rank: int | None  # None: under the minimum sample, not ranked
    code: str
    value: float | None  # the metric's headline: NPS, CSAT %, CES mean
    ci_low: float | None
    ci_high: float | None
    n: int
    vs_journey: Difference | None  # this touchpoint - the rest of the journey
    vs_next: Difference | None  # the touchpoint ranked after it - this one


@dataclass
class Ranking:
    metric: Metric
    min_n: int
    ranked: int  # how many touchpoints have enough responses to be ranked
    journey: Figure
    items: list[Ranked]


def headline(metric: Metric, figure: Figure) -> tuple[float | None, float | None, float | None]:
    """The metric's value and 95% interval: NPS, CSAT (% satisfied) or CES (mean)."""
    value = getattr(figure, metric.value)
    return value, figure.ci_low, figure.ci_high


def rank(cards: Scorecards, metric: Metric, min_n: int) -> Ranking:
    """Weakest first: see the module's docstring for the rule."""
    spec = Spec(metric=metric, min_n=min_n)
    order = {card.key: i for i, card in enumerate(cards.items)}
    eligible: list[Scorecard] = []
    rest: list[Scorecard] = []
    for card in cards.items:
        (eligible if card.figures[metric].n >= min_n else rest).append(card)

    def weakness(card: Scorecard) -> tuple[float, float, int, int]:
        value, _, high = headline(metric, card.figures[metric])
        value = value if value is not None else 0.0
        return (
            high if high is not None else value,
            value,
            -card.figures[metric].n,
            order[card.key],
        )

    eligible.sort(key=weakness)
    whole = cards.journey_scores[metric]
    items = []
    for i, card in enumerate(eligible):
        scores = card.scores[metric]
        others = Scores(
            scores.low, tuple(w - s for w, s in zip(whole.counts, scores.counts, strict=True))
        )
        vs_journey = differences(spec, others, scores)[0]
        vs_next = None
        if i + 1 < len(eligible):
            vs_next = differences(spec, scores, eligible[i + 1].scores[metric])[0]
        code = f"{LOWEST}_{metric.value}" if i == 0 else _side(vs_journey)
        items.append(_ranked(metric, card, i + 1, code, vs_journey, vs_next))
    items.extend(_ranked(metric, card, None, INSUFFICIENT, None, None) for card in rest)
    return Ranking(metric, min_n, len(eligible), cards.journey[metric], items)


def _side(test: Difference) -> str:
    if not test.significant or test.difference is None:
        return IN_LINE
    return BELOW if test.difference < 0 else ABOVE


def _ranked(
    metric: Metric,
    card: Scorecard,
    position: int | None,
    code: str,
    vs_journey: Difference | None,
    vs_next: Difference | None,
) -> Ranked:
    figure = card.figures[metric]
    value, low, high = headline(metric, figure)
    return Ranked(card, position, code, value, low, high, figure.n, vs_journey, vs_next)
