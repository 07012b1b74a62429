"""Errors of the profiles domain."""

from __future__ import annotations

from cxloop.core.errors import BadRequest, NotFound


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class BadLookup(BadRequest):
    code = "bad_lookup"
