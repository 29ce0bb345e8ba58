from django.urls import path

from siaga.sms import views

urlpatterns = [
    path("sms/kannel/mo/<str:token>/", views.kannel_mo, name="sms-kannel-mo"),
    path("sms/kannel/dlr/", views.kannel_dlr, name="sms-kannel-dlr"),
    path("l/<str:code>", views.place, name="sms-place"),
]
