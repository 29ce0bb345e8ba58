"""Bahasa Indonesia unless the user chose otherwise.

Django's LocaleMiddleware follows the browser's Accept-Language; in a command centre the browsers are
often set to English while the users read Indonesian. Here the language is the one chosen with the
switch (its cookie), else ``LANGUAGE_CODE`` (``id``).

The API (``/api/``) also honours ``Accept-Language`` when no language was chosen with the switch: a script
or another command-centre system asks for English errors with ``Accept-Language: en``; the console's own
scripts send the language of the page they run in, so a browser set to English does not change it.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class IndonesianFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        if chosen not in supported and request.path.startswith("/api/"):
            language = _accepted(request.headers.get("Accept-Language", ""), supported) or language
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request: HttpRequest, response: HttpResponse) -> Any:
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _accepted(header: str, supported: set[str]) -> str | None:
    """The supported language ``header`` prefers most (``en-US;q=0.8, id;q=0.9`` -> ``id``), or None."""
    best: tuple[float, str] | None = None
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        if code in supported and quality > 0 and (best is None or quality > best[0]):
            best = (quality, code)
    return best[1] if best else None
