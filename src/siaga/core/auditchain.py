"""The audit log's hash chain: tamper evidence on top of the append-only table.

The database already refuses UPDATE of an audit row (and DELETE on PostgreSQL), but whoever owns the
database can switch triggers off. The chain makes such a rewrite visible: every committed audit row gets a
:class:`~siaga.core.models.AuditSeal` whose ``hash`` is ``SHA-256(prev_hash + "\\n" + canonical row)``, where
the canonical row is its id, time (UTC, microseconds), actor, action, object, before, after and note as
sorted-key compact JSON. Changing a sealed row, deleting one (SQLite cannot refuse a raw DELETE; the seal's
foreign key then does), or removing or reordering seals breaks the chain at that point. Rewriting the whole
chain after a change is only caught against a head kept elsewhere: ``siaga audit head`` prints it, the
daily report carries it, and ``siaga audit verify --expect SEAL:HASH`` checks the chain still reaches it.

Seals are added in commit order, not id order: :func:`seal_pending` runs in its own short transaction after
each audited transaction commits (``transaction.on_commit``), holding only the chain head's lock, so it
cannot deadlock with the actions' own row locks; on PostgreSQL a row whose transaction committed after a
later id was sealed is found by the sealer's minutely look-back. Every server process runs a
:class:`Sealer` thread (:func:`start_sealer`), woken by the commit, so that the CTI lane's batches (their
audit rows are bulk-inserted) never wait for it; in other processes (commands, tests) the commit seals at
once. On SQLite a transaction seals its rows just before it commits instead (:func:`seal_soon`). If a
process dies between commit and seal, the next seal or the start of ``siaga serve`` seals what it left
above the head; ``siaga audit verify`` never seals (so a row slipped in by hand stays visible), and older
rows wait for a person's ``siaga audit seal``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from siaga.core import rawsql
from siaga.core.models import AuditChainHead, AuditLog, AuditSeal

log = logging.getLogger("siaga.audit")
RECENT_ROWS = 10_000  # how far back (in ids) the sealer's minutely sweep looks for late committers
DEBOUNCE_SECONDS = 0.2  # the sealer waits this long after a wake-up, to seal a burst of commits at once
LATE = timedelta(minutes=10)  # an unsealed row older than this is reported by verify


# the columns a seal covers, in this order (values_list of them is what sealing reads)
COVERED = ("id", "at", "actor_user_id", "actor", "action", "object_type", "object_id", "before", "after", "note")


def canonical(row: Any) -> bytes:
    """The bytes of a row that its seal covers: a model instance (historical ones in migrations too) or a
    tuple of the :data:`COVERED` values."""
    values = row if isinstance(row, tuple) else tuple(getattr(row, name) for name in COVERED)
    content = dict(zip(COVERED, values, strict=True))
    at: datetime = content["at"]
    content["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, row: Any) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(row)).hexdigest()


def _head(head_model: Any = AuditChainHead) -> Any:
    head_model.objects.get_or_create(name="default")
    return head_model.objects.select_for_update().get(name="default")


def seal_pending(scope: str = "new", *, models: tuple[Any, Any, Any] | None = None) -> int:
    """Seal committed audit rows that have no seal yet, in id order, extending the chain; how many.

    ``new``: the rows after the last sealed id (an index range: what each commit adds). ``recent``: also any
    unsealed row among the last :data:`RECENT_ROWS` ids, for a PostgreSQL transaction that committed after
    a later id was sealed (the sealer thread does this once a minute), and only rows written in the last
    :data:`LATE` (either way): a row slipped in below the head by hand with another time is never sealed by a
    sweep, it is reported by :func:`verify`. ``all``: every unsealed row (``siaga audit seal``, a person's decision).
    """
    if scope not in ("new", "recent", "all"):
        raise ValueError(f"unknown sealing scope {scope!r}")
    log_model, seal_model, head_model = models or (AuditLog, AuditSeal, AuditChainHead)
    with transaction.atomic():
        head = _head(head_model)
        if scope == "new":  # an index range; every row above the last sealed id is unsealed
            rows = log_model.objects.filter(id__gt=head.last_audit_id)
        else:
            rows = log_model.objects.filter(seal__isnull=True)
            if scope == "recent":
                rows = rows.filter(id__gt=max(0, head.last_audit_id - RECENT_ROWS),
                                   at__gte=timezone.now() - LATE, at__lte=timezone.now() + LATE)
        prev, count, now, last_id = head.last_hash, 0, timezone.now(), head.last_audit_id
        batch: list[dict[str, Any]] = []
        for row in rows.order_by("id").values_list(*COVERED).iterator(chunk_size=1000):
            digest = link(prev, row)
            batch.append({"audit_id": row[0], "prev_hash": prev, "hash": digest, "sealed_at": now})
            prev, count, last_id = digest, count + 1, max(last_id, row[0])
            if len(batch) == 1000:
                rawsql.insert_rows(seal_model, batch)
                batch = []
        rawsql.insert_rows(seal_model, batch)
        if count:
            head_model.objects.filter(pk=head.pk).update(last_hash=prev, seals=head.seals + count,
                                                         last_audit_id=last_id, updated_at=now)
    return count


def seal_soon() -> None:
    """Called wherever audit rows are written: seal after the surrounding transaction commits (outside a
    transaction: now). On SQLite, inside a transaction, seal at once instead: the transaction already holds
    the database's only write lock (IMMEDIATE), ids follow commit order and there are no row locks to
    deadlock on, while a sealer's own transaction would make the next writer wait in SQLite's busy backoff."""
    if connection.vendor == "sqlite" and connection.in_atomic_block:
        seal_pending("new")
        return
    transaction.on_commit(_committed, robust=True)


def _committed() -> None:
    sealer = Sealer.running
    if sealer is not None and sealer.is_alive():
        sealer.wake.set()
    else:
        _seal_quietly()


def _seal_quietly(scope: str = "new") -> int:
    try:
        return seal_pending(scope)
    except Exception:  # the action has committed; its row is sealed by the next seal or by verify
        log.exception("audit chain: sealing failed; the rows stay unsealed until the next seal")
        return 0
    finally:
        if threading.current_thread().name == Sealer.NAME:
            close_old_connections()


def start_sealer() -> Sealer:
    """The sealer thread of this process, started if there is none (``siaga serve`` and each of its worker
    processes; a forked process does not inherit the thread)."""
    with _starting:
        sealer = Sealer.running
        if sealer is None or not sealer.is_alive():
            sealer = Sealer()
            sealer.start()
        return sealer


_starting = threading.Lock()


class Sealer(threading.Thread):
    """Seals in the background of ``siaga serve`` / ``siaga worker``: woken by each audited commit (sealing
    what is new), and once a minute anyway, looking back for late committers and for rows written by a
    process without a sealer."""

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
            woken = self.wake.wait(self.interval)
            if woken and not self.stopping.is_set():
                self.stopping.wait(DEBOUNCE_SECONDS)  # let a burst of commits (the CTI lane's) gather
            self.wake.clear()
            if not self.stopping.is_set():
                self.sealed += _seal_quietly("new" if woken else "recent")
        self.sealed += _seal_quietly("recent")  # what the last commits left

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
    head_seal: int | None = None  # the id of the last seal: "<head_seal>:<head>" is what to keep elsewhere
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def anchor(self) -> str:
        return f"{self.head_seal}:{self.head}" if self.head_seal is not None else "0:"


def last_seal_anchor() -> str:
    """``<seal id>:<hash>`` of the last seal (``0:`` before the first): what `siaga audit head` prints."""
    last = AuditSeal.objects.order_by("-id").values_list("id", "hash").first()
    return f"{last[0]}:{last[1]}" if last else "0:"


def parse_anchor(text: str) -> tuple[int | None, str]:
    """``<seal id>:<hash>`` as ``siaga audit head`` prints it (or the daily report's seal and hash), or a bare
    hash; ValueError naming what is wrong."""
    text = text.strip()
    number, sep, digest = text.rpartition(":")
    if not sep:
        number, digest = "", text
    digest = digest.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{text!r} is not a head: expected <seal>:<64 hex digits> as `siaga audit head` prints")
    if number and not number.isdigit():
        raise ValueError(f"{text!r} is not a head: the part before ':' must be a seal number")
    return (int(number) if number else None), digest


def _describe(pk: int) -> str:
    """An audit row for a problem line, even when its stored time cannot be read any more."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT action, CAST(at AS TEXT) FROM core_auditlog WHERE id = %s", [pk])
        found = cursor.fetchone()
    if found is None:
        return f"audit row {pk}"
    return f"audit row {pk} ({found[0]}, stored time {str(found[1])[:40]!r})"


def _load(ids: list[int]) -> tuple[dict[int, AuditLog], list[int]]:
    """The rows of ``ids`` (missing ones left out), and the ids of rows that exist but cannot be read."""
    try:
        return AuditLog.objects.in_bulk(ids), []
    except (ValueError, TypeError, OverflowError):  # a time (or JSON) no longer parses: find which row
        rows, unreadable = {}, []
        for pk in ids:
            try:
                row = AuditLog.objects.filter(pk=pk).first()
            except (ValueError, TypeError, OverflowError):
                unreadable.append(pk)
                continue
            if row is not None:
                rows[pk] = row
        return rows, unreadable


def verify(max_problems: int = 20, expect: str | None = None) -> Report:
    """Walk the chain from its start: every seal must follow the one before and match its row's content now;
    the head must be the last seal; no row may stay unsealed for long, nor below the sealer's look-back.

    Verification never seals anything (a row forged by hand stays unsealed and is reported). ``expect`` is a
    head kept outside the database (``siaga audit head`` earlier, or a daily report's): the chain must
    still pass through it, which catches a truncated log or a tail deleted with the head rewound."""
    expected = parse_anchor(expect) if expect else None
    # the head first: a sealer may extend the chain while we walk it (a head and its seals commit together),
    # so the head read now must be a point of the chain walked next, not necessarily its end
    head = AuditChainHead.objects.filter(name="default").first()
    head_at: str | None = None
    report = Report(rows=AuditLog.objects.count())
    problems = report.problems
    found_expected = False

    def problem(text: str) -> None:
        if len(problems) < max_problems:
            problems.append(text)

    prev = ""
    seals = AuditSeal.objects.order_by("id").values_list("id", "audit_id", "prev_hash", "hash")
    chunk: list[tuple[int, int, str, str]] = []

    def check(chunk: list[tuple[int, int, str, str]], prev: str) -> str:
        nonlocal found_expected, head_at
        rows, unreadable = _load([audit_id for _, audit_id, _, _ in chunk])
        for pk, audit_id, prev_hash, digest in chunk:
            if prev_hash != prev:
                problem(f"seal {pk} (audit row {audit_id}) does not follow the seal before it: "
                        f"seals were removed, reordered or rewritten")
            row = rows.get(audit_id)
            if row is not None and not isinstance(row.at, datetime):  # SQLite gives None for a bad time
                unreadable.append(audit_id)
            if audit_id in unreadable:
                problem(f"{_describe(audit_id)}, sealed by seal {pk}, cannot be read: it was changed after it "
                        f"was sealed")
            elif row is None:
                problem(f"audit row {audit_id}, sealed by seal {pk}, is gone: it was deleted")
            elif link(prev_hash, row) != digest:
                problem(f"audit row {audit_id} ({row.action}, {row.at:%Y-%m-%d %H:%M:%S} UTC) was changed after "
                        f"it was sealed")
            if expected is not None and (expected[0] == pk or expected[0] is None) and digest == expected[1]:
                found_expected = True
            elif expected is not None and expected[0] == pk:
                problem(f"seal {pk} is not the head you kept ({expected[1][:12]}): the chain was rewritten "
                        f"from there or before")
                found_expected = True  # reported once
            prev = digest
            report.head_seal = pk
            report.seals += 1
            if head is not None and report.seals == head.seals:
                head_at = digest  # where the head read before the walk points
        return prev

    for item in seals.iterator(chunk_size=1000):
        chunk.append(item)
        if len(chunk) == 1000:
            prev, chunk = check(chunk, prev), []
    prev = check(chunk, prev)
    report.head = prev
    if expected is not None and not found_expected:
        where = f"seal {expected[0]}" if expected[0] is not None else f"a seal with hash {expected[1][:12]}"
        problem(f"the chain does not reach the head you kept ({where}); it ends at seal "
                f"{report.head_seal or '-'}: the log was truncated, or its tail deleted and the head rewound")
    if head is not None and head.seals and head_at != head.last_hash:
        problem(f"the chain head says {head.seals} seals ending {head.last_hash[:12] or '-'}, the table has "
                f"{report.seals} ending {prev[:12] or '-'}: seals were removed from the end or added outside")
    unsealed = AuditLog.objects.filter(seal__isnull=True)
    report.unsealed = unsealed.count()
    last_sealed = head.last_audit_id if head is not None else 0
    # unsealed and old (or dated ahead), or so far below the head that the sealer's sweep will never reach it
    now = timezone.now()
    suspicious = unsealed.filter(Q(at__lt=now - LATE) | Q(at__gt=now + LATE) | Q(id__lte=last_sealed - RECENT_ROWS))
    for pk in suspicious.order_by("id").values_list("id", flat=True)[:max_problems]:
        problem(f"{_describe(pk)} was never sealed: left by a process that died (then `siaga audit seal` "
                f"after checking it) or written by hand")
    return report
