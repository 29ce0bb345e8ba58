import json
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from siaga.core import audit
from siaga.core.admin_support import AuditedAdmin, ReadOnlyAdmin
from siaga.core.models import (
    Agency,
    ApiToken,
    AuditLog,
    EvacuationRoute,
    EvacuationSite,
    Integration,
    Kecamatan,
    Kelurahan,
    UserPresence,
    UserProfile,
)


@admin.register(Kecamatan)
class KecamatanAdmin(AuditedAdmin):
    list_display = ("code", "name", "bps_code")
    search_fields = ("name", "code")
    exclude = ("geometry",)
    readonly_fields = ("bbox", "centroid_lat", "centroid_lon", "source")


@admin.register(Kelurahan)
class KelurahanAdmin(AuditedAdmin):
    list_display = ("code", "name", "kecamatan", "postcode")
    list_filter = ("kecamatan",)
    search_fields = ("name", "code", "postcode")
    exclude = ("geometry",)
    readonly_fields = ("bbox", "centroid_lat", "centroid_lon", "source")


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ("short_name", "code", "name", "phone", "active")
    list_filter = ("active",)
    search_fields = ("name", "short_name", "code")


@admin.register(UserProfile)
class UserProfileAdmin(AuditedAdmin):
    list_display = ("user", "agency", "extension")
    list_filter = ("agency",)
    search_fields = ("user__username", "extension")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ("name", "user", "hint", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("hint", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued with `siaga token create`, which shows the clear text once


@admin.register(Integration)
class IntegrationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "active", "created_at")
    list_filter = ("kind", "active")
    fields = ("name", "kind", "description", "active", "hmac_secret", "created_at")
    readonly_fields = ("created_at",)


@admin.register(EvacuationSite)
class EvacuationSiteAdmin(AuditedAdmin):
    """Positions are entered here by the city (from BPBD's documents or a site visit), never guessed."""

    list_display = ("name", "kind", "area", "lat", "lon", "capacity")
    list_filter = ("kind",)
    search_fields = ("name", "area")


@admin.register(EvacuationRoute)
class EvacuationRouteAdmin(AuditedAdmin):
    list_display = ("name", "area", "has_line")
    search_fields = ("name", "area")

    @admin.display(boolean=True, description="garis")
    def has_line(self, obj: EvacuationRoute) -> bool:
        return bool(obj.geometry)


@admin.register(UserPresence)
class UserPresenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "last_seen", "last_path")


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is append-only, for admins too."""

    list_display = ("at", "actor", "action", "object_type", "object_id", "note")
    list_filter = ("action", "object_type")
    search_fields = ("actor", "object_id", "note")
    date_hierarchy = "at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [{"before": "before_shown", "after": "after_shown"}.get(f.name, f.name) for f in AuditLog._meta.fields]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("sebelum"))
    def before_shown(self, row: AuditLog) -> str:
        return json.dumps(audit.masked(row.before), ensure_ascii=False, indent=1) if row.before is not None else "-"

    @admin.display(description=_("sesudah"))
    def after_shown(self, row: AuditLog) -> str:
        return json.dumps(audit.masked(row.after), ensure_ascii=False, indent=1) if row.after is not None else "-"


# Users and groups: Django's admin screens, with audit rows.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        from siaga.core import audit
        from siaga.core.roles import Principal

        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit.record(Principal.for_user(request.user), "admin.password_change", object_type="auth.user",
                         object_id=id, note="password set by an administrator")
        return response


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    pass
