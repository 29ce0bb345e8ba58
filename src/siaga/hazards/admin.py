from django.contrib import admin

from siaga.core.admin_support import ReadOnlyAdmin
from siaga.hazards.models import Feed, HazardEvent


@admin.register(Feed)
class FeedAdmin(ReadOnlyAdmin):
    """Feeds come from the settings (SIAGA_BMKG_FEEDS ...); this is their health record."""

    list_display = ("name", "kind", "enabled", "drill", "last_success_at", "consecutive_failures", "last_error",
                    "lag_seconds", "polls", "not_modified", "records_new", "records_repeat")
    list_filter = ("kind", "enabled", "drill")


@admin.register(HazardEvent)
class HazardEventAdmin(ReadOnlyAdmin):
    list_display = ("key", "origin_time", "magnitude", "region", "tsunami_potential", "display", "ews_level",
                    "distance_km", "stale", "exercise")
    list_filter = ("display", "tsunami_potential", "stale", "exercise")
    search_fields = ("key", "region")
    date_hierarchy = "origin_time"
