"""Sending alert deliveries: claim what is due, send it through its channel, back off on failure.

A worker holds a delivery for ``LEASE`` while it sends. Sent deliveries are never sent again by the
dispatcher (the row is unique per alert, channel and target); only an admin's resend queues one again.
If a worker dies between sending and recording, the lease runs out and the delivery is sent once more:
at least once, which MQTT (retained, same payload), webhooks (same ``X-Siaga-Delivery``) and the WAV
(same file) absorb; an e-mail could arrive twice in that case only.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from siaga.alerts import actions, channels
from siaga.alerts.channels import ChannelError
from siaga.alerts.models import Alert, Delivery, DeliveryAttempt, DeliveryStatus

log = logging.getLogger("siaga.alerts")
BACKOFF = [timedelta(seconds=s) for s in (2, 5, 15, 30, 60, 120, 300, 600, 1800)]
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(seconds=120)


def _claim(now: datetime, limit: int) -> list[Delivery]:
    with transaction.atomic():
        due = Delivery.objects.filter(
            Q(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRYING], next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
        ).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        claimed = list(due[:limit])
        if claimed:
            Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
                status=DeliveryStatus.SENDING, lease_until=now + LEASE)
        return claimed


def _record(delivery: Delivery, moment: datetime, error: str, result: dict[str, object], duration_ms: int = 0,
            started: datetime | None = None) -> None:
    number = delivery.attempts + 1
    update: dict[str, object] = {"attempts": number, "lease_until": None, "last_error": error[:500]}
    if delivery.first_attempt_at is None:
        update["first_attempt_at"] = moment
    if not error:
        update.update(status=DeliveryStatus.SENT, sent_at=timezone.now(), result=result)
    elif number >= MAX_ATTEMPTS:
        update.update(status=DeliveryStatus.GAVE_UP)
        log.error("alert delivery %s:%s gave up after %d attempts: %s", delivery.channel, delivery.target, number,
                  error)
    else:
        update.update(status=DeliveryStatus.RETRYING, next_attempt_at=moment + BACKOFF[number - 1])
        log.warning("alert delivery %s:%s failed (attempt %d): %s", delivery.channel, delivery.target, number, error)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(**update)
        # one row per try (a lease that ran out and a retry by another worker: the same number is one try)
        DeliveryAttempt.objects.get_or_create(delivery_id=delivery.pk, number=number, defaults={
            "at": started or moment, "ok": not error, "error": error[:500], "duration_ms": duration_ms,
            "result": result if not error else {}})


def send_due(now: datetime | None = None, limit: int = 50, channel_names: tuple[str, ...] | None = None) -> int:
    """Send every due delivery once; returns how many were attempted."""
    moment = now or timezone.now()
    claimed = _claim(moment, limit)
    if channel_names is not None:
        skipped = [d for d in claimed if d.channel not in channel_names]
        if skipped:
            Delivery.objects.filter(pk__in=[d.pk for d in skipped]).update(status=DeliveryStatus.QUEUED,
                                                                          lease_until=None)
        claimed = [d for d in claimed if d.channel in channel_names]
    alerts = {a.pk: a for a in Alert.objects.filter(pk__in={d.alert_id for d in claimed})}
    for delivery in claimed:
        channel = channels.get(delivery.channel)
        error, result = "", {}
        started, clock = timezone.now(), time.monotonic()
        if channel is None:
            error = f"the channel {delivery.channel!r} is not available in this process"
        else:
            try:
                result = channel.send(delivery, alerts[delivery.alert_id])
            except ChannelError as exc:
                error = str(exc) or type(exc).__name__
            except Exception as exc:  # a bug in a channel must not stop the others
                log.exception("channel %s crashed", delivery.channel)
                error = f"{type(exc).__name__}: {exc}"
        _record(delivery, moment, error, result, int((time.monotonic() - clock) * 1000), started)
    return len(claimed)


def reconcile() -> None:
    """Channels that keep a state (MQTT's retained topics) bring it up to what is in force now: expiries
    send no message, and a broker may have been away."""
    for channel in channels.active():
        fix = getattr(channel, "reconcile", None)
        if fix is None:
            continue
        try:
            fix()
        except ChannelError as exc:
            log.warning("channel %s could not reconcile its state: %s", channel.name, exc)
        except Exception:
            log.exception("channel %s crashed reconciling its state", channel.name)


class Dispatcher(threading.Thread):
    """Background sender inside `siaga serve` (or `siaga worker`): woken when deliveries are queued."""

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(name="siaga-alerts", daemon=True)
        self.interval = interval
        self.stopping = threading.Event()
        self.wake = threading.Event()
        actions.on_new_deliveries(self.wake.set)

    def run(self) -> None:
        last_sweep = 0.0
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                sent = send_due()
                if timezone.now().timestamp() - last_sweep > 30:
                    actions.expire_threads()
                    reconcile()
                    last_sweep = timezone.now().timestamp()
            except Exception:
                log.exception("alert dispatcher loop failed")
                close_old_connections()
                sent = 0
            if not sent:
                self.wake.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
