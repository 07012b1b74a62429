"""Background jobs of survey distribution: sending invitations and reminders, and
evaluating the event triggers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from cxloop.jobs.registry import JobContext, job, schedule
from cxloop.surveys import triggers
from cxloop.surveys.distribution import delivery
from cxloop.surveys.distribution.invitations import SEND_JOB

EVALUATE_JOB = "surveys.evaluate_triggers"


# two attempts: a second run means the first ended without recording whether the server
# took the email, and the delivery then refuses to send it again (see delivery.py)
@job(SEND_JOB, max_attempts=2)
def send_invitation(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Send an invitation (``number`` 0) or its ``number``-th reminder."""
    if ctx.workspace_id is None:
        raise ValueError("surveys.send_invitation is enqueued with the invitation's workspace")
    delivery.deliver(
        ctx.session,
        ctx.workspace_id,
        uuid.UUID(payload["invitation_id"]),
        int(payload.get("number", 0)),
        attempt=ctx.attempt,
        settings=ctx.settings,
    )


@job(EVALUATE_JOB)
def evaluate_triggers(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Invite the customers that newly loaded events trigger a survey for."""
    triggers.evaluate(ctx.session, ctx.settings)


schedule("surveys.evaluate_triggers.minutely", EVALUATE_JOB, every=timedelta(minutes=1))
