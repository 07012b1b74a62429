"""Errors of the accounts domain."""

from cxloop.core.errors import Conflict, Forbidden, NotFound, Unauthorized


class WorkspaceNotFound(NotFound):
    code = "workspace_not_found"


class WorkspaceExists(Conflict):
    code = "workspace_exists"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class UserExists(Conflict):
    code = "user_exists"


class UserNotFound(NotFound):
    code = "user_not_found"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"
