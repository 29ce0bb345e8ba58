"""Key performance indicators of the call centre over a period (the wall shows today's).

Definitions (also in docs/architecture.md):

* calls: call attempts offered in the period; shares of prank, ghost and information among them.
* answered within 15 s (NENA's target: 90 %): among calls that were answered, or abandoned after ringing
  longer than 15 s (callers who hung up sooner are not counted against the centre), the share answered
  within 15 s.
* time to dispatch: from the first call of an incident (or the incident's creation when it has no call)
  to its first dispatch; the median over incidents created in the period.
* open incidents per agency: active dispatches right now, by agency.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from siaga.calls.models import Call
from siaga.incidents.models import ACTIVE_DISPATCH, OPEN_STATUSES, Dispatch, Incident

NENA_ANSWER_SECONDS = 15
NENA_TARGET = 0.90


@dataclass
class Kpis:
    start: datetime
    end: datetime
    calls: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    share_prank: float | None = None
    share_ghost: float | None = None
    share_information: float | None = None
    answer_sample: int = 0
    answered_within_15s: float | None = None
    nena_target: float = NENA_TARGET
    incidents: int = 0
    open_incidents: int = 0
    median_dispatch_seconds: float | None = None
    open_by_agency: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data


def today_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def compute(start: datetime, end: datetime) -> Kpis:
    result = Kpis(start=start, end=end)
    calls = Call.objects.filter(offered_at__gte=start, offered_at__lt=end)
    result.by_outcome = {row["outcome"] or "untagged": row["n"]
                         for row in calls.values("outcome").annotate(n=Count("id"))}
    result.calls = sum(result.by_outcome.values())
    if result.calls:
        for name in ("prank", "ghost", "information"):
            setattr(result, f"share_{name}", result.by_outcome.get(name, 0) / result.calls)
    within = total = 0
    for offered, answered, ended in calls.values_list("offered_at", "answered_at", "ended_at"):
        limit = offered + timedelta(seconds=NENA_ANSWER_SECONDS)
        if answered is not None:
            total += 1
            within += answered <= limit
        elif ended is not None and ended > limit:
            total += 1
    result.answer_sample = total
    result.answered_within_15s = within / total if total else None
    incidents = (Incident.objects.filter(created_at__gte=start, created_at__lt=end)
                 .annotate(first_call=Min("calls__offered_at")))
    result.incidents = incidents.count()
    waits = [((i.dispatched_at - (i.first_call or i.created_at)).total_seconds())
             for i in incidents.filter(dispatched_at__isnull=False)]
    result.median_dispatch_seconds = statistics.median(waits) if waits else None
    result.open_incidents = Incident.objects.filter(status__in=OPEN_STATUSES).count()
    result.open_by_agency = {row["agency__code"]: row["n"] for row in
                             Dispatch.objects.filter(status__in=ACTIVE_DISPATCH).values("agency__code")
                             .annotate(n=Count("id")).order_by("agency__code")}
    return result


def today(now: datetime | None = None) -> Kpis:
    moment = now or timezone.now()
    return compute(today_start(moment), moment)
