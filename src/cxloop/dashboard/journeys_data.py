"""What the journey pages show, read through the journeys services.

The map of a journey needs two passes over the event files and no more: the touchpoint
ranking (:func:`cxloop.journeys.touchpoints.ranking`), whose items carry every touchpoint's
scorecard, so the scorecards are not computed a second time; and the stage distribution
(:func:`cxloop.journeys.maps.stage_distribution`), whose snapshot at the end of the period
gives the customers in each stage and the funnel, and whose weekly snapshots give the
distribution over time.

**The funnel.** A customer never moves back to an earlier stage and may skip one (see
:mod:`cxloop.analytics.stages`), so the customers who had *reached* a stage by the end of the
period are those whose current stage is that one or a later one; the conversion from the
previous stage is the ratio of two such counts, never above 100 %. The customers who *entered*
each stage during the period are counted beside it.

**Colours.** Each touchpoint shows its NPS, else its CSAT, else its CES, in one of three bands
(:data:`BANDS`) drawn with a symbol and a word as well as a colour.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cxloop.analytics import touchpoints as analysis
from cxloop.analytics.portable import day_start
from cxloop.core.deps import Reads
from cxloop.dashboard import memo
from cxloop.dashboard.periods import Period
from cxloop.journeys import errors, maps
from cxloop.journeys import touchpoints as tp_service
from cxloop.journeys.documents import parse_stages
from cxloop.journeys.service import Reader
from cxloop.journeys.touchpoint_schemas import PathQuery, RankingQuery
from cxloop.models import Journey

METRICS = ("nps", "csat", "ces")
MIN_RESPONSES = 30
WINDOW_DAYS = 30
# (strong from, fair from) per metric; below the second: weak. CSAT is the % satisfied
# (4-5 of 5), CES the mean of 1-7 where 7 is the easiest.
BANDS: dict[str, tuple[float, float]] = {"nps": (30, 0), "csat": (80, 60), "ces": (5, 4)}
DECIMALS = {"nps": 0, "csat": 0, "ces": 1}
PATH_TOP = 5
MAP_DAYS = 90  # the period a map shows unless asked for another
T = TypeVar("T")
Read = Callable[[Reader], T]  # what one answer reads through a workspace's reader


@dataclass(frozen=True)
class Score:
    """The figure a touchpoint is coloured by: NPS, else CSAT, else CES."""

    metric: str | None  # None: no scored answer in the period
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    small_sample: bool
    band: str  # "strong", "fair", "weak" or "none"


@dataclass(frozen=True)
class TouchpointCard:
    key: str
    name: str
    channel: str | None
    stage: int | None
    volume: int
    reach: int
    responses: int
    score: Score
    rank: int | None
    reason: str
    conversion: dict[str, Any] | None
    scorecard: dict[str, Any]
    is_weakest: bool = False


@dataclass(frozen=True)
class StageColumn:
    index: int
    key: str
    name: str
    customers: int  # whose current stage this is at the end of the period
    share: float | None  # of the customers in any stage then
    reached: int  # this stage or a later one by the end of the period
    conversion: float | None  # reached / reached of the stage before
    entered: int  # entered during the period
    touchpoints: list[TouchpointCard] = field(default_factory=list)


@dataclass(frozen=True)
class Week:
    start: date
    customers: list[int]  # per stage, at the end of the bucket


@dataclass(frozen=True)
class JourneyChoice:
    id: uuid.UUID
    name: str


@dataclass
class JourneyView:
    journey: JourneyChoice
    description: str
    metric: str  # the ranking's metric
    min_n: int
    ranked: int
    order: str
    stages: list[StageColumn]
    weakest: TouchpointCard | None
    weeks: list[Week]
    placed: int  # customers in any stage at the end of the period
    journeys: list[JourneyChoice]
    as_of: datetime | None = None  # when the figures were read, if newer ones are coming


def journeys(session: Session, workspace_id: uuid.UUID) -> list[JourneyChoice]:
    """The workspace's journeys, oldest first: the first is the default one."""
    return [JourneyChoice(j.id, j.name) for j in maps.list_journeys(session, workspace_id)]


def chosen(
    session: Session, workspace_id: uuid.UUID, journey_id: uuid.UUID | None
) -> Journey | None:
    """The journey asked for (404 when it is not this workspace's), else the first one."""
    if journey_id is not None:
        return maps.get_journey(session, workspace_id, journey_id)
    first = maps.list_journeys(session, workspace_id, limit=1)
    return first[0] if first else None


def score_of(card: dict[str, Any]) -> Score:
    """The first of NPS, CSAT and CES with an answer, and its band."""
    for metric in METRICS:
        figure = card[metric]
        if figure["n"]:
            value = figure[metric]
            return Score(
                metric,
                value,
                figure["ci_low"],
                figure["ci_high"],
                figure["n"],
                bool(figure["small_sample"]),
                band(metric, value),
            )
    return Score(None, None, None, None, 0, True, "none")


def band(metric: str, value: float | None) -> str:
    if value is None:
        return "none"
    strong, fair = BANDS[metric]
    return "strong" if value >= strong else "fair" if value >= fair else "weak"


class Figures:
    """The journeys services' answers about one workspace, each read once for the state of
    its event store (:mod:`cxloop.dashboard.memo`). With ``reads`` and ``stale_seconds``, an
    answer read from an earlier state may stand in while the newest is read in the
    background: :attr:`as_of` then says when the oldest answer used was read."""

    def __init__(
        self,
        session: Session,
        root: Path,
        workspace_id: uuid.UUID,
        reads: Reads | None = None,
        stale_seconds: float = 0.0,
    ) -> None:
        self.reader = Reader(session, root, workspace_id)
        self.keep = memo.Keeper(session, workspace_id, reads, stale_seconds)

    @property
    def as_of(self) -> datetime | None:
        return self.keep.as_of

    def _recall(
        self, kind: str, journey: Journey | None, parts: tuple[Hashable, ...], read: Read[T]
    ) -> T:
        version = (journey.id, journey.updated_at) if journey is not None else None
        root, workspace_id = self.reader.root, self.reader.workspace_id

        def through(session: Session) -> T:
            reader = self.reader if session is self.reader.session else None
            return read(reader or Reader(session, root, workspace_id))

        return self.keep((kind, version, *parts), through)

    def ranking(
        self, journey: Journey | None, period: Period, lang: str, metric: str
    ) -> dict[str, Any]:
        """The touchpoint ranking of the period: every touchpoint's scorecard, weakest
        first (without a journey: the touchpoints the responses name)."""
        query = RankingQuery.model_validate(
            {
                "journey_id": journey.id if journey is not None else None,
                "from": period.start,
                "to": period.end,
                "lang": lang,
                "metric": metric,
                "min_responses": MIN_RESPONSES,
                "window_days": WINDOW_DAYS,
            }
        )
        # what is read from the store serves every metric and language
        read = self._recall(
            "scorecards",
            journey,
            (period.start, period.end),
            lambda reader: tp_service.measured(reader, query),
        )
        return tp_service.ranking(self.reader, query, read)

    def distribution(self, journey: Journey, period: Period, interval: str) -> dict[str, Any]:
        journey_id = journey.id

        def read(reader: Reader) -> dict[str, Any]:
            # in the background, the journey is read again in that reader's session
            found = reader.session.get(Journey, journey_id)
            if found is None:
                raise errors.JourneyNotFound("the journey was deleted")
            return maps.stage_distribution(reader, found, period.start, period.end, interval)

        return self._recall("stages", journey, (period.start, period.end, interval), read)

    def weekly(self, found: tp_service.Map, key: str, period: Period) -> list[analysis.Week]:
        """One touchpoint's volume, reach and figures week by week."""
        spec = analysis.ScorecardSpec(
            start=period.start,
            end=period.end,
            touchpoints=found.touchpoints(),
            stages=found.entries(),
            window=timedelta(days=WINDOW_DAYS),
            min_n=MIN_RESPONSES,
        )
        since, until = day_start(period.start), day_start(period.end + timedelta(days=1))
        return self._recall(
            "weekly",
            found.journey,
            (key, period.start, period.end),
            lambda reader: analysis.weekly(reader.engine(since, until), spec, key),
        )

    def paths(
        self, journey: Journey | None, key: str, period: Period, lang: str, direction: str
    ) -> dict[str, Any] | None:
        """The touchpoints met just before or after ``key``; None without a journey, whose
        touchpoints the paths run between."""
        if journey is None:
            return None
        query = PathQuery.model_validate(
            {
                "journey_id": journey.id,
                "anchor": key,
                "direction": direction,
                "steps": 1,
                "top": PATH_TOP,
                "from": period.start,
                "to": period.end,
                "lang": lang,
            }
        )
        return self._recall(
            "paths",
            journey,
            (key, period.start, period.end, lang, direction),
            lambda reader: tp_service.paths(reader, query),
        )


def cards(ranked: dict[str, Any]) -> dict[str, TouchpointCard]:
    """Every ranked item as a card, by key; the first ranked one is the weakest."""
    out: dict[str, TouchpointCard] = {}
    for item in ranked["items"]:
        card = item["scorecard"]
        out[item["key"]] = TouchpointCard(
            key=item["key"],
            name=item["name"],
            channel=card["channel"],
            stage=None,
            volume=card["volume"],
            reach=card["reach"],
            responses=card["responses"],
            score=score_of(card),
            rank=item["rank"],
            reason=item["reason"]["detail"],
            conversion=card["conversion"],
            scorecard=card,
            is_weakest=item["rank"] == 1,
        )
    return out


def journey_map(
    session: Session,
    root: Path,
    workspace_id: uuid.UUID,
    journey: Journey,
    period: Period,
    lang: str,
    metric: str,
    *,
    reads: Reads | None = None,
    stale_seconds: float = 0.0,
) -> JourneyView:
    """The map of ``journey`` over ``period``: see the module's docstring (``reads`` and
    ``stale_seconds``: see :class:`Figures`)."""
    figures = Figures(session, root, workspace_id, reads, stale_seconds)
    ranked = figures.ranking(journey, period, lang, metric)
    found = cards(ranked)
    interval = "week" if period.days <= 26 * 7 else "month"
    spread = figures.distribution(journey, period, interval)
    docs = parse_stages(journey.stages)
    last: dict[str, Any] = spread["series"][-1]  # the range has at least one bucket
    at_end = [s["customers"] for s in last["stages"]]
    entered = [sum(b["stages"][i]["entered"] for b in spread["series"]) for i in range(len(docs))]
    reached = [sum(at_end[i:]) for i in range(len(docs))]
    columns = []
    for i, stage in enumerate(docs):
        before = reached[i - 1] if i else None
        columns.append(
            StageColumn(
                index=i,
                key=stage.key,
                name=stage.name.get(lang),
                customers=at_end[i],
                share=at_end[i] / last["customers"] if last["customers"] else None,
                reached=reached[i],
                conversion=reached[i] / before if before else None,
                entered=entered[i],
                touchpoints=[_placed(found[tp.key], i) for tp in stage.touchpoints],
            )
        )
    weakest = next((c for c in found.values() if c.is_weakest), None)
    return JourneyView(
        journey=JourneyChoice(journey.id, journey.name),
        description=journey.description,
        metric=ranked["metric"],
        min_n=ranked["min_responses"],
        ranked=ranked["ranked"],
        order=ranked["order"],
        stages=columns,
        weakest=_placed(weakest, weakest.stage) if weakest else None,
        weeks=[Week(b["start"], [s["customers"] for s in b["stages"]]) for b in spread["series"]],
        placed=last["customers"],
        journeys=journeys(session, workspace_id),
        as_of=figures.as_of,
    )


def _placed(card: TouchpointCard, stage: int | None) -> TouchpointCard:
    return replace(card, stage=stage)


# -- one touchpoint -------------------------------------------------------------------------


@dataclass
class TouchpointDetail:
    card: TouchpointCard
    journey: JourneyChoice | None
    stage_name: str | None
    next_stage_name: str | None
    metric: str
    min_n: int
    ranked: int
    order: str
    trend: list[analysis.Week]
    previous: dict[str, Any] | None  # the paths' answers; None without a journey
    next: dict[str, Any] | None
    as_of: datetime | None = None  # as in JourneyView


def touchpoint(
    session: Session,
    root: Path,
    workspace_id: uuid.UUID,
    key: str,
    journey_id: uuid.UUID | None,
    period: Period,
    lang: str,
    metric: str,
    *,
    reads: Reads | None = None,
    stale_seconds: float = 0.0,
) -> TouchpointDetail:
    """One touchpoint over ``period``: its scorecard, rank and reason (from the one ranking
    of the journey), its weekly figures and the touchpoints met before and after it."""
    if journey_id is None:
        found = tp_service.journey_with(session, workspace_id, key)
    else:
        found = tp_service.load_map(session, workspace_id, journey_id)
    if found.journey is not None and key not in found.docs:
        raise tp_service.TouchpointNotFound(f"the journey has no touchpoint {key!r}")
    figures = Figures(session, root, workspace_id, reads, stale_seconds)
    ranked = figures.ranking(found.journey, period, lang, metric)
    card = cards(ranked).get(key)
    if card is None:  # without a journey: no response names it in the period
        raise tp_service.TouchpointNotFound(f"no touchpoint {key!r} in this period")
    stage_name = next_name = None
    if found.journey is not None:
        index, stage, _ = found.docs[key]
        card = _placed(card, index)
        stage_name = stage.name.get(lang)
        if index + 1 < len(found.stages):
            next_name = found.stages[index + 1].name.get(lang)
    journey = found.journey
    trend = figures.weekly(found, key, period)
    before = figures.paths(journey, key, period, lang, "previous")
    after = figures.paths(journey, key, period, lang, "next")
    return TouchpointDetail(
        card=card,
        journey=JourneyChoice(journey.id, journey.name) if journey is not None else None,
        stage_name=stage_name,
        next_stage_name=next_name,
        metric=ranked["metric"],
        min_n=ranked["min_responses"],
        ranked=ranked["ranked"],
        order=ranked["order"],
        trend=trend,
        previous=before,
        next=after,
        as_of=figures.as_of,  # once every figure above is read
    )
