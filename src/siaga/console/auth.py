"""Login throttling with django-axes: after repeated failures a username (or an address) waits.

Axes counts failures in its ``AccessAttempt`` table (shared by every server process, kept across restarts);
the audit log keeps its own ``auth.login_failed`` and ``auth.login_throttled`` rows. Defaults: 5 failures
for one username, or 20 from one address, then a wait of 15 minutes after the last failure.

Two things here close ways around the lock:

- the username is counted as the account it would reach, not as typed: NFKC-normalised and case-folded,
  so fullwidth ``\uff57all`` or ``WALL`` count against ``wall``;
- the address is the connection's ``REMOTE_ADDR`` only. The ASGI server sets it from ``X-Forwarded-For``
  when, and only when, the connection comes from one of ``SIAGA_TRUSTED_PROXIES`` (see ``siaga serve``);
  axes is never allowed to read forwarded headers itself.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siaga.core import audit
from siaga.core.auth import normal_username
from siaga.core.roles import Principal

# an address (a whole office behind one NAT) may fail this many times more than one username before it waits
ADDRESS_FACTOR = 4


def throttle_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the normalised username of a login attempt."""
    name = (credentials or {}).get("username")
    if name is None and request is not None:
        name = request.POST.get("username") if request.method == "POST" else None
    return normal_username(name) or None


def client_address(request: HttpRequest | None) -> str:
    """``AXES_CLIENT_IP_CALLABLE`` and the audit log's address: the connection's own address."""
    return str(request.META.get("REMOTE_ADDR", ""))[:64] if request is not None else ""


def client_ip(request: HttpRequest) -> str | None:
    return client_address(request) or None


class ThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with two limits: ``AXES_FAILURE_LIMIT`` per username, ``ADDRESS_FACTOR`` times
    that per address (``AXES_LOCKOUT_PARAMETERS`` is ``["username", "ip_address"]``, in that order)."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        counts = [qs.aggregate(n=Sum("failures_since_start"))["n"] or 0
                  for qs in self.get_user_attempts(request, credentials)]
        by_username = counts[0] if counts else 0
        by_address = counts[1] if len(counts) > 1 else 0
        return max(by_username, by_address // ADDRESS_FACTOR)


def locked_for(request: HttpRequest, username: str) -> int:
    """Minutes until another attempt is allowed (0 when allowed)."""
    credentials = {"username": username}
    if AxesProxyHandler.is_allowed(request, credentials):
        return 0
    cool_off = settings.AXES_COOLOFF_TIME
    name, address = get_client_username(request, credentials), client_address(request)
    attempts = AccessAttempt.objects.filter(Q(username=name) | Q(ip_address=address) if address
                                            else Q(username=name))
    last = attempts.aggregate(last=Max("attempt_time"))["last"] or timezone.now()
    remaining = (last + cool_off - timezone.now()).total_seconds()
    return max(1, int(remaining // 60) + 1)


def _throttled(request: HttpRequest, username: str) -> str:
    audit.record(Principal.system("anonymous"), "auth.login_throttled", object_type="auth.user",
                 object_id=normal_username(username)[:64], note=client_address(request))
    return (_("Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(minutes)d menit.")
            % {"minutes": locked_for(request, username)})


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the login page again, saying how long to wait (429)."""
    form = ThrottledAuthenticationForm(request, data=request.POST)
    form.is_valid()  # the lock is in force now: the form's own check says how long to wait
    return render(request, SiagaLoginView.template_name, {"form": form}, status=429)


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("Nama pengguna atau kata sandi salah."),
    }

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username") or "")
        if self.request is not None and locked_for(self.request, username):
            raise forms.ValidationError(_throttled(self.request, username), code="throttled")
        return super().clean()


class SiagaLoginView(LoginView):
    template_name = "console/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if any(error.code == "throttled" for error in form.errors.as_data().get("__all__", [])):
            response.status_code = 429  # Too Many Requests, with the page saying how long to wait
        return response

