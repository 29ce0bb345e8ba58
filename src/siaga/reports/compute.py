"""The numbers of a report, under stable keys (``schema: siaga112.report/1``) that other tools can read.

Definitions:

* calls: offered within the period; by outcome (every tag, zeros included), by local hour, by incident
  category (``none`` when the call made no incident), by kecamatan (the incident's, else the caller's AML
  fix; ``unknown`` otherwise) and by shift.
* answer: among calls answered, or abandoned after ringing longer than the threshold, the share answered
  within 15 s and within 20 s (NENA's targets: 90 % and 95 %).
* dispatch: from an incident's first call (or its creation) to its first dispatch, for incidents created
  in the period; agency response: from a dispatch's request to "on scene", per agency.
* nuisance: prank and ghost calls per hour (shift, day) or per day (month); the repeat callers with the
  most prank and ghost calls (numbers shown with their middle digits hidden).
* incidents open at the end: created before the end and neither closed nor cancelled by then.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from siaga.calls.models import OPERATOR_OUTCOMES, Call, LocationFix
from siaga.calls.queries import active_blocks
from siaga.core.models import AuditSeal
from siaga.incidents.models import Dispatch, Incident
from siaga.reports.period import Period

SCHEMA = "siaga112.report/1"
TARGETS = {15: 0.90, 20: 0.95}
TOP_CALLERS = 10


def mask(number: str | None) -> str:
    if not number:
        return "—"
    return number[:5] + "•" * max(0, len(number) - 8) + number[-3:] if len(number) > 8 else number


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _sms(period: Period) -> dict[str, Any]:
    """SMS in the period: messages out by purpose (warnings, dispatches, replies), each try counted, as they
    stand (delivered, failed or refused, still on their way); messages in; dispatch steps crews sent by SMS."""
    from siaga.incidents.models import IncidentEvent
    from siaga.sms.models import Inbound, Message, MessageStatus, Purpose

    rows = (Message.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
            .values_list("purpose", "status").annotate(n=Count("id")))
    out = {p.value: {"total": 0, "delivered": 0, "failed": 0, "pending": 0} for p in Purpose}
    for purpose, status, n in rows:
        row = out.setdefault(purpose, {"total": 0, "delivered": 0, "failed": 0, "pending": 0})
        row["total"] += n
        if status == MessageStatus.DELIVERED:
            row["delivered"] += n
        elif status in (MessageStatus.FAILED, MessageStatus.REFUSED):
            row["failed"] += n
        else:
            row["pending"] += n
    return {
        "messages": out,
        "inbound": Inbound.objects.filter(received_at__gte=period.start, received_at__lt=period.end).count(),
        "dispatch_steps": IncidentEvent.objects.filter(at__gte=period.start, at__lt=period.end,
                                                       kind="dispatch_status", actor__startswith="sms:").count(),
    }


def build(period: Period, now: datetime | None = None) -> dict[str, Any]:
    moment = now or timezone.now()
    calls = list(Call.objects.filter(offered_at__gte=period.start, offered_at__lt=period.end)
                 .select_related("incident__category", "incident__kecamatan", "shift__definition"))
    by_outcome = {o.value: 0 for o in OPERATOR_OUTCOMES}
    by_outcome["untagged"] = 0
    by_hour = [0] * 24
    by_category: Counter[str] = Counter()
    by_kecamatan: Counter[str] = Counter()
    by_shift: Counter[str] = Counter()
    fix_kecamatan = dict(LocationFix.objects.filter(call__in=[c.pk for c in calls], has_fix=True,
                                                    kelurahan__isnull=False)
                         .values_list("call_id", "kelurahan__kecamatan__name"))
    answer_total = 0
    within = {15: 0, 20: 0}
    answer_seconds: list[float] = []
    for call in calls:
        by_outcome[call.outcome or "untagged"] = by_outcome.get(call.outcome or "untagged", 0) + 1
        by_hour[timezone.localtime(call.offered_at).hour] += 1
        by_category[call.incident.category.code if call.incident else "none"] += 1
        kecamatan = (call.incident.kecamatan.name if call.incident and call.incident.kecamatan
                     else fix_kecamatan.get(call.pk, "unknown"))
        by_kecamatan[kecamatan] += 1
        by_shift[call.shift.definition.code if call.shift else "none"] += 1
        if call.answered_at is not None:
            waited = (call.answered_at - call.offered_at).total_seconds()
            answer_total += 1
            answer_seconds.append(waited)
            for limit in within:
                within[limit] += waited <= limit
        elif call.ended_at is not None and (call.ended_at - call.offered_at).total_seconds() > 15:
            answer_total += 1

    incidents = list(Incident.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
                     .select_related("category").annotate(first_call=Min("calls__offered_at")))
    waits = [(i.dispatched_at - (i.first_call or i.created_at)).total_seconds() for i in incidents if i.dispatched_at]
    response: dict[str, list[float]] = defaultdict(list)
    dispatch_counts: Counter[str] = Counter()
    for d in Dispatch.objects.filter(requested_at__gte=period.start, requested_at__lt=period.end).select_related(
            "agency"):
        dispatch_counts[d.agency.code] += 1
        if d.on_scene_at:
            response[d.agency.code].append((d.on_scene_at - d.requested_at).total_seconds())
    open_at_end = list(Incident.objects.filter(created_at__lt=period.end)
                       .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=period.end))
                       .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=period.end))  # incl. duplicates
                       .select_related("category").order_by("priority", "created_at"))

    # nuisance trend and repeat callers
    trend: dict[str, dict[str, int]] = {}
    monthly = period.kind == "monthly"
    cursor = timezone.localtime(period.start)
    while cursor < timezone.localtime(period.end):
        key = cursor.strftime("%Y-%m-%d") if monthly else cursor.strftime("%H:00")
        trend.setdefault(key, {"prank": 0, "ghost": 0})
        cursor += timedelta(days=1) if monthly else timedelta(hours=1)
    callers: dict[str, Counter[str]] = defaultdict(Counter)
    for call in calls:
        if call.outcome in ("prank", "ghost"):
            local = timezone.localtime(call.offered_at)
            key = local.strftime("%Y-%m-%d") if monthly else local.strftime("%H:00")
            trend.setdefault(key, {"prank": 0, "ghost": 0})[call.outcome] += 1
            if call.caller:
                callers[call.caller][call.outcome] += 1
    blocked_now = set(active_blocks(moment).values_list("caller", flat=True))
    top = sorted(callers.items(), key=lambda item: (-(item[1]["prank"] + item[1]["ghost"]), item[0]))[:TOP_CALLERS]

    sms = _sms(period)
    by_priority = Counter(str(i.priority) for i in incidents)
    # where the audit hash chain stood at the end of the period: printed, it anchors the chain outside the
    # database (ADR 14); a later rewrite of history before this point changes this hash
    seals = AuditSeal.objects.filter(audit__at__lt=period.end)
    last_seal = seals.order_by("-id").select_related("audit").first()
    return {
        "schema": SCHEMA,
        "city": settings.CITY_NAME,
        "period": {"kind": period.kind, "label": period.label, "start": period.start.isoformat(),
                   "end": period.end.isoformat(), "slug": period.slug},
        "generated_at": moment.isoformat(),
        "calls": {
            "total": len(calls),
            "by_outcome": by_outcome,
            "by_hour": by_hour,
            "by_category": dict(sorted(by_category.items())),
            "by_kecamatan": dict(sorted(by_kecamatan.items())),
            "by_shift": dict(sorted(by_shift.items())),
        },
        "answer": {
            "sample": answer_total,
            "within_15s": within[15] / answer_total if answer_total else None,
            "within_20s": within[20] / answer_total if answer_total else None,
            "target_15s": TARGETS[15],
            "target_20s": TARGETS[20],
            "median_seconds": _median(answer_seconds),
        },
        "dispatch": {
            "incidents": len(incidents),
            "dispatched": len(waits),
            "median_seconds": _median(waits),
            "p90_seconds": _percentile(waits, 0.9),
        },
        "agency_response": {
            code: {"dispatches": dispatch_counts[code], "on_scene": len(response.get(code, [])),
                   "median_seconds": _median(response.get(code, [])),
                   "p90_seconds": _percentile(response.get(code, []), 0.9)}
            for code in sorted(dispatch_counts)
        },
        "nuisance": {
            "trend": [{"bucket": key, **value} for key, value in trend.items()],
            "top_callers": [{"caller": mask(number), "prank": counts["prank"], "ghost": counts["ghost"],
                             "total": counts["prank"] + counts["ghost"], "blocked_now": number in blocked_now}
                            for number, counts in top],
        },
        "incidents": {
            "total": len(incidents),
            "by_category": dict(sorted(Counter(i.category.code for i in incidents).items())),
            "by_priority": {p: by_priority.get(p, 0) for p in ("1", "2", "3", "4")},
            "open_at_end_count": len(open_at_end),
            "open_at_end": [{"ticket": i.ticket, "category": i.category.code, "priority": i.priority,
                             "created_at": i.created_at.isoformat()} for i in open_at_end[:50]],
        },
        "sms": sms,
        "audit_chain": {
            "seal": last_seal.pk if last_seal else None,
            "hash": last_seal.hash if last_seal else "",
            "through": last_seal.audit.at.isoformat() if last_seal else None,
        },
    }


def has_data(report: dict[str, Any]) -> bool:
    return bool(report["calls"]["total"] or report["incidents"]["total"])
