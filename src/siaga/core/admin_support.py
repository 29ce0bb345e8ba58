"""Admin building blocks shared by the apps."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operational records change only through the actions layer (audited); the admin shows them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Master data edited in the admin gets the same audit rows as every other write."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from siaga.core import audit
        from siaga.core.roles import Principal

        before = None
        if change and obj.pk is not None:
            previous = type(obj).objects.filter(pk=obj.pk).first()
            before = audit.snapshot(previous) if previous is not None else None
        super().save_model(request, obj, form, change)
        after = audit.snapshot(obj)
        if before is not None:
            before, after = audit.changed(before, after)
        audit.record(Principal.for_user(request.user), f"admin.{'change' if change else 'add'}", obj,
                     before=before, after=after)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        from siaga.core import audit
        from siaga.core.roles import Principal

        before = audit.snapshot(obj)
        pk = obj.pk
        super().delete_model(request, obj)
        audit.record(Principal.for_user(request.user), "admin.delete", object_type=obj._meta.label_lower,
                     object_id=pk, before=before)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
