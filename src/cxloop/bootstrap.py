"""Imports every domain's jobs and signal receivers so that they are registered.

The app and the worker call :func:`load_domains` before they start; nothing else needs to.
"""

from __future__ import annotations

import cxloop.eventstore.tasks
import cxloop.ingest.gateway
import cxloop.ingest.tasks
import cxloop.jobs.builtin
import cxloop.surveys.distribution.tasks
import cxloop.surveys.tasks
import cxloop.text.tasks  # noqa: F401


def load_domains() -> None:
    """Registration happens at import; this function makes the import explicit at call sites."""
