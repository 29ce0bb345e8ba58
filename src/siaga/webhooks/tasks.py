"""Sending webhook deliveries, the outbox's ``webhooks`` lane (:mod:`siaga.core.outbox`): claim what is due, POST
it signed, record every attempt, try again by the outbox's policy on failure.

Delivery is at least once: a worker holds a delivery for the policy's lease while sending; if it dies, the
lease runs out and another worker sends again. Receivers deduplicate with ``X-Siaga-Delivery`` (the event
id). On PostgreSQL several workers claim with ``SELECT ... FOR UPDATE SKIP LOCKED``; SQLite has one writer.

The body is the JSON payload; headers: ``X-Siaga-Event`` (topic), ``X-Siaga-Delivery`` (event id),
``X-Siaga-Timestamp`` (Unix seconds) and ``X-Siaga-Signature: sha256=<hex>``, the HMAC-SHA256 of
``"<timestamp>." + body`` with the webhook's secret (the same scheme PBXs use towards Siaga112), and with a
``partner_name`` also ``X-Siaga-Integration``: another Siaga112 takes it as its integration of that name.
A webhook of format ``eido`` sends the incident's EIDO document alone (and only for incident events).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime

import httpx
from django.db import transaction
from django.utils import timezone

from siaga.core import outbox
from siaga.core.auth import sign
from siaga.webhooks.models import Attempt, Delivery, DeliveryStatus

log = logging.getLogger("siaga.webhooks")
TIMEOUT = 10.0


def _claim(now: datetime, limit: int) -> list[Delivery]:
    return outbox.claim(Delivery.objects.select_related("webhook"), due=[DeliveryStatus.PENDING,
                        DeliveryStatus.RETRYING], sending=DeliveryStatus.SENDING, now=now, limit=limit)


def _send(delivery: Delivery, client: httpx.Client) -> tuple[int | None, str, int]:
    webhook = delivery.webhook
    # format "eido": the body is the incident's EIDO document alone, for a partner's POST /api/v1/eido
    content = delivery.payload.get("eido", {}) if webhook.format == "eido" else delivery.payload
    body = json.dumps(content, separators=(",", ":"), default=str).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "Siaga112-webhook/1",
               "X-Siaga-Event": delivery.topic, "X-Siaga-Delivery": str(delivery.event_id),
               "X-Siaga-Timestamp": stamp, "X-Siaga-Signature": sign(webhook.secret, stamp, body)}
    if webhook.partner_name:
        headers["X-Siaga-Integration"] = webhook.partner_name
    started = time.monotonic()
    try:
        response = client.post(delivery.webhook.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], int((time.monotonic() - started) * 1000)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}: {response.text[:200]}"
    return response.status_code, error, int((time.monotonic() - started) * 1000)


def deliver_due(now: datetime | None = None, limit: int = 50, client: httpx.Client | None = None) -> int:
    """Send every due delivery once; returns how many were attempted."""
    moment = now or timezone.now()
    claimed = _claim(moment, limit)
    if not claimed:
        return 0
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT)
    try:
        for delivery in claimed:
            try:
                status_code, error, duration = _send(delivery, http)
            except Exception as exc:  # a bad row (a header that cannot be encoded) fails alone, as a try
                log.exception("webhook delivery %s could not be sent", delivery.pk)
                status_code, error, duration = None, f"{type(exc).__name__}: {exc}"[:500], 0
            number = delivery.attempts + 1
            with transaction.atomic():
                Attempt.objects.create(delivery=delivery, number=number, at=timezone.now(), status_code=status_code,
                                       error=error, duration_ms=duration)
                update: dict[str, object] = {"attempts": number, "lease_until": None, "last_error": error}
                verdict = outbox.after(number, error, moment)
                if verdict.state == "done":
                    update.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now())
                elif verdict.state == "gave_up":
                    update.update(status=DeliveryStatus.GAVE_UP)
                    log.error("webhook %s gave up on %s after %d attempts: %s", delivery.webhook, delivery.event_id,
                              number, error)
                else:
                    update.update(status=DeliveryStatus.RETRYING, next_attempt_at=verdict.at)
                Delivery.objects.filter(pk=delivery.pk).update(**update)
    finally:
        if own_client:
            http.close()
    return len(claimed)


def resend(delivery_ids: list[int]) -> int:
    """An admin sends deliveries again (a new attempt row each time; the event id stays the same)."""
    return Delivery.objects.filter(pk__in=delivery_ids).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), lease_until=None)


class _Sender:
    """The lane's work: one HTTP client kept open between rounds (keep-alive to the receivers)."""

    def __init__(self) -> None:
        self.client: httpx.Client | None = None
        self.lock = threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            if self.client is None:
                self.client = httpx.Client(timeout=TIMEOUT)
            return deliver_due(client=self.client)


def lane(interval: float = 1.0) -> outbox.Lane:
    """The ``webhooks`` lane of the outbox (the ``webhooks`` role)."""
    return outbox.Lane("webhooks", _Sender(), interval=interval)
