"""The outbox: everything Siaga112 sends to the outside world leaves through it, with one retry policy.

Three kinds of rows wait in it, each in its own table because each is shown and audited where it belongs:
alert deliveries (``alerts.Delivery``: a warning to a channel and target), webhook deliveries
(``webhooks.Delivery``: an event to a subscriber) and SMS (``sms.Message``: a dispatch, a reply or a
warning's text to one phone). What they share lives here, once:

- :data:`POLICY`, the one retry policy: when a failed try is tried again and when the outbox gives up;
- :func:`claim`, taking due rows for this worker under a lease (``SELECT ... FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so nodes share the work; SQLite has one writer): a row whose worker died (kill -9) is taken
  again once its lease has run out, so nothing is lost;
- :func:`after`, what a try's outcome makes of a row (sent, tried again at a time, or given up);
- :class:`Lane`, the thread that works one kind of row: woken when rows are queued, polling otherwise.

Delivery is at least once: a worker killed between sending and recording leaves the row leased, and it is
sent again when the lease runs out. Each kind carries an identity its receivers deduplicate on (the
webhook's ``X-Siaga-Delivery``, the CAP identifier of an alert, the message key of an SMS in Kannel's
reports), and bench/crash_safety.py --deliveries counts what a receiver got under kill -9.

Lanes are separate threads on purpose (docs/decisions/0019-one-outbox.md): a webhook receiver that takes
its 10 s to time out, or an SMS gateway at 50 messages a second, must never hold up a tsunami warning's
delivery to the sirens and the EWS carousel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Model, Q, QuerySet

log = logging.getLogger("siaga.outbox")


@dataclass(frozen=True)
class RetryPolicy:
    """``backoff[n - 1]`` is the wait after failed try ``n``; after the last one the outbox gives up (an admin
    can send the row again). ``lease``: how long a worker holds a row it is sending."""

    backoff: tuple[timedelta, ...]
    lease: timedelta

    @property
    def max_attempts(self) -> int:
        return len(self.backoff) + 1

    def next_try(self, number: int, moment: datetime) -> datetime | None:
        """When try ``number`` (1-based) failed at ``moment``: the time of the next try, None to give up."""
        if number < 1:
            raise ValueError(f"try numbers start at 1, not {number}")
        if number >= self.max_attempts:
            return None
        return moment + self.backoff[number - 1]


# Quick at first (a siren's broker restarting, a receiver's deploy), then hourly for about six hours in all
# (a partner's server down for the afternoon still gets every event).
POLICY = RetryPolicy(
    backoff=tuple(timedelta(seconds=s) for s in (2, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 3600, 3600, 3600,
                                                  3600)),
    lease=timedelta(seconds=settings.OUTBOX_LEASE_SECONDS),  # 120 s unless SIAGA_OUTBOX_LEASE_SECONDS says
)


@dataclass(frozen=True)
class Next:
    """What a try's outcome makes of a row: ``done`` (sent), ``retry`` at ``at``, or ``gave_up``."""

    state: str
    at: datetime | None = None


def after(number: int, error: str, moment: datetime, policy: RetryPolicy = POLICY) -> Next:
    """The outcome of try ``number`` made at ``moment``: ``error`` empty when it was sent."""
    if not error:
        return Next("done")
    at = policy.next_try(number, moment)
    return Next("retry", at) if at is not None else Next("gave_up")


def claim(rows: QuerySet[Any], *, due: Sequence[str], sending: str, now: datetime, limit: int,
          policy: RetryPolicy = POLICY, due_field: str = "next_attempt_at", of: tuple[str, ...] = ("self",)
          ) -> list[Any]:
    """Take up to ``limit`` rows of ``rows`` that are due (a status in ``due`` and ``due_field`` <= now) or
    whose worker's lease has run out (status ``sending``), oldest first, and lease them to this worker for
    ``policy.lease``. Rows another worker holds are skipped, never waited for."""
    model: type[Model] = rows.model
    with transaction.atomic():
        wanted = rows.filter(Q(status__in=list(due), **{f"{due_field}__lte": now})
                             | Q(status=sending, lease_until__lt=now)).order_by(due_field, "id")
        if connection.features.has_select_for_update_skip_locked:
            wanted = wanted.select_for_update(skip_locked=True, of=of)
        taken = list(wanted[:limit])
        if taken:
            model._default_manager.filter(pk__in=[row.pk for row in taken]).update(
                status=sending, lease_until=now + policy.lease)
        return taken


class Lane(threading.Thread):
    """One kind of outbox row, worked by one thread of a node: ``work()`` sends what is due and says how many
    it took; the lane runs it again at once while there is work, else sleeps ``interval`` or until
    :meth:`wake` (rows were queued). ``guard``: the lane works only while it holds its role's lease (the
    ``sms`` role is one node's). ``every``: (seconds, function) pairs run that often beside the work."""

    def __init__(self, name: str, work: Callable[[], int], *, interval: float = 1.0,
                 guard: Callable[[], bool] = lambda: True,
                 every: Iterable[tuple[float, Callable[[], None]]] = ()) -> None:
        super().__init__(name=f"siaga-outbox-{name}", daemon=True)
        self.lane, self.work, self.interval, self.guard = name, work, interval, guard
        self.every = [(seconds, fn) for seconds, fn in every]
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self.rounds = 0

    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        import time

        last = {index: float("-inf") for index in range(len(self.every))}
        try:
            while not self.stopping.is_set():
                self._wake.clear()
                done = 0
                try:
                    if self.guard():
                        done = self.work()
                        for index, (seconds, fn) in enumerate(self.every):
                            if time.monotonic() - last[index] >= seconds:
                                fn()
                                last[index] = time.monotonic()
                except Exception:
                    log.exception("outbox lane %s: a round failed", self.lane)
                    close_old_connections()
                    done = 0
                self.rounds += 1
                if not done:
                    self._wake.wait(self.interval)
        finally:
            connections.close_all()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()
