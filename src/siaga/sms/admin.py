from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from siaga.core.admin_support import AuditedAdmin, ReadOnlyAdmin
from siaga.sms import subscribers
from siaga.sms.models import CrewMember, Inbound, Message, Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(AuditedAdmin):
    list_display = ("phone", "name", "kind", "kecamatan", "kelurahan", "active", "source", "updated_at")
    list_filter = ("active", "kind", "kecamatan", "source")
    search_fields = ("phone", "name")
    readonly_fields = ("source", "created_at", "updated_at", "stopped_at")
    change_list_template = "sms/subscriber_changelist.html"

    def get_urls(self) -> list[Any]:
        return [path("import/", self.admin_site.admin_view(self.import_view), name="sms_subscriber_import"),
                *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """CSV import, all or nothing: every problem is listed with its line and nothing is written."""
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            return HttpResponse(status=403)
        problems: list[str] = []
        if request.method == "POST":
            upload = request.FILES.get("file")
            if upload is None:
                problems = [str(_("Pilih berkas CSV."))]
            else:
                try:
                    text = upload.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    problems = [str(_("Berkas bukan teks UTF-8."))]
                else:
                    from siaga.core import audit
                    from siaga.core.roles import Principal

                    result = subscribers.import_csv(text)
                    problems = result.problems
                    if result.ok:
                        audit.record(Principal.for_user(request.user), "sms.subscribers_import",
                                     object_type="sms.subscriber", object_id=upload.name,
                                     after={"created": result.created, "updated": result.updated,
                                            "unchanged": result.unchanged})
                        messages.success(request, _("Impor selesai: %(c)d baru, %(u)d diubah, %(s)d sama.")
                                         % {"c": result.created, "u": result.updated, "s": result.unchanged})
                        return HttpResponseRedirect(reverse("admin:sms_subscriber_changelist"))
        return render(request, "sms/subscriber_import.html", {
            **self.admin_site.each_context(request), "problems": problems, "opts": self.model._meta,
            "title": _("Impor pelanggan SMS dari CSV")})


@admin.register(CrewMember)
class CrewMemberAdmin(AuditedAdmin):
    list_display = ("name", "phone", "agency", "active")
    list_filter = ("agency", "active")
    search_fields = ("name", "phone")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "purpose", "to", "status", "attempt", "parts", "encoding", "answer")
    list_filter = ("purpose", "status", "encoding")
    search_fields = ("to", "text")
    date_hierarchy = "created_at"


@admin.register(Inbound)
class InboundAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "sender", "text", "outcome", "detail")
    list_filter = ("outcome",)
    search_fields = ("sender", "phone", "text")
    date_hierarchy = "received_at"
