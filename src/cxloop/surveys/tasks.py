"""Background upkeep of surveys: closing them on their close date, and linking responses
to the profiles their events were loaded into."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cxloop.jobs.registry import JobContext, job, schedule
from cxloop.surveys import service


@job("surveys.close_expired")
def close_expired(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Close the surveys whose close date has passed (they already refuse responses)."""
    service.close_expired(ctx.session)


@job("surveys.link_profiles")
def link_profiles(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Set the profile of recent responses whose customer was unknown when they answered."""
    service.link_profiles(ctx.session)


schedule("surveys.close_expired.minutely", "surveys.close_expired", every=timedelta(minutes=1))
schedule("surveys.link_profiles.minutely", "surveys.link_profiles", every=timedelta(minutes=1))
