from typing import Any

from django.contrib import admin

from siaga.core.admin_support import ReadOnlyAdmin
from siaga.shifts.models import Attendance, Handover, HandoverVersion, RosterEntry, Shift, ShiftDefinition


@admin.register(ShiftDefinition)
class ShiftDefinitionAdmin(ReadOnlyAdmin):
    """Changed together, as a set covering the 24 hours: `siaga shifts define` or PUT /api/v1/shifts/definitions."""

    list_display = ("name", "code", "start", "end", "min_operators", "min_supervisors", "active")


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdmin):
    list_display = ("date", "definition", "starts_at", "ends_at")
    list_filter = ("definition",)
    date_hierarchy = "date"


@admin.register(RosterEntry)
class RosterEntryAdmin(ReadOnlyAdmin):
    """Edited on the roster page (/roster/) or by CSV import, which check coverage and conflicts."""

    list_display = ("shift", "user", "role", "planned")
    list_filter = ("role", "planned", "shift__definition")
    search_fields = ("user__username",)


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ("entry", "started_at", "ended_at")


class HandoverVersionInline(admin.TabularInline):
    model = HandoverVersion
    extra = 0
    can_delete = False
    fields = ("number", "written_by", "written_at", "note")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ("from_shift", "to_shift", "written_by", "written_at", "acknowledged_by", "acknowledged_at")
    inlines = [HandoverVersionInline]
