"""Login throttling (django-axes with Siaga's normalised usernames and two limits), through the real login
form and the admin's, on the test database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from siaga.core.models import AuditLog

GOOD = "correct-horse-112"


def fail(client: Client, username: str, times: int, path: str = "/login/") -> list[int]:
    return [client.post(path, {"username": username, "password": "wrong"}).status_code for _ in range(times)]


def logs_in(client: Client, username: str = "t_wall") -> bool:
    client.post("/login/", {"username": username, "password": GOOD})
    return "_auth_user_id" in client.session


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.AXES_FAILURE_LIMIT = 3
    return settings


def test_the_failure_that_reaches_the_limit_already_answers_with_the_wait(client: Client, actors: Any,
                                                                         limits: Any) -> None:
    statuses = fail(client, "t_wall", 3)
    assert statuses == [200, 200, 429]
    response = client.post("/login/", {"username": "t_wall", "password": GOOD})
    assert response.status_code == 429
    text = response.content.decode()
    assert "Terlalu banyak percobaan" in text and "15 menit" in text
    assert "_auth_user_id" not in client.session
    assert AuditLog.objects.filter(action="auth.login_throttled", object_id="t_wall").exists()


@pytest.mark.parametrize("look_alike", ["\uff54_wall", "T_WALL", "t_wall ", "t_\uff37all"])
def test_a_look_alike_username_is_locked_with_the_account_it_would_reach(client: Client, actors: Any,
                                                                         limits: Any, look_alike: str) -> None:
    fail(client, "t_wall", 3)
    response = client.post("/login/", {"username": look_alike, "password": "guess"})
    assert response.status_code == 429 and "Terlalu banyak percobaan" in response.content.decode()


@pytest.mark.parametrize("look_alike", ["\uff54_wall", "T_WALL", "t_\uff37all"])
def test_failures_typed_as_look_alikes_lock_the_real_account(actors: Any, limits: Any, look_alike: str) -> None:
    fail(Client(REMOTE_ADDR="10.9.9.9"), look_alike, 3)
    assert not logs_in(Client(REMOTE_ADDR="10.9.9.10"), "t_wall")
    assert logs_in(Client(REMOTE_ADDR="10.9.9.11"), "t_operator")


def test_failures_are_audited_under_the_normalised_name(client: Client, actors: Any) -> None:
    fail(client, "\uff54_Wall", 1)
    row = AuditLog.objects.get(action="auth.login_failed")
    assert row.object_id == "t_wall" and row.note == "127.0.0.1"


def test_another_user_from_another_address_is_not_affected(client: Client, actors: Any, limits: Any) -> None:
    fail(client, "t_wall", 3)
    assert logs_in(Client(REMOTE_ADDR="10.1.2.3"), "t_supervisor")


def test_one_address_trying_many_names_waits_after_four_times_the_limit(actors: Any, limits: Any) -> None:
    sprayer = Client(REMOTE_ADDR="10.7.7.7")
    for name in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"):
        fail(sprayer, name, 1)
    assert logs_in(sprayer, "t_operator")  # 11 failures < 12: still allowed
    sprayer.logout()
    fail(sprayer, "l", 1)
    assert not logs_in(sprayer, "t_supervisor")  # 12: the address waits, whichever name it tries
    assert logs_in(Client(REMOTE_ADDR="10.7.7.8"), "t_supervisor")


def test_the_lock_lifts_after_the_wait(client: Client, actors: Any, limits: Any) -> None:
    fail(client, "t_wall", 3)
    assert not logs_in(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        assert logs_in(client)


def test_the_admin_login_is_throttled_too(client: Client, actors: Any, limits: Any) -> None:
    fail(client, "t_admin", 3, path="/admin/login/")
    response = client.post("/admin/login/", {"username": "t_admin", "password": GOOD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_forwarded_for_header_is_not_the_address(actors: Any, limits: Any) -> None:
    """Behind no configured proxy (the test client is the connection), X-Forwarded-For changes nothing:
    axes must not read it and the audit log keeps the connection's address."""
    client = Client(REMOTE_ADDR="10.5.5.5")
    for n in range(12):
        client.post("/login/", {"username": f"u{n}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert set(AuditLog.objects.filter(action="auth.login_failed").values_list("note", flat=True)) == {"10.5.5.5"}
    assert not logs_in(client, "t_operator")
