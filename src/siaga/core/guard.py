"""Requests the application must answer with a clear 4xx before any view runs.

``RequestGuardMiddleware`` (first in the chain): a path with a NUL or another control character is a 400
(no database can look it up); a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 before it is read
(Django would raise deep inside a view, which became a 500); and under ``/api/`` every 400, 404 and 413 is
the API's JSON error body, never Django's HTML page (a client asking ``/api/v1/alerts/abc`` gets JSON that
says what it asked for).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from siaga.core.api_support import error_body

API_PREFIX = "/api/"


def _answer(request: HttpRequest, status: int, code: str, message: str, field: str | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return HttpResponse(json.dumps(error_body(code, message, field)), status=status,
                            content_type="application/json")
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        path = request.path
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
            return _answer(request, 400, "bad_request", "the path contains a control character (such as NUL)",
                           "path")
        declared = request.META.get("CONTENT_LENGTH") or ""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if declared.isdigit() and limit is not None and int(declared) > limit:
            return _answer(request, 413, "too_large", f"the body is {int(declared)} bytes; at most {limit}")
        response = self.get_response(request)
        if path.startswith(API_PREFIX) and response.status_code in (400, 404, 405, 413) and \
                not response.get("Content-Type", "").startswith("application/json"):
            messages = {404: f"no such resource: {path} (ids in paths are whole numbers)",
                        400: "bad request", 405: f"{request.method} is not allowed on {path}",
                        413: "the body is too large"}
            codes = {404: "not_found", 400: "bad_request", 405: "method_not_allowed", 413: "too_large"}
            replaced = _answer(request, response.status_code, codes[response.status_code],
                               messages[response.status_code])
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            return replaced
        return response
