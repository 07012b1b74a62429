"""Errors of the system domain."""

from cxloop.core.errors import Conflict, NotFound


class JobNotFound(NotFound):
    code = "job_not_found"


class JobNotDead(Conflict):
    code = "job_not_dead"
