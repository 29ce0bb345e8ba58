"""The admin: master data edits are audited, secrets never reach the audit log, records are read-only."""

from typing import Any

import pytest
from django.test import Client

from siaga.core.models import Agency, AuditLog

pytestmark = pytest.mark.django_db


def test_agency_edit_is_audited(client: Client, actors: Any) -> None:
    client.force_login(actors["admin"].user)
    agency = Agency.objects.get(code="bpbd")
    response = client.post(f"/admin/core/agency/{agency.pk}/change/", {
        "code": "bpbd", "name": agency.name, "short_name": "BPBD", "phone": "0254-1234567", "email": "",
        "active": "on", "notes": ""})
    assert response.status_code == 302, response.content[:500]
    row = AuditLog.objects.filter(action="admin.change", object_type="core.agency", object_id=str(agency.pk)).get()
    assert row.before == {"phone": ""} and row.after == {"phone": "0254-1234567"}
    assert row.actor == "user:t_admin"


def test_password_change_is_audited_without_the_hash(client: Client, actors: Any) -> None:
    client.force_login(actors["admin"].user)
    user = actors["operator"].user
    response = client.post(f"/admin/auth/user/{user.pk}/password/", {
        "password1": "a-new-long-password-112", "password2": "a-new-long-password-112", "usable_password": "true"})
    assert response.status_code == 302, response.content[:500]
    row = AuditLog.objects.get(object_type="auth.user", object_id=str(user.pk), action="admin.password_change")
    assert row.actor == "user:t_admin"
    user.refresh_from_db()
    assert user.check_password("a-new-long-password-112")


def test_snapshots_never_hold_secrets(actors: Any) -> None:
    from siaga.core import audit

    user = actors["operator"].user
    data = audit.snapshot(user)
    assert data["password"].startswith("sha256:") and user.password not in repr(data)


def test_operational_records_are_read_only(client: Client, actors: Any) -> None:
    client.force_login(actors["admin"].user)
    assert client.get("/admin/calls/call/add/").status_code == 403
    assert client.get("/admin/incidents/incident/add/").status_code == 403
    assert client.get("/admin/core/auditlog/add/").status_code == 403
    assert client.get("/admin/incidents/category/add/").status_code == 200


def test_supervisor_is_not_admin(client: Client, actors: Any) -> None:
    client.force_login(actors["supervisor"].user)
    response = client.get("/admin/")
    assert response.status_code == 302  # not staff: back to the admin login
