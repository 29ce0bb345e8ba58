"""Login with throttling: after repeated failures a username (or an address) waits before trying again.

Failures are the audit log's ``auth.login_failed`` rows, so the count is shared by every server process and
survives restarts. Defaults: 5 failures for one username, or 20 from one address, within 15 minutes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siaga.core import audit
from siaga.core.models import AuditLog
from siaga.core.roles import Principal


def client_address(request: Any) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))[:64] if request is not None else ""


def locked_for(username: str, address: str) -> int:
    """Minutes until another attempt is allowed (0 when allowed)."""
    window = timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    since = timezone.now() - window
    failures = AuditLog.objects.filter(action="auth.login_failed", at__gte=since)
    by_user = failures.filter(object_id=username[:64]).order_by("-at").values_list("at", flat=True)
    by_address = failures.filter(note=address).order_by("-at").values_list("at", flat=True) if address else []
    for times, limit in ((list(by_user[: settings.LOGIN_MAX_FAILURES]), settings.LOGIN_MAX_FAILURES),
                         (list(by_address[: settings.LOGIN_MAX_FAILURES * 4]) if address else [],
                          settings.LOGIN_MAX_FAILURES * 4)):
        if len(times) >= limit:
            oldest_counted = times[-1]
            remaining = (oldest_counted + window - timezone.now()).total_seconds()
            return max(1, int(remaining // 60) + 1)
    return 0


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("Nama pengguna atau kata sandi salah."),
    }

    def clean(self) -> dict[str, Any]:
        username = (self.data.get("username") or "").strip()
        minutes = locked_for(username, client_address(self.request))
        if minutes:
            audit.record(Principal.system("anonymous"), "auth.login_throttled", object_type="auth.user",
                         object_id=username[:64], note=client_address(self.request))
            raise forms.ValidationError(
                _("Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(minutes)d menit.")
                % {"minutes": minutes}, code="throttled")
        return super().clean()


class SiagaLoginView(LoginView):
    template_name = "console/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True
