"""Reviews and customers' messages among loaded events, handed to text analysis.

Ingestion sits below the text domain, so it records the analysis job by its name (the job
is ``text.analyze_feedback``, registered by :mod:`cxloop.text.tasks`) in the load's own
transaction: a review is analysed once it is stored, and only then.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
from sqlalchemy.orm import Session

from cxloop.jobs import enqueue

ANALYZE_JOB = "text.analyze_feedback"
# Segment's spec names ("Product Reviewed" with review_body) and the usual names of a
# customer's words in a conversation; lower case
EVENT_SOURCES: dict[str, str] = {
    "product reviewed": "review",
    "review submitted": "review",
    "review posted": "review",
    "message received": "message",
    "chat message received": "message",
    "comment posted": "message",
}
# where the words are, in order of preference
TEXT_PROPERTIES = ("review_body", "text", "body", "message", "comment", "content")
MAX_CHARS = 5000


@dataclass(frozen=True)
class FeedbackText:
    message_id: str
    profile_id: str
    source_kind: str
    text: str


def find(con: duckdb.DuckDBPyConnection) -> list[FeedbackText]:
    """The reviews and messages with words among the loader's batch (``batch``, ``resolved``)."""
    names = ", ".join(f"'{name}'" for name in EVENT_SOURCES)
    # most batches hold none: ask the plain batch first, not the view that joins profiles
    hits = con.execute(
        f"SELECT count(*) FROM batch WHERE type = 'track' AND lower(event) IN ({names})"  # noqa: S608
    ).fetchall()
    if not hits[0][0]:
        return []
    body = ", ".join(f"json_extract_string(properties, '$.{p}')" for p in TEXT_PROPERTIES)
    rows = con.execute(
        f"""
        SELECT message_id, profile_id, name, left(trim(coalesce({body})), {MAX_CHARS}) AS words
        FROM (SELECT message_id, profile_id, lower(event) AS name, properties
              FROM resolved
              WHERE type = 'track' AND lower(event) IN ({names}) AND properties IS NOT NULL)
        WHERE nullif(trim(coalesce({body})), '') IS NOT NULL
        """  # noqa: S608 (names and paths are this module's constants)
    ).fetchall()
    return [FeedbackText(m, p, EVENT_SOURCES[n], w) for m, p, n, w in rows]


def enqueue_analyses(
    session: Session, workspace_id: uuid.UUID, items: Sequence[FeedbackText]
) -> None:
    """One analysis job per review or message, in the caller's transaction."""
    for item in items:
        payload = {
            "workspace_id": str(workspace_id),
            "source_kind": item.source_kind,
            "source_id": item.message_id,
            "profile_id": item.profile_id,
            "texts": {"text": item.text},
        }
        enqueue(session, ANALYZE_JOB, payload, workspace_id=workspace_id)
