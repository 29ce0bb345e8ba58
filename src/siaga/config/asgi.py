"""ASGI entry point (``siaga serve`` runs it under uvicorn).

Everything is Django, except ``POST /api/v1/cti/events``, which the CTI lane (:mod:`siaga.calls.ingest`)
answers on the event loop with group commit: same authentication, validation, action and answers as
the django-ninja operation of the same path, a fraction of the cost per event.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga.config.settings")
django_application = get_asgi_application()

from siaga.calls import ingest  # noqa: E402  (needs the apps loaded by get_asgi_application)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == ingest.PATH:
        await ingest.asgi_endpoint(scope, receive, send)
    else:
        await django_application(scope, receive, send)
