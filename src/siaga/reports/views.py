"""The report page for supervisors and the head of office, and its downloads."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from siaga.console.views import role_required
from siaga.core.errors import ActionError
from siaga.core.roles import MANAGERS
from siaga.reports import compute, export, period
from siaga.shifts.models import ShiftDefinition


def choose(params: Any) -> period.Period:
    kind = params.get("kind", "daily")
    if kind == "monthly":
        return period.monthly(params.get("month") or timezone.localdate().strftime("%Y-%m"))
    day = period.parse_day(params.get("date") or timezone.localdate().isoformat())
    if kind == "shift":
        return period.of_shift(day, params.get("shift") or "pagi")
    if kind != "daily":
        raise ActionError(pgettext_lazy("error", "kind {kind!r} is not daily, monthly or shift"), kind=kind)
    return period.daily(day)


@role_required(*MANAGERS)
@require_GET
def page(request: HttpRequest) -> HttpResponse:
    params = request.GET
    context: dict[str, Any] = {
        "kind": params.get("kind", "daily"), "date": params.get("date") or timezone.localdate().isoformat(),
        "month": params.get("month") or timezone.localdate().strftime("%Y-%m"), "shift": params.get("shift", "pagi"),
        "definitions": ShiftDefinition.objects.filter(active=True),
    }
    try:
        chosen = choose(params)
    except ActionError as exc:
        context["error"] = exc.localized()
        return render(request, "reports/page.html", context, status=422)
    report = compute.build(chosen)
    language = getattr(request, "LANGUAGE_CODE", "id")
    context.update(export.context(report, language))
    context["empty"] = not compute.has_data(report)
    context["download"] = f"/reports/download?kind={context['kind']}&date={context['date']}&month={context['month']}" \
                          f"&shift={context['shift']}"
    return render(request, "reports/page.html", context)


@role_required(*MANAGERS)
@require_GET
def download(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "pdf")
    if fmt not in export.FORMATS:
        return HttpResponse(f"format must be one of {', '.join(export.FORMATS)}", status=422, content_type="text/plain")
    try:
        chosen = choose(request.GET)
    except ActionError as exc:
        return HttpResponse(exc.localized(), status=422, content_type="text/plain")
    report = compute.build(chosen)
    content_type, render_file = export.FORMATS[fmt]
    response = HttpResponse(render_file(report), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="siaga112-{chosen.kind}-{chosen.slug}.{fmt}"'
    return response
