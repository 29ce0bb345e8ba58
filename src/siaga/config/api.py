"""The JSON API v1: one NinjaAPI with a router per app, uniform errors and role gates.

OpenAPI at /api/v1/openapi.json, interactive docs at /api/v1/docs (both for logged-in users).
"""

import logging
import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db import close_old_connections
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import pgettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from siaga.core.api_support import (
    RETRY_AFTER_SECONDS,
    database_unavailable,
    error_body,
    roles_of,
    unavailable_message,
)
from siaga.core.errors import ActionError
from siaga.formats.errors import FormatError
from siaga.formats.storable import first_unstorable

log = logging.getLogger("siaga.api")

_STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid", 429: "throttled"}


class SiagaAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Add each operation's allowed roles (``x-roles``) to the document, and to its description."""
        schema = super().get_openapi_schema(*args, **kwargs)
        roles_by_op: dict[tuple[str, str], tuple[str, ...]] = {}
        for _prefix, router in self._get_urls_routers():
            for path, path_view in router.path_operations.items():
                for operation in path_view.operations:
                    roles = tuple(r.value for r in roles_of(operation.auth_callbacks) or ())
                    for method in operation.methods:
                        # "/roster/{int:entry_id}" is "/roster/{entry_id}" in the document
                        roles_by_op[(method.lower(), re.sub(r"\{\w+:(\w+)\}", r"{\1}", path))] = roles
        for schema_path, methods in schema.get("paths", {}).items():
            path = "/" + schema_path.split("/api/v1/", 1)[-1]
            for method, spec in methods.items():
                roles = roles_by_op.get((method, path))
                if roles:
                    spec["x-roles"] = list(roles)
                    spec["description"] = (spec.get("description") or "") + f"\n\nRoles: {', '.join(roles)}."
                _document_errors(schema_path, spec)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(_error_schemas())
        return schema

    def _get_urls_routers(self) -> Any:
        return self._routers


# The errors every operation can answer with, in the uniform body (ErrorOut), so that clients and
# schemathesis see the whole contract: who may not (401/403), what does not exist (404), what is malformed
# (400), too large (413) or invalid (422).
_ERROR_TEXT = {
    400: "malformed: the body is not JSON, or a path holds control characters",
    401: "not authenticated: log in, or send a valid bearer token or signature",
    403: "authenticated, but this role may not",
    404: "no such object",
    409: "conflicts with what is stored",
    413: "the body is larger than 1 MiB",
    422: "invalid: the error's field names what is wrong",
}


def _document_errors(path: str, spec: dict[str, Any]) -> None:
    responses = spec.setdefault("responses", {})
    codes = {401, 403}
    parameters = spec.get("parameters") or []
    if parameters or spec.get("requestBody"):
        codes.add(422)
    if "{" in path:
        codes |= {400, 404, 422}
    if spec.get("requestBody"):
        codes |= {400, 413}
    for code in sorted(codes):
        if code not in responses and str(code) not in responses:
            responses[code] = {"description": _ERROR_TEXT[code],
                               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}


def _error_schemas() -> dict[str, Any]:
    from siaga.core.api_support import ErrorOut

    schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    found = schema.pop("$defs", {})
    return {"ErrorOut": schema, **found}


class JsonParser(Parser):
    """Remembers why a body could not be parsed, so the 400 answer can say it; refuses (422, naming the field)
    what no database stores as sent, before any operation sees it."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            data = super().parse_body(request)
        except Exception as exc:
            request._siaga_parse_error = f"the body is not valid JSON: {exc}"  # type: ignore[attr-defined]
            raise
        problem = first_unstorable(data)
        if problem is not None:
            request._siaga_invalid = (problem[0] or "body", problem[1])  # type: ignore[attr-defined]
            raise ValueError(problem[1])
        return data


api = SiagaAPI(
    parser=JsonParser(),
    title="Siaga112 API",
    version="1",
    description=(
        "112 calls, CTI, AML, caller blocking, incidents and dispatches, shifts, reports, warnings (CAP) and "
        "hazard feeds. Authenticate with "
        "`Authorization: Bearer <token>` (users: sgu_..., integrations: sgi_...), an HMAC signature "
        "(X-Siaga-Integration, X-Siaga-Timestamp, X-Siaga-Signature) or the browser session with its CSRF "
        "token. Times are UTC (ISO 8601). Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    urls_namespace="api-v1",
    docs_decorator=login_required,
)


def _json(request: HttpRequest, status: int, code: str, message: str, field: str | None = None) -> HttpResponse:
    return api.create_response(request, error_body(code, message, field), status=status)


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return _json(request, exc.status, exc.code, exc.localized(), exc.field)


@api.exception_handler(FormatError)
def _format_error(request: HttpRequest, exc: FormatError) -> HttpResponse:
    return _json(request, 422, "invalid", exc.message, exc.field)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    parts = []
    first_field = None
    for error in exc.errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        name = ".".join(loc) or "body"
        first_field = first_field or name
        parts.append(f"{name}: {_plain_message(error)}")
    return _json(request, 422, "invalid", "; ".join(parts) or str(pgettext_lazy("error", "invalid input")), first_field)


# pydantic's error types as a person reads them, in the request's language; the values come from its ctx.
_PYDANTIC = {
    "missing": pgettext_lazy("error", "is required"),
    "string_too_long": pgettext_lazy("error", "is longer than {max_length} characters"),
    "too_long": pgettext_lazy("error", "has more than {max_length} items"),
    "less_than_equal": pgettext_lazy("error", "must be at most {le}"),
    "less_than": pgettext_lazy("error", "must be less than {lt}"),
    "greater_than_equal": pgettext_lazy("error", "must be at least {ge}"),
    "greater_than": pgettext_lazy("error", "must be more than {gt}"),
    "int_parsing": pgettext_lazy("error", "must be a whole number"),
    "int_type": pgettext_lazy("error", "must be a whole number"),
    "int_from_float": pgettext_lazy("error", "must be a whole number"),
    "float_parsing": pgettext_lazy("error", "must be a number"),
    "float_type": pgettext_lazy("error", "must be a number"),
    "bool_parsing": pgettext_lazy("error", "must be true or false"),
    "bool_type": pgettext_lazy("error", "must be true or false"),
    "string_type": pgettext_lazy("error", "must be text"),
    "datetime_parsing": pgettext_lazy("error", "must be a date and time (ISO 8601, with a time zone)"),
    "datetime_from_date_parsing": pgettext_lazy("error", "must be a date and time (ISO 8601, with a time zone)"),
    "datetime_type": pgettext_lazy("error", "must be a date and time (ISO 8601, with a time zone)"),
    "timezone_aware": pgettext_lazy("error", "must carry a time zone"),
    "literal_error": pgettext_lazy("error", "must be one of {expected}"),
    "enum": pgettext_lazy("error", "must be one of {expected}"),
    "list_type": pgettext_lazy("error", "must be a list"),
    "dict_type": pgettext_lazy("error", "must be an object"),
    "model_attributes_type": pgettext_lazy("error", "must be an object"),
}


def _plain_message(error: dict[str, Any]) -> str:
    """pydantic's message, in the request's language where we know the kind (its English otherwise)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    pattern = str(ctx.get("pattern", ""))
    if kind == "string_too_short" or (kind == "string_pattern_mismatch" and pattern == r"\S"):
        return str(pgettext_lazy("error", "is empty: write something"))
    template = _PYDANTIC.get(kind)
    if template is not None:
        try:
            return str(template).format(**{k: v for k, v in ctx.items() if isinstance(v, (str, int, float))})
        except (KeyError, IndexError, ValueError):
            pass
    return str(error.get("msg", "invalid"))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _json(request, 401, "unauthenticated", str(pgettext_lazy(
        "error", "authentication required: send Authorization: Bearer <token>, a signed request, or log in")))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    invalid = getattr(request, "_siaga_invalid", None)
    if invalid and exc.status_code == 400:
        return _json(request, 422, "invalid", invalid[1], invalid[0])
    parse_error = getattr(request, "_siaga_parse_error", None)
    if parse_error and exc.status_code == 400:
        return _json(request, 400, "malformed", parse_error)
    return _json(request, exc.status_code, _STATUS_CODES.get(exc.status_code, "error"), str(exc.message))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _json(request, 404, "not_found", str(exc) or str(pgettext_lazy("error", "not found")))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    from django.conf import settings

    return _json(request, 413, "too_large", str(pgettext_lazy("error", "the body is larger than {size} bytes")).format(
        size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    if database_unavailable(exc):  # the sender tries again (a PBX retries a 5xx; a 503 says when)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        close_old_connections()
        response = _json(request, 503, "database_unavailable", unavailable_message())
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    log.exception("unhandled API error on %s %s", request.method, request.path)
    return _json(request, 500, "server_error", str(pgettext_lazy("error", "internal error; it has been logged")))


def _register() -> None:
    from siaga.alerts.api import router as alerts_router
    from siaga.calls.api import router as calls_router
    from siaga.core.api import router as core_router
    from siaga.incidents.api import router as incidents_router
    from siaga.reports.api import router as reports_router
    from siaga.shifts.api import router as shifts_router

    api.add_router("", core_router)
    api.add_router("", calls_router)
    api.add_router("", incidents_router)
    api.add_router("", reports_router)
    api.add_router("", shifts_router)
    api.add_router("", alerts_router)


_register()
