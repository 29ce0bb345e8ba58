"""Signed webhooks for alerts, to the subscriptions of the webhooks app whose topics include ``alert.``.

The body is JSON (``topic`` ``alert.issued``, the alert's summary and its CAP XML), signed as every
Siaga112 webhook is (``X-Siaga-Signature: sha256=`` HMAC of ``"<timestamp>." + body``).
``X-Siaga-Delivery`` is ``alert-<alert id>-<webhook id>``: the same on every retry, for deduplication.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from siaga.alerts.channels import ChannelError
from siaga.alerts.models import Alert, Delivery
from siaga.core.auth import sign

TIMEOUT = 10.0


class WebhookChannel:
    name = "webhook"

    def enabled(self) -> bool:
        return True

    def targets(self, alert: Alert) -> list[str]:
        from siaga.webhooks.models import Webhook

        return [f"webhook:{w.pk}" for w in Webhook.objects.filter(active=True).order_by("pk")
                if any("alert.".startswith(p) or p.startswith("alert.") for p in w.prefixes())]

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        from siaga.alerts.public import public_summary
        from siaga.webhooks.models import Webhook

        webhook = Webhook.objects.filter(pk=int(delivery.target.split(":", 1)[1])).first()
        if webhook is None or not webhook.active:
            raise ChannelError("the webhook was deleted or switched off")
        payload = {"id": f"alert-{alert.pk}-{webhook.pk}", "topic": "alert.issued",
                   "data": public_summary(alert), "cap": alert.xml}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "Siaga112-webhook/1",
                   "X-Siaga-Event": "alert.issued", "X-Siaga-Delivery": payload["id"],
                   "X-Siaga-Timestamp": stamp, "X-Siaga-Signature": sign(webhook.secret, stamp, body)}
        try:
            response = httpx.post(webhook.url, content=body, headers=headers, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise ChannelError(f"HTTP {response.status_code}: {response.text[:200]}")
        return {"status": response.status_code, "webhook": webhook.name}


CHANNEL = WebhookChannel()
