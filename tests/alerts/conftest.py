"""Helpers for the alerts tests: issuing a manual alert through the real actions, brokers and servers."""

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hazards.conftest import feeds, replay  # noqa: F401 (the BMKG replay fixtures, shared)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def send_all(rounds: int = 3) -> None:
    """Run the real dispatcher until every due delivery has been tried (the clock two hours ahead)."""
    from datetime import timedelta

    from django.utils import timezone

    from siaga.alerts import dispatch

    for _ in range(rounds):
        dispatch.send_due(now=timezone.now() + timedelta(hours=2))


def issue(actors: Any, **overrides: Any) -> Any:
    """A manual alert: written by the operator, approved by the supervisor."""
    from siaga.alerts import actions

    data = {"hazard": "banjir", "display": "ticker", "headline": "Banjir di Jombang Wetan",
            "description": "Air setinggi 50 cm di Jl. Sultan Ageng Tirtayasa.",
            "instruction": "Hindari Jl. Sultan Ageng Tirtayasa; amankan barang berharga.",
            "headline_en": "Flooding in Jombang Wetan", "instruction_en": "Avoid Jl. Sultan Ageng Tirtayasa.",
            "area_codes": ["36.72.05"]}
    data.update(overrides)
    draft = actions.do_draft_create(actors["operator"].principal, data)
    actions.do_draft_submit(actors["operator"].principal, draft.pk)
    return actions.do_draft_approve(actors["supervisor"].principal, draft.pk)


def broker_up(host: str = "127.0.0.1", port: int = 1883) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def mqtt_broker() -> str:
    if not broker_up():
        if os.environ.get("SIAGA_REQUIRE_MQTT") == "1":
            pytest.fail("Mosquitto is not running on 127.0.0.1:1883 (SIAGA_REQUIRE_MQTT=1)")
        pytest.skip("no MQTT broker on 127.0.0.1:1883")
    return "mqtt://127.0.0.1:1883"


class Mailbox:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        box = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                import email

                box.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.stop()


@pytest.fixture
def espeak() -> str:
    import shutil

    binary = shutil.which("espeak-ng")
    if binary is None:
        if os.environ.get("SIAGA_REQUIRE_ESPEAK") == "1":
            pytest.fail("espeak-ng is not installed (SIAGA_REQUIRE_ESPEAK=1)")
        pytest.skip("espeak-ng is not installed")
    return binary
