"""What a survey's public page shows of it (the survey row and its page settings), kept by
each process for ``survey_page_cache_seconds``.

Every visit and every submission needs them; read from the database each time they cost
more than the rest of the page. A change made in the app (a pause, a new colour) shows on
the page at most that late; submissions still check the stored status when they are written,
so a paused survey takes no answer whatever a page showed.

The rows kept are detached from their session, so they are only read, never changed.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.models import Survey, SurveyPage
from cxloop.surveys.widget import page_of

_MAX_KEPT = 10_000


@dataclass(frozen=True)
class Face:
    survey: Survey | None
    page: SurveyPage | None
    until: float


_faces: dict[uuid.UUID, Face] = {}
_lock = threading.Lock()


def survey(session: Session, survey_id: uuid.UUID, settings: Settings) -> Survey | None:
    """The survey, by id alone (what its public page is addressed by), or None."""
    now = time.monotonic()
    found = _faces.get(survey_id)
    if found is not None and found.until > now:
        return found.survey
    row = session.get(Survey, survey_id)
    page = page_of(session, row) if row is not None else None
    for kept in (row, page):
        if kept is not None:
            session.expunge(kept)  # its loaded values stay readable after the session ends
    with _lock:
        if len(_faces) >= _MAX_KEPT:
            _faces.clear()
        _faces[survey_id] = Face(row, page, now + settings.survey_page_cache_seconds)
    return row


def page(session: Session, row: Survey) -> SurveyPage | None:
    """The page settings of a survey given by :func:`survey` (read again for any other)."""
    found = _faces.get(row.id)
    if found is not None and found.survey is row:
        return found.page
    return page_of(session, row)
