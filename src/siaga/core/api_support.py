"""Shared pieces of the JSON API: role gates, the error body, pagination limits.

Every operation declares who may call it with ``auth=allow(Role.X, ...)``. A gate first authenticates
(bearer token, HMAC signature or session) and then checks the principal's roles: no credentials is a
401, the wrong role a 403 naming the roles that are allowed. A test walks every operation of the API
and fails if one has no gate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from django.http import HttpRequest
from django.utils.translation import pgettext_lazy
from ninja import Schema
from ninja.errors import HttpError
from ninja.security.base import AuthBase
from pydantic import Field, StrictInt

from siaga.core.auth import BearerAuth, SessionAuth, SignatureAuth
from siaga.core.errors import LazyText
from siaga.core.roles import Principal, Role

P = ParamSpec("P")
T = TypeVar("T")


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ErrorDetail


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


# how long a client (a PBX, an AML provider, a page) should wait before it tries again after a 503
RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: BaseException) -> bool:
    """True for an error that says the database is away (refused, cut, timed out, pool exhausted), as
    opposed to one about the request's own data: the first is a 503 the sender retries, the second a 4xx."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def thread_connection(func: Callable[P, T]) -> Callable[P, T]:
    """For work handed to a thread outside Django's request cycle (``sync_to_async``): the thread's database
    connection is checked before and given back after, as a request's is. Without it a connection broken
    while the database was away stays broken in that thread for good (every later call fails, though
    the database is back), and a pooled connection is kept by an idle thread instead of going back."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        from django.db import close_old_connections

        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


def unavailable_message() -> str:
    return str(LazyText(pgettext_lazy("error", "the database cannot be reached just now; nothing was stored: "
                                               "send it again in {seconds} s"), seconds=RETRY_AFTER_SECONDS))


class _RoleCheck:
    """Mixed into an auth class: authenticate as usual, then require one of ``roles``."""

    roles: tuple[Role, ...] = ()

    def __call__(self, request: HttpRequest) -> Principal | None:
        principal: Principal | None = super().__call__(request)  # type: ignore[misc]
        if principal is None:
            return None
        if not principal.has(*self.roles):
            allowed = ", ".join(role.value for role in self.roles)
            raise HttpError(403, LazyText(pgettext_lazy("error", "this needs one of the roles: {roles}"),
                                          roles=allowed))
        return principal


_GATE_CLASSES: dict[type, type] = {}


def _gate_class(base: type) -> type:
    if base not in _GATE_CLASSES:
        # Keep the base's name: it is the security scheme's name in the OpenAPI document.
        _GATE_CLASSES[base] = type(base.__name__, (_RoleCheck, base), {"__module__": base.__module__})
    return _GATE_CLASSES[base]


def gate(base: type, *roles: Role) -> AuthBase:
    instance = _gate_class(base)()
    instance.roles = tuple(roles)
    return instance  # type: ignore[no-any-return]


def allow(*roles: Role) -> list[AuthBase]:
    """The auth list for an operation open to ``roles`` (users by token or session, machines by token/HMAC)."""
    return [gate(BearerAuth, *roles), gate(SignatureAuth, *roles), gate(SessionAuth, *roles)]


def roles_of(auth_callbacks: list[Any]) -> tuple[Role, ...] | None:
    """The roles an operation's gates allow, or None when an operation has an ungated auth."""
    found: set[Role] = set()
    for callback in auth_callbacks:
        if not isinstance(callback, _RoleCheck) or not callback.roles:
            return None
        found.update(callback.roles)
    return tuple(sorted(found)) if auth_callbacks else None


MAX_LIMIT = 500
MAX_OFFSET = 10_000_000
# query parameters of every list: documented bounds (OpenAPI minimum / maximum), refused with a 422 outside them
Limit = Annotated[int, Field(ge=1, le=2**31, description=f"at most this many (capped at {MAX_LIMIT})")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="skip this many")]
ObjectId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]  # in a JSON body: a number, never true or "5"
QueryId = Annotated[int, Field(ge=1, le=2**63 - 1)]  # in a query string, where every value is text
# a month as the roster and the reports take it
Month = Annotated[str, Field(pattern=r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM, e.g. 2026-12")]


def required_text(max_length: int, description: str = "") -> Any:
    """A required text that says something: at least one character that is not a space."""
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=r"\S", description=description)]


def clamp_limit(limit: int) -> int:
    if limit < 1:
        raise HttpError(422, LazyText(pgettext_lazy("error", "limit must be at least 1")))
    return min(limit, MAX_LIMIT)
