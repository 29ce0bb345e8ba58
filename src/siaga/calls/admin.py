
from django.contrib import admin

from siaga.calls.models import Call, CallerSanction, CtiEvent, LocationFix
from siaga.core.admin_support import ReadOnlyAdmin


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("offered_at", "caller", "line", "state", "outcome", "operator", "incident")
    list_filter = ("state", "outcome", "line")
    search_fields = ("caller", "caller_raw", "call_ref")
    date_hierarchy = "offered_at"


@admin.register(CtiEvent)
class CtiEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "type", "event_id", "integration", "call")
    list_filter = ("type", "integration")
    search_fields = ("event_id",)


@admin.register(LocationFix)
class LocationFixAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "caller", "transport", "has_fix", "lat", "lon", "radius_m", "call")
    list_filter = ("transport", "has_fix", "method")


@admin.register(CallerSanction)
class CallerSanctionAdmin(ReadOnlyAdmin):
    list_display = ("caller", "stage", "strike", "duration", "starts_at", "ends_at", "lifted_at")
    list_filter = ("stage",)
    search_fields = ("caller",)
