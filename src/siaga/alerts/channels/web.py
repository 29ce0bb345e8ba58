"""The public web channel: the public page, the Atom feed of CAP alerts and the public SSE stream.

An alert is on the page and in the feed as soon as it is committed; sending this delivery publishes it on
the public stream (``public.alert``), which open public pages and other systems listen to.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from siaga.alerts.models import Alert, Delivery
from siaga.core.events import get_bus


class WebChannel:
    name = "web"

    def enabled(self) -> bool:
        return True

    def targets(self, alert: Alert) -> list[str]:
        return ["public"]

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        from siaga.alerts.public import public_summary

        get_bus().publish("public.alert", public_summary(alert))
        return {"url": f"{settings.PUBLIC_URL}/peringatan/{alert.pk}/"}


CHANNEL = WebChannel()
