"""Messages out: queued in the database, handed to the gateway by the ``sms`` role, moved on by reports.

Dispatches to crews and replies to messages that came in are queued as :class:`~siaga.sms.models.Message`
rows in the transaction of the change that causes them (a dispatch exists if and only if its SMS is
queued). Warnings are alert deliveries (one per subscriber, :mod:`siaga.sms.channel`); each try of each is a
message row too. :func:`submit` hands a batch to the gateway, ``SIAGA_SMS_CONCURRENCY`` requests at a time
and at most ``SIAGA_SMS_RATE`` a second; nothing in that is a database write, which comes after, in a few
statements for the whole batch. A gateway that does not answer or answers 5xx is tried again by the
outbox's retry policy (:mod:`siaga.core.outbox`; a new row per try); a 4xx refusal is final.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from siaga.core import outbox, rawsql
from siaga.formats import gsm
from siaga.sms import gateway
from siaga.sms.models import Message, MessageStatus

log = logging.getLogger("siaga.sms")
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=settings.SMS_CONCURRENCY, thread_name_prefix="siaga-sms-submit")
    return _pool


def compose(text: str, *, tail: str = "") -> gsm.Fitted:
    """A text the system writes itself (a dispatch, a reply): cut at a word to fit ``SIAGA_SMS_MAX_PARTS``
    with its ``tail`` whole. Nothing the system writes is refused for its length."""
    return gsm.fit(gsm.shorten(text, settings.SMS_MAX_PARTS, tail))


def queue(to: str, fitted: gsm.Fitted, purpose: str, **links: object) -> Message:
    """Queue one message (inside the caller's transaction: it exists only if the caller's change does)."""
    message = Message.objects.create(purpose=purpose, to=to, text=fitted.text, encoding=fitted.encoding,
                                     parts=fitted.parts, **links)
    transaction.on_commit(wake)
    return message


_wakers: list[object] = []


def on_queued(callback: object) -> None:
    _wakers.append(callback)


def wake() -> None:
    for callback in _wakers:
        callback()  # type: ignore[operator]


def submit(messages: Sequence[Message]) -> dict[int, gateway.Answer]:
    """Hand ``messages`` (saved, queued) to the gateway; record the answers; the answer per message id."""
    if not messages:
        return {}
    gate = gateway.get()
    requests = [gateway.Submit(m.to, gsm.Fitted(m.text, m.encoding, 0, m.parts), str(m.key)) for m in messages]

    answers = list(_executor().map(gate.submit, requests))
    by_outcome: dict[tuple[str, str], list[int]] = {}
    for message, answer in zip(messages, answers, strict=True):
        status = MessageStatus.SUBMITTED if answer.accepted else MessageStatus.REFUSED
        by_outcome.setdefault((status, answer.text), []).append(message.pk)
        message.submitted_at = answer.at or timezone.now()
    with transaction.atomic():
        for (status, text), ids in by_outcome.items():
            # a delivery report may already have moved a message on (Kannel reports within milliseconds)
            Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).update(status=status, answer=text)
        rawsql.update_rows(Message, list(messages), ["submitted_at"])  # when each was handed over
    return {m.pk: a for m, a in zip(messages, answers, strict=True)}


def send_queued(limit: int = 100, now: datetime | None = None) -> int:
    """Hand the due dispatch and reply messages to the gateway; a try that may succeed later is queued again
    as a new row after its backoff. How many were handed over."""
    moment = now or timezone.now()
    due = list(Message.objects.filter(status=MessageStatus.QUEUED, due_at__lte=moment, delivery__isnull=True)
               .order_by("due_at", "id")[:limit])
    if not due:
        return 0
    answers = submit(due)
    retries = []
    for message in due:
        answer = answers[message.pk]
        if answer.accepted:
            continue
        verdict = outbox.after(message.attempt, answer.text or "not answered", moment)
        if answer.retry and verdict.state == "retry":
            retries.append(Message(purpose=message.purpose, to=message.to, text=message.text,
                                   encoding=message.encoding, parts=message.parts, attempt=message.attempt + 1,
                                   dispatch_id=message.dispatch_id, reply_to_id=message.reply_to_id,
                                   due_at=verdict.at))
            log.warning("SMS to %s not handed to the gateway (try %d): %s", message.to, message.attempt, answer.text)
        else:
            log.error("SMS to %s refused by the gateway (try %d): %s", message.to, message.attempt, answer.text)
    if retries:
        Message.objects.bulk_create(retries)
    return len(due)


def next_due(now: datetime | None = None) -> datetime | None:
    """When the next queued dispatch or reply message is due (None: nothing is queued)."""
    return (Message.objects.filter(status=MessageStatus.QUEUED, delivery__isnull=True)
            .order_by("due_at").values_list("due_at", flat=True).first())
