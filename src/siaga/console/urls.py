from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from siaga.console import views
from siaga.console.auth import SiagaLoginView
from siaga.reports import views as report_views

urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.operator, name="operator"),
    path("agency/", views.agency, name="agency"),
    path("wall/", views.wall, name="wall"),
    path("roster/", views.roster, name="roster"),
    path("reports/", report_views.page, name="reports"),
    path("reports/download", report_views.download, name="report-download"),
    path("login/", SiagaLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("jsi18n/", login_required(JavaScriptCatalog.as_view(packages=["siaga.console"])), name="jsi18n"),
]
