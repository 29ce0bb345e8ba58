"""Pages: each role's screen, protected by login and role; the data comes from the JSON API.

The pages are server-rendered shells (Bahasa Indonesia by default, translated by Django) whose scripts
read and write through /api/v1 with the session and its CSRF token, and listen on /live/events; so the
role checks of the API (tested operation by operation) are the ones that protect the data.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from siaga.core.roles import STAFF, Principal, Role


def role_required(*roles: Role) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Logged in (else to the login page) and holding one of ``roles`` (else 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            principal = Principal.for_user(request.user)
            if not principal.has(*roles):
                raise PermissionDenied("this page is for: " + ", ".join(r.value for r in roles))
            request.principal = principal  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapped.siaga_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own screen."""
    principal = Principal.for_user(request.user)
    if principal.has(*STAFF):
        return redirect("operator")
    if principal.has(Role.AGENCY):
        return redirect("agency")
    if principal.has(Role.WALL):
        return redirect("wall")
    return render(request, "console/no_role.html", status=403)


def _page(request: HttpRequest, template: str, **extra: Any) -> HttpResponse:
    principal: Principal = request.principal  # type: ignore[attr-defined]
    return render(request, template, {"principal": principal, "map_tiles": settings.MAP_TILE_URL, **extra})


@role_required(*STAFF)
@require_GET
def operator(request: HttpRequest) -> HttpResponse:
    from siaga.core.models import UserProfile

    principal: Principal = request.principal  # type: ignore[attr-defined]
    muted = UserProfile.objects.filter(user=request.user).values_list("ring_muted", flat=True).first()
    return _page(request, "console/operator.html", supervisor=principal.has(Role.SUPERVISOR, Role.ADMIN),
                 ring_muted=bool(muted))


@role_required(Role.AGENCY)
@require_GET
def agency(request: HttpRequest) -> HttpResponse:
    from siaga.core.models import Agency

    principal: Principal = request.principal  # type: ignore[attr-defined]
    own = Agency.objects.filter(pk=principal.agency_id).first()
    if own is None:
        raise PermissionDenied("your user has no agency; an admin sets it on your profile")
    return _page(request, "console/agency.html", agency=own)


@role_required(*STAFF)
@require_GET
def roster(request: HttpRequest) -> HttpResponse:
    from django.utils import timezone

    from siaga.shifts.models import ShiftDefinition

    principal: Principal = request.principal  # type: ignore[attr-defined]
    month = request.GET.get("month") or timezone.localdate().strftime("%Y-%m")
    return _page(request, "console/roster.html", month=month, can_edit=principal.has(Role.SUPERVISOR, Role.ADMIN),
                 definitions=ShiftDefinition.objects.filter(active=True))


@role_required(Role.WALL, Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR)
@require_GET
def wall(request: HttpRequest) -> HttpResponse:
    return _page(request, "console/wall.html")

