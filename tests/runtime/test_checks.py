"""`siaga check --deploy`: Django's deployment checks and Siaga112's, against real servers (aiosmtpd, Mosquitto)
and closed ports."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import clock
from tests.alerts.conftest import Mailbox, broker_up


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ids(settings: Any) -> set[str]:
    from siaga.runtime.checks import deployment

    return {message.id for message in deployment()}


@pytest.fixture
def good(settings: Any, tmp_path: Path) -> Any:
    from siaga.formats import capsign

    key, cert = capsign.keygen("Siaga112 Kota Cilegon")
    (tmp_path / "key.pem").write_bytes(key)
    (tmp_path / "cert.pem").write_bytes(cert)
    settings.CAP_SIGNING_KEY_FILE = str(tmp_path / "key.pem")
    settings.CAP_SIGNING_CERT_FILE = str(tmp_path / "cert.pem")
    settings.ENVIRONMENT = "production"
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.HAZARD_POLLING, settings.BMKG_FEEDS = True, ["https://data.bmkg.go.id/DataMKG/TEWS/autogempa.json"]
    settings.INATEWS_FEEDS = ["https://inatews.example/warning.json"]
    settings.ALERT_CHANNELS = ["web", "ews"]
    settings.EWS_UDP = ["239.255.112.1:5005"]
    settings.REDIS_URL = None
    return settings


def test_a_complete_configuration_raises_only_the_database_choice(good: Any) -> None:
    found = ids(good)
    sqlite = "postgresql" not in good.DATABASES["default"]["ENGINE"]
    # W009: no pg_dump on this machine; W011: the signing certificate is self-signed
    assert found - {"siaga.W009", "siaga.W011"} == ({"siaga.W001"} if sqlite else set())


def test_what_a_city_would_miss_is_named(good: Any) -> None:
    good.TRUSTED_PROXIES = []
    good.HAZARD_POLLING = False
    good.INATEWS_FEEDS = []
    good.EWS_UDP = []
    good.ALERT_CHANNELS = ["web", "email", "mqtt", "ews"]
    good.SMTP_URL = good.MQTT_URL = None
    assert {"siaga.W002", "siaga.W003", "siaga.W004", "siaga.W005", "siaga.W006", "siaga.W008"} <= ids(good)


def test_smtp_and_mqtt_are_connected_to(good: Any) -> None:
    good.ALERT_CHANNELS = ["web", "email", "mqtt", "ews"]
    good.SMTP_URL = f"smtp://127.0.0.1:{closed_port()}"
    good.MQTT_URL = f"mqtt://127.0.0.1:{closed_port()}"
    good.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    from siaga.runtime.checks import deployment

    messages = {m.id: m for m in deployment()}
    assert {"siaga.E005", "siaga.E006", "siaga.E007"} <= set(messages)
    assert "refused" in messages["siaga.E005"].msg.lower() or "111" in messages["siaga.E005"].msg

    box = Mailbox()
    try:
        good.SMTP_URL = box.url
        if broker_up():
            good.MQTT_URL = "mqtt://127.0.0.1:1883"
        found = ids(good)
        assert "siaga.E005" not in found
        assert "siaga.E006" not in found or not broker_up()
    finally:
        box.stop()


def test_siaga_check_deploy_runs_django_and_siaga_checks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update({"SIAGA_VAR_DIR": str(tmp_path), "SIAGA_ENV": "production", "SIAGA_ALLOWED_HOSTS": "siaga.example",
                "SIAGA_SECRET_KEY": secrets.token_urlsafe(50), "SIAGA_ALERT_CHANNELS": "web,mqtt",
                "SIAGA_MQTT_URL": f"mqtt://127.0.0.1:{closed_port()}", "SIAGA_LANG": "en"})
    done = subprocess.run([*clock.siaga(), "check", "--deploy"], env=env, capture_output=True, text=True,
                          timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "siaga.E006" in out  # an error stops it: exit status for a script
    assert "siaga.W002" in out and "security.W004" in out  # Django's own deployment checks ran too
    assert "siaga.E012" in out  # production without a CAP signing pair
    env["SIAGA_TRUSTED_PROXIES"] = "127.0.0.1"
    env["SIAGA_ALERT_CHANNELS"] = "web"
    made = subprocess.run([*clock.siaga(), "cap", "keygen", "--out", str(tmp_path / "cap")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    env["SIAGA_CAP_SIGNING_KEY_FILE"] = str(tmp_path / "cap" / "signing-key.pem")
    env["SIAGA_CAP_SIGNING_CERT_FILE"] = str(tmp_path / "cap" / "signing-cert.pem")
    done = subprocess.run([*clock.siaga(), "check", "--deploy"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "siaga.W011" in done.stdout + done.stderr  # self-signed: a warning to act on, not an error
    assert "security.W004" not in done.stdout + done.stderr  # the proxy sends HSTS (docs/deploy.md)


def test_the_sms_gateway_is_asked_whether_it_takes_our_credentials(good: Any, tmp_path: Path) -> None:
    from tests.sms.kannel import Kannel, require_kannel

    good.ALERT_CHANNELS = ["web", "ews", "sms"]
    good.SMS_SENDSMS_URL = None
    assert "siaga.W010" in ids(good)
    good.SMS_SENDSMS_URL = f"http://127.0.0.1:{closed_port()}/cgi-bin/sendsms"
    assert "siaga.E010" in ids(good)
    require_kannel()
    kannel = Kannel(tmp_path, "http://127.0.0.1:9/unused").start()
    try:
        good.SMS_SENDSMS_URL, good.SMS_USERNAME, good.SMS_PASSWORD = kannel.url, "siaga", "salah"
        assert "siaga.E011" in ids(good)
        good.SMS_PASSWORD = "rahasia"
        assert not {"siaga.W010", "siaga.E010", "siaga.E011"} & ids(good)
    finally:
        kannel.stop()


def test_the_cap_signing_pair_is_there_readable_one_pair_and_in_date(good: Any, tmp_path: Path) -> None:
    from siaga.formats import capsign

    assert "siaga.W011" in ids(good)  # self-signed: said, not refused
    good.CAP_SIGNING_KEY_FILE = good.CAP_SIGNING_CERT_FILE = None
    assert "siaga.E012" in ids(good)  # production without a pair
    other_key, _ = capsign.keygen("someone else")
    (tmp_path / "other.pem").write_bytes(other_key)
    good.CAP_SIGNING_KEY_FILE, good.CAP_SIGNING_CERT_FILE = str(tmp_path / "other.pem"), str(tmp_path / "cert.pem")
    assert "siaga.E013" in ids(good)
    import datetime as dt

    old_key, old_cert = capsign.keygen("old", days=10, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    (tmp_path / "old-key.pem").write_bytes(old_key)
    (tmp_path / "old-cert.pem").write_bytes(old_cert)
    good.CAP_SIGNING_KEY_FILE = str(tmp_path / "old-key.pem")
    good.CAP_SIGNING_CERT_FILE = str(tmp_path / "old-cert.pem")
    assert "siaga.E014" in ids(good)

