"""Reads for calls: caller history and the active blocklist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from siaga.calls import blocking
from siaga.calls.actions import counted_strikes
from siaga.calls.models import Call, CallerSanction, SanctionStage
from siaga.formats import phone


def active_blocks(now: datetime | None = None) -> QuerySet[CallerSanction]:
    moment = now or timezone.now()
    return CallerSanction.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=moment), stage=SanctionStage.BLOCK, lifted_at__isnull=True,
    )


def blocklist(now: datetime | None = None) -> list[dict[str, Any]]:
    """One entry per blocked number with the block that ends last (a permanent one wins)."""
    best: dict[str, CallerSanction] = {}
    for sanction in active_blocks(now).order_by("caller", "starts_at"):
        current = best.get(sanction.caller)
        if current is None or (current.ends_at is not None and (
            sanction.ends_at is None or sanction.ends_at > current.ends_at
        )):
            best[sanction.caller] = sanction
    return [
        {
            "caller": s.caller,
            "since": s.starts_at,
            "until": s.ends_at,
            "permanent": s.ends_at is None,
            "strike": s.strike,
            "reason": s.reason,
            "sanction_id": s.pk,
        }
        for s in sorted(best.values(), key=lambda item: item.caller)
    ]


def caller_history(raw_number: str, limit: int = 20) -> dict[str, Any]:
    """Everything an operator should know about a number before answering it."""
    number = phone.normalise_or_raw(raw_number, settings.PHONE_REGION)
    if not number:
        return {"caller": None, "total_calls": 0, "by_outcome": {}, "recent": [], "sanctions": [],
                "blocked": False, "strikes": 0, "next_stage": None}
    now = timezone.now()
    calls = Call.objects.filter(caller=number)
    counts = {row["outcome"] or "untagged": row["n"] for row in calls.values("outcome").annotate(n=Count("id"))}
    recent = list(calls.order_by("-offered_at", "-id")[:limit])
    sanctions = list(CallerSanction.objects.filter(caller=number).order_by("-starts_at", "-id")[:limit])
    strikes = counted_strikes(number, now)
    next_stage = blocking.stage_for_strike(strikes + 1).label
    return {
        "caller": number,
        "total_calls": sum(counts.values()),
        "by_outcome": counts,
        "recent": recent,
        "sanctions": sanctions,
        "blocked": active_blocks(now).filter(caller=number).exists(),
        "strikes": strikes,
        "next_stage": next_stage,
    }
