"""Pages: login, the landing page per role, the language switch, the liveness probe."""

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_login_page_is_indonesian_first(client: Client) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    assert "Masuk ke Siaga112" in response.content.decode()
    assert 'lang="id"' in response.content.decode()


def test_home_needs_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_with_the_form_lands_on_the_console(client: Client, actors: Any) -> None:
    response = client.post("/login/", {"username": "t_operator", "password": "correct-horse-112"})
    assert response.status_code == 302
    page = client.get("/", follow=True)
    assert page.redirect_chain[-1][0] == "/console/"
    text = page.content.decode()
    assert "Antrian panggilan" in text and "Cari tiket, nomor, alamat" in text and "<kbd>P</kbd>" in text


def test_wrong_password_is_refused_and_audited(client: Client, actors: Any) -> None:
    from siaga.core.models import AuditLog

    response = client.post("/login/", {"username": "t_operator", "password": "nope"})
    assert response.status_code == 200 and "salah" in response.content.decode()
    assert AuditLog.objects.filter(action="auth.login_failed", object_id="t_operator").exists()


@pytest.mark.parametrize(("who", "landing"), [("operator", "/console/"), ("supervisor", "/console/"),
                                              ("agency", "/agency/"), ("wall", "/wall/"), ("admin", "/console/")])
def test_each_role_lands_on_its_screen(client: Client, actors: Any, who: str, landing: str) -> None:
    client.force_login(actors[who].user)
    assert client.get("/")["Location"] == landing


def test_a_user_without_role_is_told_so(client: Client, db: Any) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("norole", password="x-long-password-1")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403 and "Belum ada peran" in response.content.decode()


def test_language_switch_to_english(client: Client, actors: Any) -> None:
    client.force_login(actors["operator"].user)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    assert response.status_code == 302
    page = client.get("/console/").content.decode()
    assert "Call queue" in page and "Search ticket, number, address" in page and 'lang="en"' in page
    catalog = client.get("/jsi18n/").content.decode()
    assert "Ringing" in catalog  # the scripts' strings are translated too
    client.post("/i18n/setlang/", {"language": "id", "next": "/console/"})
    assert "Antrian panggilan" in client.get("/console/").content.decode()


def test_healthz(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_admin_is_indonesian_and_audit_is_read_only(client: Client, actors: Any) -> None:
    client.force_login(actors["admin"].user)
    page = client.get("/admin/").content.decode()
    assert "Data induk" in page
    audit = client.get("/admin/core/auditlog/").content.decode()
    assert "Tambah" not in audit or "auditlog/add" not in audit
    assert client.get("/admin/core/auditlog/add/").status_code == 403


def test_api_docs_are_local_and_for_logged_in_users(client: Client, actors: Any) -> None:
    assert client.get("/api/v1/docs").status_code == 302
    client.force_login(actors["operator"].user)
    docs = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui" in docs.lower()
    assert "cdn" not in docs.lower() and "/static/ninja/" in docs
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Siaga112 API"
    cti = schema["paths"]["/api/v1/cti/events"]["post"]
    assert cti["x-roles"] == ["pbx"] and "Roles: pbx." in cti["description"]
    assert "event_id" in cti["requestBody"]["content"]["application/json"]["schema"]["required"]
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            assert spec.get("x-roles"), (method, path)


def test_login_is_throttled_after_repeated_failures(client: Client, actors: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/login/", {"username": "t_operator", "password": "wrong"})
    response = client.post("/login/", {"username": "t_operator", "password": "correct-horse-112"})
    assert response.status_code == 429
    assert "Terlalu banyak percobaan" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # another user from another address is not affected
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert other.post("/login/", {"username": "t_supervisor", "password": "correct-horse-112"}).status_code == 302


def test_sessions_expire(settings: Any) -> None:
    assert 0 < settings.SESSION_COOKIE_AGE <= 24 * 3600
