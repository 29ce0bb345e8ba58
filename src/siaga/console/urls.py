from django.contrib.auth import views as auth_views
from django.urls import path

from siaga.console import views
from siaga.console.auth import SiagaLoginView

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", SiagaLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
]
