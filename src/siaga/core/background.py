"""The background work of a Siaga112 process: webhook deliveries, alert dissemination, hazard polling, and
the DVB-T2 EWS carousel when SIAGA_EWS_UDP names where to send it. It first seals audit rows that an
earlier process left unsealed (siaga.core.auditchain).

`siaga serve` runs it beside the web server (unless --no-workers); `siaga worker` runs it alone.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings

log = logging.getLogger("siaga")


def start(*, polling: bool | None = None) -> list[threading.Thread]:
    from siaga.alerts.dispatch import Dispatcher
    from siaga.core.auditchain import seal_pending, start_sealer
    from siaga.webhooks.tasks import Worker

    try:  # rows a process left unsealed when it died between commit and seal (not rows slipped in by hand)
        if sealed := seal_pending("new") + seal_pending("recent"):
            log.warning("audit chain: sealed %d row(s) left unsealed by an earlier process", sealed)
    except Exception:
        log.exception("audit chain: cannot seal at start; `siaga audit verify` will")
    threads: list[Any] = [Worker(), Dispatcher()]
    for thread in threads:
        thread.start()
    threads.insert(0, start_sealer())
    if settings.HAZARD_POLLING if polling is None else polling:
        from siaga.hazards.poller import start_all

        pollers = start_all()
        log.info("polling %d hazard feeds every %g s", len(pollers), settings.POLL_INTERVAL_SECONDS)
        threads.extend(pollers)
    if settings.EWS_UDP:
        from siaga.broadcast.service import CarouselService

        carousel = CarouselService(settings.EWS_UDP)
        carousel.start()
        log.info("EWS carousel to %s", ", ".join(settings.EWS_UDP))
        threads.append(carousel)
    return threads


def stop(threads: list[Any]) -> None:
    for thread in threads:
        if hasattr(thread, "stop"):
            thread.stop()
        elif hasattr(thread, "stopping"):
            thread.stopping.set()
