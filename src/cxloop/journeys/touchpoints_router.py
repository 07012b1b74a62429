"""Touchpoints API: scorecards, the weakest-touchpoint ranking, one touchpoint's trend, paths.

Each route first settles the caller's inbox (through the reader), so events and responses
sent just before count.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cxloop.journeys import touchpoints as service
from cxloop.journeys.router import ReaderDep
from cxloop.journeys.touchpoint_schemas import (
    PathQuery,
    PathsRead,
    RankingQuery,
    RankingRead,
    ScorecardQuery,
    ScorecardsRead,
    TouchpointRead,
)

router = APIRouter(prefix="/api/v1", tags=["touchpoints"])

Scorecards = Annotated[ScorecardQuery, Query()]
Ranking = Annotated[RankingQuery, Query()]


@router.get("/touchpoints/scorecards", response_model=ScorecardsRead)
def read_scorecards(query: Scorecards, reader: ReaderDep) -> object:
    """Every touchpoint's volume, reach, NPS / CSAT / CES with 95% intervals and conversion
    to the next stage, in journey order."""
    return service.scorecards(reader, query)


@router.get("/touchpoints/ranking", response_model=RankingRead)
def read_ranking(query: Ranking, reader: ReaderDep) -> object:
    """Touchpoints weakest first, each with its scorecard, rank and the reason in words;
    those with too few responses follow, unranked."""
    return service.ranking(reader, query)


@router.get("/touchpoints/{touchpoint_key}", response_model=TouchpointRead)
def read_touchpoint(touchpoint_key: str, query: Scorecards, reader: ReaderDep) -> object:
    """One touchpoint's scorecard and its weekly volume, reach and scores."""
    return service.touchpoint(reader, touchpoint_key, query)


@router.post("/analytics/paths", response_model=PathsRead)
def run_paths(body: PathQuery, reader: ReaderDep) -> object:
    """The most common next (or previous) touchpoints, or events, after an anchor, with
    customer counts, shares and a Sankey diagram's nodes and links."""
    return service.paths(reader, body)
