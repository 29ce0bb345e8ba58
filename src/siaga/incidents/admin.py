from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from siaga.core.admin_support import AuditedAdmin, ReadOnlyAdmin
from siaga.incidents.models import Category, Dispatch, EidoMapping, Incident, IncidentEvent


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ("name", "code", "default_priority", "active", "sort_order")
    list_filter = ("active", "default_priority")
    search_fields = ("name", "name_en", "code")
    filter_horizontal = ("default_agencies",)


@admin.register(EidoMapping)
class EidoMappingAdmin(AuditedAdmin):
    """A partner's incident types and agencies in our codes (POST /api/v1/eido)."""

    list_display = ("kind", "partner", "external", "local")
    list_filter = ("kind", "partner")
    search_fields = ("external", "local")


class DispatchInline(admin.TabularInline):
    model = Dispatch
    extra = 0
    can_delete = False
    fields = ("agency", "unit_name", "status", "requested_at", "acknowledged_at", "on_scene_at", "completed_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TimelineInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor", "message")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "category", "priority", "status", "kecamatan", "created_at")
    list_filter = ("status", "priority", "category", "kecamatan")
    search_fields = ("ticket", "description", "address", "reporter_phone")
    date_hierarchy = "created_at"
    inlines = [DispatchInline, TimelineInline]


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = ("incident", "agency", "unit_name", "status", "requested_at")
    list_filter = ("status", "agency")
