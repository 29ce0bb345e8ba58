"""Delivery reports: what the gateway learnt of a message after it took it.

Kannel's report types (its ``%d``): 1 delivered to the phone, 2 not delivered to the phone, 4 queued at the
SMSC, 8 accepted by the SMSC, 16 refused by the SMSC. A report never moves a message back (a late "accepted"
after "delivered" is kept in the message's list of reports, not in its status), and the same report twice
is one entry. A warning's delivery row links its messages (``delivery.sms_messages``), one per try.

A warning to ten thousand numbers brings twenty thousand reports within a minute or two, each an HTTP
request from Kannel. In `siaga serve` (:func:`use_writer`) they are written by one thread of the process,
as many as have queued up in one transaction, and each request is answered after that commit: on SQLite,
a request per report, each in its own transaction, left some waiting past the busy timeout (a 500 that
Kannel does not repeat: a report lost). Elsewhere (the test client, a command) a report is written at once.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import uuid
from dataclasses import dataclass

from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from siaga.core import rawsql
from siaga.sms.models import FINAL, Message, MessageStatus

log = logging.getLogger("siaga.sms")
TYPES = {1: MessageStatus.DELIVERED, 2: MessageStatus.FAILED, 4: MessageStatus.ACCEPTED,
         8: MessageStatus.ACCEPTED, 16: MessageStatus.FAILED}
RANK = {MessageStatus.QUEUED: 0, MessageStatus.SUBMITTED: 1, MessageStatus.ACCEPTED: 2,
        MessageStatus.REFUSED: 3, MessageStatus.DELIVERED: 3, MessageStatus.FAILED: 3}
MAX_BATCH = 500
WAIT_SECONDS = 30.0


class ReportError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Report:
    key: uuid.UUID
    kind: int
    answer: str


@dataclass(frozen=True)
class Applied:
    message: Message
    changed: bool


def parse(key: str, report_type: str, answer: str = "") -> Report:
    """A report as the gateway sent it; ReportError (400) naming what is wrong."""
    try:
        name = uuid.UUID(key)
    except (ValueError, AttributeError, TypeError):
        raise ReportError(400, f"m={key!r} is not a message key") from None
    try:
        kind = int(report_type)
    except (TypeError, ValueError):
        raise ReportError(400, f"type={report_type!r} is not a delivery-report type") from None
    if kind not in TYPES:
        raise ReportError(400, f"type={kind} is not one of {', '.join(map(str, TYPES))}")
    return Report(name, kind, (answer or "")[:160])


def apply_many(reports: list[Report]) -> list[Applied | ReportError]:
    """Record reports in one transaction, in order; per report what it did, or ReportError (404) for a
    message we never sent."""
    now = timezone.now()
    with transaction.atomic():
        found = {m.key: m for m in rawsql.locked_rows(Message, "key", sorted({r.key for r in reports}, key=str))}
        changed: dict[int, Message] = {}
        out: list[Applied | ReportError] = []
        for report in reports:
            message = found.get(report.key)
            if message is None:
                out.append(ReportError(404, f"no message {report.key}"))
                continue
            if any(r.get("type") == report.kind and r.get("answer") == report.answer for r in message.reports):
                out.append(Applied(message, False))
                continue
            message.reports = [*message.reports, {"type": report.kind, "answer": report.answer,
                                                  "at": now.isoformat()}]
            message.reported_at = now
            status = TYPES[report.kind]
            if message.status not in FINAL and RANK[status] > RANK[MessageStatus(message.status)]:
                message.status = status
                message.submitted_at = message.submitted_at or now
            changed[message.pk] = message
            out.append(Applied(message, True))
        rawsql.update_rows(Message, list(changed.values()), ["reports", "reported_at", "status", "submitted_at"])
    return out


class Writer(threading.Thread):
    """One thread per server process writes the reports that queued up meanwhile, in one transaction."""

    def __init__(self) -> None:
        super().__init__(name="siaga-sms-reports", daemon=True)
        self.queue: queue.SimpleQueue[tuple[Report, concurrent.futures.Future[Applied]]] = queue.SimpleQueue()

    def run(self) -> None:
        try:
            while True:
                batch = [self.queue.get()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self.queue.get_nowait())
                    except queue.Empty:
                        break
                self._write(batch)
        finally:
            connections.close_all()

    def _write(self, batch: list[tuple[Report, concurrent.futures.Future[Applied]]]) -> None:
        try:
            results = apply_many([report for report, _ in batch])
        except Exception as exc:  # the database: every sender hears 503 and Kannel may try again
            close_old_connections()
            log.warning("%d SMS delivery report(s) not written: %s", len(batch), exc)
            for _, future in batch:
                future.set_exception(ReportError(503, f"the reports could not be written now: {exc}"))
            return
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, ReportError):
                future.set_exception(result)
            else:
                future.set_result(result)


_writer: Writer | None = None
_lock = threading.Lock()


def use_writer() -> None:
    """Write reports through this process's writer thread from now on (`siaga serve`)."""
    global _writer
    with _lock:
        if _writer is None or not _writer.is_alive():
            _writer = Writer()
            _writer.start()


def submit(report: Report) -> concurrent.futures.Future[Applied]:
    """Queue a report for this process's writer (started by :func:`use_writer`)."""
    use_writer()
    future: concurrent.futures.Future[Applied] = concurrent.futures.Future()
    assert _writer is not None
    _writer.queue.put((report, future))
    return future


def record(key: str, report_type: str, answer: str = "") -> Applied:
    """Record one report (through the writer thread when there is one); ReportError names what is wrong."""
    report = parse(key, report_type, answer)
    writer = _writer
    if writer is None or not writer.is_alive():
        result = apply_many([report])[0]
        if isinstance(result, ReportError):
            raise result
        return result
    future: concurrent.futures.Future[Applied] = concurrent.futures.Future()
    writer.queue.put((report, future))
    try:
        return future.result(timeout=WAIT_SECONDS)
    except concurrent.futures.TimeoutError:
        raise ReportError(503, "the report is queued but not written yet; send it again") from None
