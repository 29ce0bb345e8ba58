"""ASGI entry point (``siaga serve`` runs it under uvicorn).

Everything is Django, except four paths answered on the event loop:

* ``POST /api/v1/cti/events``, the CTI lane (:mod:`siaga.calls.ingest`) with group commit: same
  authentication, validation, action and answers as the django-ninja operation of the same path;
* ``GET /live/events``, the Server-Sent Events stream of live updates (:mod:`siaga.console.live`);
* ``GET /peringatan/stream``, the public stream of warnings (no login: they are public);
* ``/sms/kannel/dlr/``, the SMS gateway's delivery reports (:func:`siaga.sms.views.asgi_dlr`).
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga.config.settings")
django_application = get_asgi_application()

from siaga.calls import ingest  # noqa: E402  (needs the apps loaded by get_asgi_application)
from siaga.config.collector import tune_collector  # noqa: E402
from siaga.console import live  # noqa: E402
from siaga.core.auditchain import start_sealer  # noqa: E402
from siaga.sms import views as sms_views  # noqa: E402
from siaga.sms.reports import use_writer as use_report_writer  # noqa: E402

# every server process seals its own commits in the background, off the request path (ADR 14)
start_sealer()
# and writes the SMS gateway's delivery reports that queued up, many in one transaction (siaga.sms.reports)
use_report_writer()


# many long-lived objects (one task, queue and protocol per open live stream): see siaga.config.collector
tune_collector()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        if scope["method"] == "POST" and scope["path"] == ingest.PATH:
            await ingest.asgi_endpoint(scope, receive, send)
            return
        if scope["method"] == "GET" and scope["path"] == live.PATH:
            await live.asgi_endpoint(scope, receive, send)
            return
        if scope["method"] == "GET" and scope["path"] == live.PUBLIC_PATH:
            await live.public_endpoint(scope, receive, send)
            return
        if scope["method"] in ("GET", "POST") and scope["path"] == sms_views.DLR_PATH:
            await sms_views.asgi_dlr(scope, receive, send)
            return
    await django_application(scope, receive, send)
