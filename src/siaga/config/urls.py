"""Root URL map: admin, API v1, console pages, i18n switch."""

from django.contrib import admin
from django.urls import include, path

from siaga.config.api import api
from siaga.runtime import health, metrics

admin.site.site_header = "Siaga112 — Administrasi"
admin.site.site_title = "Siaga112"
admin.site.index_title = "Data induk"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("peringatan/", include("siaga.alerts.urls")),
    path("", include("siaga.sms.urls")),
    path("", include("siaga.console.urls")),
]
