"""Pages. The full operator console, agency view and wall come with their own issue; this is the landing
page a logged-in user sees, with today's numbers and the most recent calls and incidents."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from siaga.calls.models import Call
from siaga.core.roles import Principal, Role
from siaga.incidents.models import OPEN_STATUSES, Incident


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    principal = Principal.for_user(request.user)
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    context: dict[str, Any] = {"principal": principal}
    if principal.has(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN):
        today = Call.objects.filter(offered_at__gte=start)
        context["calls_today"] = today.count()
        context["calls_by_outcome"] = {row["outcome"] or "untagged": row["n"]
                                       for row in today.values("outcome").annotate(n=Count("id"))}
        context["recent_calls"] = Call.objects.order_by("-offered_at", "-id")[:15]
    incidents = Incident.objects.select_related("category", "kecamatan").filter(status__in=OPEN_STATUSES)
    if principal.is_agency_only:
        incidents = incidents.filter(dispatches__agency_id=principal.agency_id).distinct()
    context["open_incidents"] = incidents.order_by("priority", "-created_at")[:20]
    return render(request, "console/home.html", context)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for a load balancer: no data, no authentication (it reveals only that the process is up)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
