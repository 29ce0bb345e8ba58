"""Sending alert deliveries, the outbox's ``alerts`` lane (:mod:`siaga.core.outbox`): claim what is due, send it
through its channel, try again by the outbox's policy on failure.

A worker holds a delivery for the policy's lease while it sends. Sent deliveries are never sent again by
the dispatcher (the row is unique per alert, channel and target); only an admin's resend queues one again.
If a worker dies between sending and recording, the lease runs out and the delivery is sent once more:
at least once, which MQTT (retained, same payload), webhooks (same ``X-Siaga-Delivery``) and the WAV
(same file) absorb; an e-mail could arrive twice in that case only.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from siaga.alerts import actions, channels
from siaga.alerts.channels import ChannelError
from siaga.alerts.models import Alert, Delivery, DeliveryAttempt, DeliveryStatus
from siaga.core import outbox, rawsql

log = logging.getLogger("siaga.alerts")


def own_lanes() -> list[str]:
    """Channels sent by a lane of their own (SMS: thousands of rows), never by the shared dispatcher (even on
    a node where that channel is not configured: its lane runs where it is)."""
    return [c.name for c in channels.registered() if getattr(c, "own_lane", False)]


def _claim(now: datetime, limit: int, channel_names: tuple[str, ...] | None = None) -> list[Delivery]:
    rows = Delivery.objects.all()
    if channel_names is not None:
        rows = rows.filter(channel__in=channel_names)
    else:
        rows = rows.exclude(channel__in=own_lanes())
    return outbox.claim(rows, due=[DeliveryStatus.QUEUED, DeliveryStatus.RETRYING], sending=DeliveryStatus.SENDING,
                        now=now, limit=limit)


def _apply(delivery: Delivery, number: int, error: str, moment: datetime) -> None:
    """The outbox's verdict on try ``number`` written onto ``delivery`` (not saved)."""
    verdict = outbox.after(number, error, moment)
    if verdict.state == "retry":
        delivery.status, delivery.next_attempt_at = DeliveryStatus.RETRYING, verdict.at  # type: ignore[assignment]
    elif verdict.state == "gave_up":
        delivery.status = DeliveryStatus.GAVE_UP


def _record(delivery: Delivery, moment: datetime, error: str, result: dict[str, object], duration_ms: int = 0,
            started: datetime | None = None) -> None:
    number = delivery.attempts + 1
    update: dict[str, object] = {"attempts": number, "lease_until": None, "last_error": error[:500]}
    if delivery.first_attempt_at is None:
        update["first_attempt_at"] = moment
    if not error:
        update.update(status=DeliveryStatus.SENT, sent_at=timezone.now(), result=result)
    else:
        _apply(delivery, number, error, moment)
        update.update(status=delivery.status, next_attempt_at=delivery.next_attempt_at)
        if delivery.status == DeliveryStatus.GAVE_UP:
            log.error("alert delivery %s:%s gave up after %d attempts: %s", delivery.channel, delivery.target,
                      number, error)
        else:
            log.warning("alert delivery %s:%s failed (attempt %d): %s", delivery.channel, delivery.target, number,
                        error)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(**update)
        # one row per try (a lease that ran out and a retry by another worker: the same number is one try)
        DeliveryAttempt.objects.get_or_create(delivery_id=delivery.pk, number=number, defaults={
            "at": started or moment, "ok": not error, "error": error[:500], "duration_ms": duration_ms,
            "result": result if not error else {}})


def send_due(now: datetime | None = None, limit: int = 50, channel_names: tuple[str, ...] | None = None) -> int:
    """Send every due delivery once (of ``channel_names``; else of every channel without a lane of its own);
    returns how many were attempted."""
    moment = now or timezone.now()
    claimed = _claim(moment, limit, channel_names)
    alerts = {a.pk: a for a in Alert.objects.filter(pk__in={d.alert_id for d in claimed})}
    batched: dict[str, list[Delivery]] = {}
    for delivery in claimed:
        channel = channels.get(delivery.channel)
        if channel is not None and hasattr(channel, "send_many"):
            batched.setdefault(delivery.channel, []).append(delivery)
    for name, group in batched.items():
        _send_batch(channels.get(name), group, alerts, moment)
    for delivery in claimed:
        if delivery.channel in batched:
            continue
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


def _send_batch(channel: Any, deliveries: list[Delivery], alerts: dict[int, Alert], moment: datetime) -> None:
    """A channel that sends many deliveries at once (:meth:`send_many`), recorded in a few statements. A
    result ``{"superseded": ...}`` means the channel did not send it because a newer message of the same
    warning exists (an SMS fan-out still going when the warning was cancelled)."""
    started, clock = timezone.now(), time.monotonic()
    try:
        outcome = channel.send_many(deliveries, alerts)
    except ChannelError as exc:
        outcome = {d.pk: (str(exc) or type(exc).__name__, {}) for d in deliveries}
    except Exception as exc:
        log.exception("channel %s crashed", channel.name)
        outcome = {d.pk: (f"{type(exc).__name__}: {exc}", {}) for d in deliveries}
    duration = int((time.monotonic() - clock) * 1000)
    sent_at = timezone.now()
    rows, attempts = [], []
    for delivery in deliveries:
        error, result = outcome.get(delivery.pk, ("no outcome from the channel", {}))
        number = delivery.attempts + 1
        delivery.attempts, delivery.lease_until, delivery.last_error = number, None, error[:500]
        delivery.first_attempt_at = delivery.first_attempt_at or moment
        if not error and result.get("superseded"):  # a newer message of the warning went out: not this one
            delivery.status, delivery.result = DeliveryStatus.SUPERSEDED, result
        elif not error:
            delivery.status, delivery.sent_at, delivery.result = DeliveryStatus.SENT, sent_at, result
        else:
            _apply(delivery, number, error, moment)
        rows.append(delivery)
        attempts.append({"delivery": delivery.pk, "number": number, "at": started, "ok": not error,
                         "error": error[:500], "duration_ms": duration, "result": result if not error else {}})
    failed = sum(1 for d in rows if d.last_error)
    if failed:
        log.warning("alert deliveries %s: %d of %d failed (e.g. %s)", channel.name, failed, len(rows),
                    next(d.last_error for d in rows if d.last_error))
    with transaction.atomic():
        rawsql.update_rows(Delivery, rows, ["attempts", "lease_until", "last_error", "first_attempt_at", "status",
                                            "sent_at", "result", "next_attempt_at"])
        # one row per try (a lease that ran out and a retry by another worker: the same number is one try)
        rawsql.insert_rows(DeliveryAttempt, attempts, ignore_conflicts=True)


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


def sweep() -> None:
    """Every half minute beside the sending: warnings past their expiry end, channels reconcile their state."""
    actions.expire_threads()
    reconcile()


def lane(interval: float = 1.0) -> outbox.Lane:
    """The ``alerts`` lane of the outbox (the ``dissemination`` role), woken when deliveries are queued."""
    worker = outbox.Lane("alerts", send_due, interval=interval, every=[(30.0, sweep)])
    actions.on_new_deliveries(worker.wake)
    return worker
