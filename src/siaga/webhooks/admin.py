from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from siaga.core.admin_support import AuditedAdmin
from siaga.webhooks import tasks
from siaga.webhooks.models import Attempt, Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(AuditedAdmin):
    list_display = ("name", "url", "topics", "active", "created_at")
    list_filter = ("active",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # an address typed without a scheme


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ("number", "at", "status_code", "error", "duration_ms")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Every delivery with its attempts; an admin can send again."""

    list_display = ("created_at", "webhook", "topic", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status", "webhook", "topic")
    readonly_fields = ("webhook", "event_id", "topic", "payload", "status", "attempts", "next_attempt_at",
                       "lease_until", "last_error", "created_at", "delivered_at")
    inlines = [AttemptInline]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Kirim ulang"))
    def send_again(self, request: HttpRequest, queryset: Any) -> None:
        from siaga.core import audit
        from siaga.core.roles import Principal

        ids = list(queryset.values_list("pk", flat=True))
        count = tasks.resend(ids)
        audit.record(Principal.for_user(request.user), "webhook.resend", object_type="webhooks.delivery",
                     object_id=",".join(map(str, ids))[:64], after={"count": count})
        self.message_user(request, _("%d pengiriman dijadwalkan ulang.") % count, messages.SUCCESS)
