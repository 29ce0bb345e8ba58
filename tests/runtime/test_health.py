"""/healthz and /readyz on the real database (and a real Redis when one answers on 6379)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.test import Client

from siaga.runtime import health
from siaga.runtime.roles import Node, RoleError, parse_roles

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthz_says_only_that_the_process_answers(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response["Cache-Control"] == "no-store"


def test_readyz_checks_the_database_and_migrations_and_needs_no_login(client: Client, settings: Any) -> None:
    settings.REDIS_URL = None
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ready"] is True
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "not configured"}
    assert body["degraded"] == []


def test_a_lost_redis_degrades_readiness_but_keeps_the_node_in_the_pool(client: Client, settings: Any) -> None:
    # Redis carries only the live pages between nodes: 112 calls must still be taken without it
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200 and body["ready"] is True
    assert body["checks"]["redis"].startswith("unavailable") and body["degraded"] == ["redis"]


def test_readyz_is_503_without_the_database(client: Client, settings: Any, monkeypatch: Any) -> None:
    from django.db import OperationalError

    from siaga.runtime import health

    def away() -> str:
        try:
            raise OperationalError("connection refused")
        except OperationalError as exc:
            return f"unavailable: {exc}"

    monkeypatch.setattr(health, "check_database", away)
    settings.REDIS_URL = None
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["ready"] is False and response["Retry-After"] == "5"
    assert body["checks"]["database"] == "unavailable: connection refused"
    assert body["checks"]["migrations"] == "unknown" and "holds" not in body


def test_readyz_names_the_singleton_roles_this_node_holds(client: Client, settings: Any) -> None:
    import time

    settings.REDIS_URL = None
    settings.HAZARD_POLLING, settings.BMKG_FEEDS, settings.INATEWS_FEEDS = True, [], []
    settings.USGS_FEEDS, settings.CAP_FEEDS = [], []
    node = Node(["pollers"], name="test-node:1:abc").start(seal=False)
    try:
        deadline = time.monotonic() + 5
        while node.status()["pollers"] != "held" and time.monotonic() < deadline:
            time.sleep(0.05)
        body = client.get("/readyz").json()
        assert body["node"] == "test-node:1:abc" and body["holds"] == ["pollers"]
        assert body["runs"] == {"pollers": "held"} and body["leases"]["pollers"] == "test-node:1:abc"
    finally:
        node.stop()
    assert health.roles()["leases"]["pollers"] == ""  # a clean stop released it


def test_roles_are_parsed_with_a_clear_error() -> None:
    assert parse_roles("carousel, pollers") == ["pollers", "carousel"]
    assert parse_roles("all") == ["webhooks", "dissemination", "pollers", "carousel", "sms"]
    assert parse_roles("none") == []
    with pytest.raises(RoleError, match="unknown role poler"):
        parse_roles("poler")
