from django.urls import path

from siaga.alerts import views

urlpatterns = [
    path("", views.public_index, name="alerts-public"),
    path("feed.atom", views.public_atom, name="alerts-atom"),
    path("<int:alert_id>/", views.public_detail, name="alerts-detail"),
    path("<int:alert_id>.xml", views.public_cap, name="alerts-cap"),
    path("<int:alert_id>.wav", views.public_wav, name="alerts-wav"),
    path("kelola/", views.desk, name="alerts-desk"),
    path("kelola/<int:thread_id>/update", views.desk_update, name="alerts-desk-update"),
    path("kelola/<int:thread_id>/cancel", views.desk_cancel, name="alerts-desk-cancel"),
    path("kelola/draft", views.desk_draft, name="alerts-desk-draft"),
    path("kelola/draft/<int:draft_id>/decide", views.desk_decide, name="alerts-desk-decide"),
    path("kelola/resend", views.desk_resend, name="alerts-desk-resend"),
    path("kelola/gempa/<int:event_id>/tinjau", views.desk_review, name="alerts-desk-review"),
]
