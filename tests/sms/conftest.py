"""The SMS tests: a real Kannel (bearerbox, smsbox, fakesmsc) on loopback, calling a live Siaga112 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sms.kannel import Kannel, require_kannel


@pytest.fixture
def sms_settings(settings: Any) -> Any:
    """SMS on, pointed at a gateway that nobody listens on (a test that needs Kannel uses ``kannel``)."""
    from siaga.sms import gateway

    settings.SMS_SENDSMS_URL = "http://127.0.0.1:9/cgi-bin/sendsms"
    settings.SMS_USERNAME, settings.SMS_PASSWORD = "siaga", "rahasia"
    settings.SMS_RATE, settings.SMS_CONCURRENCY = 200.0, 4
    settings.ALERT_CHANNELS = ["sms"]
    settings.SMS_SECRET = "test-sms-secret"
    gateway.reset()
    yield settings
    gateway.reset()


@pytest.fixture
def kannel(sms_settings: Any, live_server: Any, tmp_path: Path) -> Iterator[Kannel]:
    require_kannel()
    from siaga.sms import gateway

    sms_settings.SMS_CALLBACK_URL = live_server.url
    box = Kannel(tmp_path, gateway.mo_url())
    sms_settings.SMS_SENDSMS_URL = box.url
    gateway.reset()
    box.start()
    yield box
    box.stop()


def subscribe(phone: str, kecamatan: str, **fields: Any) -> Any:
    from siaga.core.models import Kecamatan
    from siaga.sms.models import Subscriber

    return Subscriber.objects.create(phone=phone, kecamatan=Kecamatan.objects.get(code=kecamatan), **fields)


def crew(phone: str, agency: str, name: str = "Regu 1") -> Any:
    from siaga.core.models import Agency
    from siaga.sms.models import CrewMember

    return CrewMember.objects.create(phone=phone, agency=Agency.objects.get(code=agency), name=name)


def run_sender(rounds: int = 5) -> int:
    """The sms role's rounds, as the running role does them (without waiting for its thread)."""
    from siaga.sms.sender import send_round

    return sum(send_round() for _ in range(rounds))
