"""Funnels, retention and churn of a workspace's customers, and its journey maps.

The figures come from :mod:`cxloop.analytics` over the workspace's current event files,
with merged customers mapped to the profile they became. Just-sent events count: the inbox
is settled first when the app's loader is at hand.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cxloop.analytics import funnels, retention
from cxloop.analytics.portable import DuckDBEngine, Matcher, SpecError, day_range, day_start
from cxloop.core.time import utcnow
from cxloop.eventstore import index as event_index
from cxloop.journeys import errors, schemas
from cxloop.profiles.service import merge_map

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30


class Reader:
    """The event files of one workspace for one query, merges applied."""

    def __init__(self, session: Session, root: Path, workspace_id: uuid.UUID) -> None:
        self.session, self.root, self.workspace_id = session, root, workspace_id

    def engine(self, since: datetime | None, until: datetime) -> DuckDBEngine:
        files, index = event_index.for_query(
            self.session, self.workspace_id, self.root, since=since, until=until
        )
        return DuckDBEngine(files, merge_map(self.session, self.workspace_id), index)


def to_matcher(model: schemas.EventMatcher) -> Matcher:
    return Matcher(
        event=model.event, type=model.type, where=dict(model.where), channel=model.channel
    )


def _range(start: date | None, end: date | None, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    try:
        return day_range(start, end, days, utcnow().date())
    except SpecError as exc:
        raise errors.InvalidQuery(exc.field, exc.reason) from exc


def _checked(spec: Any) -> None:
    try:
        spec.check()
    except SpecError as exc:
        raise errors.InvalidQuery(exc.field, exc.reason) from exc


def funnel(reader: Reader, query: schemas.FunnelQuery) -> dict[str, Any]:
    """Customers through ordered steps within the conversion window, with drop-offs."""
    start, end = _range(query.from_, query.to)
    breakdown = None
    if query.breakdown is not None:
        breakdown = funnels.Breakdown(
            funnels.BreakdownKind(query.breakdown.by), query.breakdown.name
        )
    spec = funnels.FunnelSpec(
        steps=[to_matcher(s) for s in query.steps],
        start=start,
        end=end,
        window=timedelta(days=query.window_days),
        order=funnels.Order(query.order),
        breakdown=breakdown,
        dropped_sample=query.dropped_sample,
    )
    _checked(spec)
    needs_history = breakdown is not None and breakdown.kind is funnels.BreakdownKind.TRAIT
    low = day_start(start)
    until = day_start(end + timedelta(days=1)) + spec.window
    result = funnels.run(reader.engine(None if needs_history else low, until), spec)
    return {
        "from": start,
        "to": end,
        "window_days": query.window_days,
        "order": query.order,
        **asdict(result),
    }


def cohorts(reader: Reader, query: schemas.RetentionQuery) -> dict[str, Any]:
    """Retention by weekly or monthly cohort of first action (or first event of a kind)."""
    today = utcnow().date()
    default_days = 12 * 7 if query.period == "week" else 365
    start, end = _range(query.from_, query.to, default_days)
    spec = retention.RetentionSpec(
        start=start,
        end=end,
        period=retention.Period(query.period),
        periods=query.periods,
        cohort=to_matcher(query.cohort) if query.cohort else None,
        returning=to_matcher(query.returning) if query.returning else None,
        until=today,
    )
    _checked(spec)
    result = retention.retention(reader.engine(None, day_start(spec.observed_until)), spec)
    return asdict(result)


def churn(reader: Reader, query: schemas.ChurnQuery) -> dict[str, Any]:
    """Customers who stopped: no action (or no event of a kind) for ``inactive_days``."""
    start, end = _range(query.from_, query.to)
    spec = retention.ChurnSpec(
        start=start,
        end=end,
        inactive_days=query.inactive_days,
        activity=to_matcher(query.activity) if query.activity else None,
        interval=retention.Period(query.interval) if query.interval else None,
        sample=query.sample,
    )
    _checked(spec)
    since = day_start(start - timedelta(days=query.inactive_days))
    result = retention.churn(reader.engine(since, day_start(end + timedelta(days=1))), spec)
    return asdict(result)
