"""The ``sms`` role: the one thread of a deployment that hands SMS to the gateway, at the gateway's rate.

Each round it sends the due dispatch and reply messages first (a crew waits for its dispatch), then a batch
of warning deliveries (``SIAGA_SMS_CONCURRENCY`` requests in flight, at most ``SIAGA_SMS_RATE`` a second),
so that a dispatch waits for at most one batch of a warning's fan-out. It is a singleton role (one node
holds its lease), so the rate is the deployment's, not each node's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings

from siaga.alerts import actions
from siaga.alerts import dispatch as alert_dispatch
from siaga.core.outbox import Lane
from siaga.sms import outbox

log = logging.getLogger("siaga.sms")


def batch_size() -> int:
    """Warning deliveries per round: about two seconds of the gateway's rate (a dispatch waits at most that)."""
    return max(settings.SMS_CONCURRENCY * 4, min(500, int(settings.SMS_RATE * 2)))


def send_round(guard: Callable[[], bool] = lambda: True) -> int:
    """Due dispatches and replies first, then one batch of warning deliveries; how many were handed over."""
    if not guard():
        return 0
    done = outbox.send_queued(limit=100)
    if guard():
        done += alert_dispatch.send_due(limit=batch_size(), channel_names=("sms",))
    return done


def lane(guard: Callable[[], bool] = lambda: True, interval: float = 1.0) -> Lane:
    """The ``sms`` lane of the outbox (the ``sms`` role, one node's), woken when messages or SMS deliveries are
    queued."""
    worker = Lane("sms", lambda: send_round(guard), interval=interval, guard=guard)
    outbox.on_queued(worker.wake)
    actions.on_new_deliveries(worker.wake)
    return worker
