"""Queueing webhook deliveries inside the writing transaction (the outbox pattern).

:func:`enqueue` runs within the action's transaction for every ``incident.*`` and ``dispatch.*`` event,
so a delivery exists if and only if the change it reports was committed. The payload carries the
event, the change's summary and, for incidents, the EIDO document as it was at that moment.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from siaga.webhooks.models import Delivery, Webhook

TOPICS = ("incident.", "dispatch.")


def _subscriptions() -> list[tuple[int, tuple[str, ...], str]]:
    # Read inside the writing transaction, never cached: a webhook deleted in another process must not
    # leave a delivery pointing at it (that would fail the incident write itself). Incident and dispatch
    # events are few; this is one small query each. A change that came from a partner is not sent back to it.
    from siaga.core.events import change_origin

    webhooks = Webhook.objects.filter(active=True).only("id", "topics", "partner_id", "format")
    origin = change_origin.get()
    return [(w.pk, w.prefixes(), w.format) for w in webhooks if origin is None or w.partner_id != origin]


def _incident_id(topic: str, data: dict[str, Any]) -> int | None:
    if topic.startswith("incident."):
        return data.get("id")
    return data.get("incident_id")


def enqueue(topic: str, data: dict[str, Any]) -> None:
    targets = [(pk, form) for pk, prefixes, form in _subscriptions() if any(topic.startswith(p) for p in prefixes)]
    if not targets:
        return
    from django.conf import settings

    from siaga.incidents.eido import document
    from siaga.incidents.models import Incident

    event_id = uuid.uuid4()
    now = timezone.now()
    payload: dict[str, Any] = {"id": str(event_id), "topic": topic, "occurred_at": now.isoformat(),
                               "source": settings.EIDO_ISSUER, "data": data}
    incident_id = _incident_id(topic, data)
    incident = Incident.objects.select_related("category", "kelurahan", "kecamatan").filter(pk=incident_id).first()
    if incident is not None:
        payload["eido"] = document(incident)
    Delivery.objects.bulk_create([Delivery(webhook_id=pk, event_id=event_id, topic=topic, payload=payload,
                                           next_attempt_at=now, created_at=now) for pk, form in targets
                                  if form != "eido" or incident is not None])  # an EIDO needs an incident
