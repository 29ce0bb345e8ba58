"""The audit log's hash chain: tamper evidence on top of the append-only table.

The database already refuses UPDATE of an audit row (and DELETE on PostgreSQL), but whoever owns the
database can switch triggers off. The chain makes such a rewrite visible: every committed audit row gets a
:class:`~siaga.core.models.AuditSeal` whose ``hash`` is ``SHA-256(prev_hash + "\\n" + canonical row)``, where
the canonical row is its id, time (UTC, microseconds), actor, action, object, before, after and note as
sorted-key compact JSON. Changing a sealed row, deleting one (SQLite cannot refuse a raw DELETE; the seal's
foreign key then does), or removing or reordering seals breaks the chain at that point. Rewriting the whole
chain after a change is only caught against a head hash kept elsewhere: ``siaga audit verify`` prints it,
and the daily report carries it.

Seals are added in commit order, not id order: :func:`seal_pending` runs in its own short transaction after
each audited transaction commits (``transaction.on_commit``), holding only the chain head's lock, so it
cannot deadlock with the actions' own row locks, and on PostgreSQL a row whose transaction committed late
is simply sealed later. In ``siaga serve`` / ``siaga worker`` a :class:`Sealer` thread does it, woken by
the commit, so that the CTI lane's batches (their audit rows are bulk-inserted) never wait for it; in
other processes (commands, tests) the commit seals at once. If a process dies between commit and seal,
the next seal (or ``siaga audit verify``, or the start of ``siaga serve``) seals what was left.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone

from siaga.core.models import AuditChainHead, AuditLog, AuditSeal

log = logging.getLogger("siaga.audit")
WINDOW = timedelta(hours=1)  # after a commit, only rows this recent are looked for (an index on `at`)
LATE = timedelta(minutes=10)  # an unsealed row older than this is reported by verify


def canonical(row: Any) -> bytes:
    """The bytes of a row that its seal covers (works on historical models in migrations too)."""
    at: datetime = row.at
    content = {
        "id": row.pk, "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_user_id": row.actor_user_id, "actor": row.actor, "action": row.action,
        "object_type": row.object_type, "object_id": row.object_id,
        "before": row.before, "after": row.after, "note": row.note,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, row: Any) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(row)).hexdigest()


def _head(head_model: Any = AuditChainHead) -> Any:
    head_model.objects.get_or_create(name="default")
    return head_model.objects.select_for_update().get(name="default")


def seal_pending(window: timedelta | None = WINDOW, *, models: tuple[Any, Any, Any] | None = None) -> int:
    """Seal every committed audit row that has no seal yet (those of the last ``window``; None: all), in id
    order, extending the chain. Returns how many were sealed."""
    log_model, seal_model, head_model = models or (AuditLog, AuditSeal, AuditChainHead)
    with transaction.atomic():
        head = _head(head_model)
        rows = log_model.objects.filter(seal__isnull=True)
        if window is not None:
            rows = rows.filter(at__gte=timezone.now() - window)
        prev, count, now = head.last_hash, 0, timezone.now()
        batch = []
        for row in rows.order_by("id").iterator(chunk_size=1000):
            digest = link(prev, row)
            batch.append(seal_model(audit_id=row.pk, prev_hash=prev, hash=digest, sealed_at=now))
            prev, count = digest, count + 1
            if len(batch) == 1000:
                seal_model.objects.bulk_create(batch)
                batch = []
        seal_model.objects.bulk_create(batch)
        if count:
            head_model.objects.filter(pk=head.pk).update(last_hash=prev, seals=head.seals + count, updated_at=now)
    return count


def seal_soon() -> None:
    """Called wherever audit rows are written: seal after the surrounding transaction commits (outside a
    transaction: now)."""
    transaction.on_commit(_committed, robust=True)


def _committed() -> None:
    sealer = Sealer.running
    if sealer is not None and sealer.is_alive():
        sealer.wake.set()
    else:
        _seal_quietly()


def _seal_quietly() -> int:
    try:
        return seal_pending()
    except Exception:  # the action has committed; its row is sealed by the next seal or by verify
        log.exception("audit chain: sealing failed; the rows stay unsealed until the next seal")
        return 0
    finally:
        if threading.current_thread().name == Sealer.NAME:
            close_old_connections()


class Sealer(threading.Thread):
    """Seals in the background of ``siaga serve`` / ``siaga worker``: woken by each audited commit, and once a
    minute anyway (for rows written by another process that has no sealer)."""

    NAME = "siaga-audit-sealer"
    running: Sealer | None = None

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__(name=self.NAME, daemon=True)
        self.interval = interval
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.sealed = 0

    def start(self) -> None:
        super().start()
        Sealer.running = self

    def run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait(self.interval)
            self.wake.clear()
            if not self.stopping.is_set():
                self.sealed += _seal_quietly()
        self.sealed += _seal_quietly()  # what the last commits left

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        if Sealer.running is self:
            Sealer.running = None


@dataclass
class Report:
    seals: int = 0
    rows: int = 0
    unsealed: int = 0
    head: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(max_problems: int = 20) -> Report:
    """Walk the chain from its start: every seal must follow the one before and match its row's content now;
    the head must be the last seal; no row may stay unsealed for long."""
    report = Report(rows=AuditLog.objects.count())
    problems = report.problems

    def problem(text: str) -> None:
        if len(problems) < max_problems:
            problems.append(text)

    prev = ""
    seals = AuditSeal.objects.order_by("id").values_list("id", "audit_id", "prev_hash", "hash")
    chunk: list[tuple[int, int, str, str]] = []

    def check(chunk: list[tuple[int, int, str, str]], prev: str) -> str:
        rows = AuditLog.objects.in_bulk([audit_id for _, audit_id, _, _ in chunk])
        for pk, audit_id, prev_hash, digest in chunk:
            if prev_hash != prev:
                problem(f"seal {pk} (audit row {audit_id}) does not follow the seal before it: "
                        f"seals were removed, reordered or rewritten")
            row = rows.get(audit_id)
            if row is None:
                problem(f"audit row {audit_id}, sealed by seal {pk}, is gone: it was deleted")
            elif link(prev_hash, row) != digest:
                problem(f"audit row {audit_id} ({row.action}, {row.at:%Y-%m-%d %H:%M:%S} UTC) was changed after "
                        f"it was sealed")
            prev = digest
        return prev

    for item in seals.iterator(chunk_size=1000):
        report.seals += 1
        chunk.append(item)
        if len(chunk) == 1000:
            prev, chunk = check(chunk, prev), []
    prev = check(chunk, prev)
    report.head = prev
    head = AuditChainHead.objects.filter(name="default").first()
    if head is not None and (head.last_hash, head.seals) != (prev, report.seals):
        problem(f"the chain head says {head.seals} seals ending {head.last_hash[:12] or '-'}, the table has "
                f"{report.seals} ending {prev[:12] or '-'}: seals were removed from the end or added outside")
    report.unsealed = AuditLog.objects.filter(seal__isnull=True).count()
    late = AuditLog.objects.filter(seal__isnull=True, at__lt=timezone.now() - LATE).order_by("id")
    for row in late[:max_problems]:
        problem(f"audit row {row.pk} ({row.action}, {row.at:%Y-%m-%d %H:%M:%S} UTC) was never sealed")
    return report
