"""Leases: work that must run on one node at a time, held in the database all nodes share.

A lease is a row (:class:`~siaga.core.models.Lease`) naming its holder and until when it holds. Taking or
renewing it is one conditional UPDATE, "set me as holder until now + ttl where I am the holder or the
lease has expired", so two nodes can never both succeed: on PostgreSQL the second UPDATE waits for the
first to commit and then finds the row no longer matches; on SQLite writers are serialised. The times are
the database's (``now()``), the one clock the nodes share: a node whose own clock is wrong neither steals a
lease early nor keeps one late.

The holder stops trusting its lease before the database would give it away: :meth:`Lease.held` is true
only until ``ttl - margin`` after the *start* of the last successful renewal (measured on the monotonic
clock), which is earlier than the ``expires_at`` that renewal wrote. A holder that cannot reach the
database therefore stops its work before another node can start it, and a node killed with kill -9 is
replaced once its lease expires (``SIAGA_LEASE_SECONDS``, 6 s by default).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import Now

from siaga.core.models import Lease as LeaseRow

log = logging.getLogger("siaga.leases")
EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


def node_name() -> str:
    """This process as a lease holder: SIAGA_NODE_NAME (or the host name), the process id and a random tag,
    so a restarted process (same pid in a container) is a new holder."""
    from django.conf import settings

    base = getattr(settings, "NODE_NAME", "") or socket.gethostname()
    return f"{base}:{os.getpid()}:{secrets.token_hex(3)}"[:200]


class Lease:
    """One lease as this node sees it. Not thread-safe: one thread (its keeper) calls :meth:`acquire`."""

    def __init__(self, name: str, holder: str, ttl: float, margin: float | None = None) -> None:
        if ttl <= 1:
            raise ValueError(f"a lease of {ttl} s is too short to renew; use 2 s or more")
        self.name = name
        self.holder = holder
        self.ttl = float(ttl)
        self.margin = min(1.0, self.ttl / 4) if margin is None else margin
        self.generation: int | None = None
        self._valid_until = 0.0
        self._row_exists = False

    def held(self) -> bool:
        """True while this node may do the lease's work (cheap: no query)."""
        return time.monotonic() < self._valid_until

    def remaining(self) -> float:
        return max(0.0, self._valid_until - time.monotonic())

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, renew it if it is ours; True if this node holds it now.

        A database error is logged and answers whether the last renewal is still good."""
        started = time.monotonic()
        try:
            self._ensure_row()
            until = ExpressionWrapper(Now() + timedelta(seconds=self.ttl), output_field=DateTimeField())
            mine = Q(holder=self.holder)
            updated = LeaseRow.objects.filter(Q(pk=self.name) & (mine | Q(expires_at__lt=Now()))).update(
                generation=Case(When(mine, then=F("generation")), default=F("generation") + 1),
                acquired_at=Case(When(mine, then=F("acquired_at")), default=Now()),
                holder=Value(self.holder), renewed_at=Now(), expires_at=until)
            if not updated:
                self._valid_until = 0.0
                self.generation = None
                return False
            generation = (LeaseRow.objects.filter(pk=self.name, holder=self.holder)
                          .values_list("generation", flat=True).first())
        except DatabaseError as exc:
            close_old_connections()
            if self.held():
                log.warning("lease %s: cannot renew (%s); held for %.1f s more", self.name, exc, self.remaining())
            else:
                log.warning("lease %s: cannot reach the database (%s)", self.name, exc)
            return self.held()
        if generation is None:  # taken over between the update and the read (cannot happen within ttl)
            self._valid_until = 0.0
            return False
        self.generation = int(generation)
        self._valid_until = started + self.ttl - self.margin
        return True

    def release(self) -> None:
        """Give the lease up now (a clean stop), so another node takes over at its next try."""
        was = self.held()
        self._valid_until = 0.0
        self.generation = None
        try:
            past = ExpressionWrapper(Now() - timedelta(seconds=1), output_field=DateTimeField())
            LeaseRow.objects.filter(pk=self.name, holder=self.holder).update(expires_at=past, holder="")
        except DatabaseError as exc:
            close_old_connections()
            if was:
                log.warning("lease %s: cannot release (%s); it expires by itself", self.name, exc)

    def _ensure_row(self) -> None:
        if self._row_exists:
            return
        try:
            with transaction.atomic():
                LeaseRow.objects.get_or_create(name=self.name, defaults={"expires_at": EPOCH})
        except IntegrityError:  # created by another node meanwhile
            pass
        self._row_exists = True


def holders() -> dict[str, dict[str, object]]:
    """Every lease in the database: holder, generation and whether it is in force (by the database's clock)."""
    rows = LeaseRow.objects.annotate(now=Now()).values(
        "name", "holder", "generation", "acquired_at", "renewed_at", "expires_at", "now")
    result: dict[str, dict[str, object]] = {}
    for row in rows:
        live = bool(row["holder"]) and row["expires_at"] > row["now"]
        result[row["name"]] = {"holder": row["holder"] if live else "", "generation": row["generation"],
                               "acquired_at": row["acquired_at"], "renewed_at": row["renewed_at"],
                               "expires_at": row["expires_at"], "in_force": live}
    return result
