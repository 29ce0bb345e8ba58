from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from siaga.alerts.models import Alert, Delivery, Draft, ExternalAlert, Thread
from siaga.core.admin_support import ReadOnlyAdmin


@admin.register(Thread)
class ThreadAdmin(ReadOnlyAdmin):
    """Changed by issuing messages: automatically from BMKG, or on the warnings desk (/peringatan/kelola/)."""

    list_display = ("key", "origin", "display", "ews_level", "active", "exercise", "held", "expires_at", "updated_at")
    list_filter = ("origin", "active", "display", "exercise")
    search_fields = ("key",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Issued CAP messages are immutable (the database refuses changes too)."""

    list_display = ("identifier", "msg_type", "status", "display", "ews_level", "headline", "sent")
    list_filter = ("msg_type", "status", "display")
    search_fields = ("identifier", "headline")
    date_hierarchy = "sent"


@admin.register(Draft)
class DraftAdmin(ReadOnlyAdmin):
    """Written and approved on the warnings desk or through the API (two people, audited)."""

    list_display = ("headline", "hazard", "msg_type", "status", "author", "approver", "exercise", "created_at")
    list_filter = ("status", "hazard", "exercise")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("alert", "channel", "target", "status", "attempts", "last_error", "created_at", "sent_at")
    list_filter = ("channel", "status")
    search_fields = ("target", "alert__identifier")
    actions = ["send_again"]

    @admin.action(description=_("Kirim ulang"))
    def send_again(self, request: HttpRequest, queryset: Any) -> None:
        from siaga.alerts.actions import do_resend
        from siaga.core.errors import ActionError
        from siaga.core.roles import Principal

        try:
            count = do_resend(Principal.for_user(request.user), list(queryset.values_list("pk", flat=True)))
        except ActionError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, _("%d pengiriman diantrekan ulang.") % count)


@admin.register(ExternalAlert)
class ExternalAlertAdmin(ReadOnlyAdmin):
    list_display = ("headline", "event", "sender", "severity", "sent", "valid")
    list_filter = ("valid", "severity", "sender")
