"""Delivery reports: what the gateway learnt of a message after it took it.

Kannel's report types (its ``%d``): 1 delivered to the phone, 2 not delivered to the phone, 4 queued at the
SMSC, 8 accepted by the SMSC, 16 refused by the SMSC. A report never moves a message back (a late "accepted"
after "delivered" is kept in the message's list of reports, not in its status), and the same report twice
is one entry. A warning's delivery row links its messages (``delivery.sms_messages``), one per try.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from siaga.sms.models import FINAL, Message, MessageStatus

TYPES = {1: MessageStatus.DELIVERED, 2: MessageStatus.FAILED, 4: MessageStatus.ACCEPTED,
         8: MessageStatus.ACCEPTED, 16: MessageStatus.FAILED}
RANK = {MessageStatus.QUEUED: 0, MessageStatus.SUBMITTED: 1, MessageStatus.ACCEPTED: 2,
        MessageStatus.REFUSED: 3, MessageStatus.DELIVERED: 3, MessageStatus.FAILED: 3}


class ReportError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Applied:
    message: Message
    changed: bool


def apply(key: str, report_type: str, answer: str = "") -> Applied:
    """Record one report of the message named ``key``; ReportError (404, 400) for an unknown message or type."""
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
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(key=name).first()
        if message is None:
            raise ReportError(404, f"no message {name}")
        entry = {"type": kind, "answer": answer[:160]}
        if any(r.get("type") == kind and r.get("answer") == entry["answer"] for r in message.reports):
            return Applied(message, False)
        message.reports = [*message.reports, {**entry, "at": now.isoformat()}]
        message.reported_at = now
        status = TYPES[kind]
        fields = ["reports", "reported_at"]
        if message.status not in FINAL and RANK[status] > RANK[MessageStatus(message.status)]:
            message.status = status
            fields.append("status")
            if message.submitted_at is None:
                message.submitted_at = now
                fields.append("submitted_at")
        message.save(update_fields=fields)
    return Applied(message, True)
