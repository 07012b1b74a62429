"""Domain errors. Services raise these; one handler renders them for the API and pages."""

from __future__ import annotations

from typing import Any, ClassVar


class CxloopError(Exception):
    """Base of every error a user may see. ``code`` is stable; ``detail`` is for humans."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(CxloopError):
    status_code = 400
    code = "bad_request"


class Unauthorized(CxloopError):
    status_code = 401
    code = "unauthorized"


class Forbidden(CxloopError):
    status_code = 403
    code = "forbidden"


class NotFound(CxloopError):
    status_code = 404
    code = "not_found"


class Conflict(CxloopError):
    status_code = 409
    code = "conflict"


class InvalidInput(CxloopError):
    """A value is well-formed JSON but breaks a rule; ``field`` names the culprit."""

    status_code = 422
    code = "validation_error"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(
            f"{field}: {reason}", extra={"errors": [{"loc": field.split("."), "msg": reason}]}
        )
        self.field = field
        self.reason = reason
