"""Background analysis of customers' texts: survey answers, imported reviews, messages."""

from __future__ import annotations

import uuid
from typing import Any

from cxloop.jobs.registry import JobContext, job
from cxloop.models import TextSource
from cxloop.text import service


@job(service.ANALYZE_JOB)
def analyze_feedback(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Analyse the texts of one source and store the analyses (replacing earlier ones).

    Payload: ``workspace_id``, ``source_kind``, ``source_id``, ``profile_id`` (optional) and
    ``texts`` (``{field: text}``), as :func:`service.enqueue_analysis` records them; a
    lower domain that cannot import this one enqueues the job by name with the same payload.
    """
    profile_id = payload.get("profile_id")
    service.store_analyses(
        ctx.session,
        ctx.settings,
        uuid.UUID(payload["workspace_id"]),
        TextSource(payload["source_kind"]),
        str(payload["source_id"]),
        {str(k): str(v) for k, v in dict(payload.get("texts") or {}).items()},
        uuid.UUID(profile_id) if profile_id else None,
    )
