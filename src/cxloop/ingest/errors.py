"""Errors of the ingestion API."""

from __future__ import annotations

from typing import ClassVar

from cxloop.core.errors import BadRequest, CxloopError


class InvalidJson(BadRequest):
    code = "invalid_json"


class LimitExceeded(BadRequest):
    """One of Segment's size limits; ``code`` names which."""

    code = "limit_exceeded"


class InvalidBatch(BadRequest):
    """Every message of the request was rejected; ``errors`` lists each with its path."""

    code = "invalid_batch"


class MissingWriteKey(CxloopError):
    status_code = 401
    code = "missing_write_key"


class UnsupportedEncoding(CxloopError):
    status_code = 415
    code = "unsupported_encoding"


class RateLimited(CxloopError):
    status_code = 429
    code = "rate_limited"
    retry_after: ClassVar[int] = 1


class InboxUnavailable(CxloopError):
    status_code = 503
    code = "inbox_unavailable"
