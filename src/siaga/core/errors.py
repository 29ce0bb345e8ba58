"""Errors raised by actions, each with a code the API maps to an HTTP status."""

from __future__ import annotations


class ActionError(Exception):
    """A refused write. ``code`` is stable for programs, ``message`` is for people."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(ActionError):
    status = 422
    code = "invalid"


class IllegalTransition(ActionError):
    """A lifecycle step that is not allowed from the current state, or a time going backwards."""

    status = 409
    code = "illegal_transition"


class Conflict(ActionError):
    status = 409
    code = "conflict"


class NotFound(ActionError):
    status = 404
    code = "not_found"


class Forbidden(ActionError):
    status = 403
    code = "forbidden"
