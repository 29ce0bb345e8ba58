"""Every channel delivers exactly once against a real peer: Mosquitto, an aiosmtpd SMTP server, an HTTP
receiver, espeak-ng, the public page; failures are retried with backoff and an admin can resend."""

import json
import threading
import time
import uuid
import wave
from typing import Any

import pytest
from django.utils import timezone

from siaga.alerts import dispatch
from siaga.alerts.models import Delivery, DeliveryStatus
from tests.alerts.conftest import issue, send_all

pytestmark = pytest.mark.django_db



def test_mqtt_retained_qos1_per_kecamatan(actors: Any, settings: Any, mqtt_broker: str) -> None:
    import paho.mqtt.client as mqtt

    from siaga.alerts.channels import mqtt as channel

    prefix = f"siaga-test/{uuid.uuid4().hex[:8]}"
    settings.MQTT_URL, settings.MQTT_TOPIC_PREFIX, settings.ALERT_CHANNELS = mqtt_broker, prefix, ["mqtt"]
    alert = issue(actors, area_codes=["36.72.05", "36.72.01"], exercise=True)
    rows = list(Delivery.objects.filter(alert=alert))
    assert sorted(r.target for r in rows) == [f"{prefix}/36.72.01", f"{prefix}/36.72.05"]
    send_all()
    channel.CHANNEL.close()
    assert all(r.status == DeliveryStatus.SENT and r.attempts == 1 for r in Delivery.objects.filter(alert=alert))

    # a siren that connects afterwards gets the retained message of its kecamatan at once
    got: list[Any] = []
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *a: (c.subscribe(f"{prefix}/#", qos=1), ready.set())
    client.on_message = lambda c, u, message: got.append(message)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        ready.wait(5)
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
    assert sorted(m.topic for m in got) == [f"{prefix}/36.72.01", f"{prefix}/36.72.05"]
    assert all(m.retain for m in got)
    payload = json.loads(got[0].payload)
    assert payload["identifier"] == alert.identifier and payload["exercise"] is True
    assert payload["display"] == "ticker" and payload["area_code"] in ("36.72.01", "36.72.05")
    # clean up the retained messages of this test
    cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    cleaner.connect("127.0.0.1", 1883)
    for message in got:
        cleaner.publish(message.topic, b"", retain=True).wait_for_publish(5)
    cleaner.disconnect()


def test_mqtt_broker_down_is_retried(actors: Any, settings: Any) -> None:
    from tests.alerts.conftest import free_port

    settings.MQTT_URL, settings.ALERT_CHANNELS = f"mqtt://127.0.0.1:{free_port()}", ["mqtt"]
    alert = issue(actors)
    dispatch.send_due()
    row = Delivery.objects.get(alert=alert)
    assert row.status == DeliveryStatus.RETRYING and row.attempts == 1 and "connect" in row.last_error
    assert row.next_attempt_at > timezone.now()


def test_email_to_every_agency_once_with_the_cap_attached(actors: Any, settings: Any, mailbox: Any) -> None:
    from siaga.core.models import Agency

    settings.SMTP_URL, settings.ALERT_CHANNELS = mailbox.url, ["email"]
    settings.ALERT_EMAILS = ["Pusdalops@Bpbd.Cilegon.go.id"]
    Agency.objects.filter(code="damkar").update(email="damkar@cilegon.go.id")
    Agency.objects.filter(code="bpbd").update(email="pusdalops@bpbd.cilegon.go.id")  # the same address twice
    alert = issue(actors, exercise=True)
    targets = sorted(Delivery.objects.filter(alert=alert).values_list("target", flat=True))
    assert targets == ["damkar@cilegon.go.id", "pusdalops@bpbd.cilegon.go.id"]
    send_all()
    send_all()  # nothing is sent twice
    assert sorted(rcpt[0] for rcpt, _ in mailbox.messages) == targets
    _, message = mailbox.messages[0]
    assert message["Subject"].startswith("[LATIHAN]")
    assert "".join(message["X-Siaga-Alert"].split()) == alert.identifier  # long headers are folded
    parts = {part.get_content_type(): part for part in message.walk()}
    assert "application/cap+xml" in parts
    assert parts["application/cap+xml"].get_payload(decode=True).decode() == alert.xml
    body = parts["text/plain"].get_payload(decode=True).decode()
    assert "LATIHAN" in body and "Banjir di Jombang Wetan" in body and "Flooding in Jombang Wetan" in body


def test_email_server_down_then_back(actors: Any, settings: Any) -> None:
    from tests.alerts.conftest import Mailbox

    box = Mailbox()
    box.stop()  # nothing listens on its port now
    settings.SMTP_URL, settings.ALERT_CHANNELS, settings.ALERT_EMAILS = box.url, ["email"], ["a@cilegon.go.id"]
    alert = issue(actors)
    dispatch.send_due()
    row = Delivery.objects.get(alert=alert)
    assert row.status == DeliveryStatus.RETRYING and row.last_error.startswith("SMTP")
    restarted = Mailbox.__new__(Mailbox)
    from aiosmtpd.controller import Controller

    restarted.messages = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            restarted.messages.append(envelope.rcpt_tos)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        send_all()
    finally:
        controller.stop()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert restarted.messages == [["a@cilegon.go.id"]]


def test_signed_webhook_with_retry(actors: Any, settings: Any) -> None:
    import hashlib
    import hmac

    from siaga.webhooks.models import Webhook
    from tests.webhooks.test_webhooks import Receiver

    receiver = Receiver(script=[503])
    try:
        settings.ALERT_CHANNELS = ["webhook"]
        hook = Webhook.objects.create(name="bpbd-provinsi", url=receiver.url, topics="alert.")
        Webhook.objects.create(name="only-incidents", url=receiver.url, topics="incident.")
        alert = issue(actors)
        [row] = Delivery.objects.filter(alert=alert)
        assert row.target == f"webhook:{hook.pk}"
        dispatch.send_due()
        row.refresh_from_db()
        assert row.status == DeliveryStatus.RETRYING and "503" in row.last_error
        send_all()
        row.refresh_from_db()
        assert row.status == DeliveryStatus.SENT and row.attempts == 2
        assert len(receiver.received) == 2
        first, second = receiver.received
        assert first["headers"]["X-Siaga-Delivery"] == second["headers"]["X-Siaga-Delivery"]  # one id, for dedupe
        stamp = second["headers"]["X-Siaga-Timestamp"]
        expected = hmac.new(hook.secret.encode(), stamp.encode() + b"." + second["body"], hashlib.sha256).hexdigest()
        assert second["headers"]["X-Siaga-Signature"] == f"sha256={expected}"
        payload = json.loads(second["body"])
        assert payload["topic"] == "alert.issued" and payload["data"]["identifier"] == alert.identifier
        assert payload["cap"] == alert.xml
    finally:
        receiver.close()


def test_tts_wav_of_the_indonesian_text(actors: Any, settings: Any, espeak: str, client: Any, tmp_path: Any) -> None:
    settings.ALERT_CHANNELS, settings.VAR_DIR = ["tts"], tmp_path
    alert = issue(actors, exercise=True)
    send_all()
    row = Delivery.objects.get(alert=alert)
    assert row.status == DeliveryStatus.SENT, row.last_error
    path = tmp_path / "alerts" / "tts" / f"{alert.pk}.wav"
    with wave.open(str(path), "rb") as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert seconds > 3 and row.result["seconds"] == pytest.approx(seconds, abs=0.01)
    from siaga.alerts.channels.tts import spoken_text

    text = spoken_text(alert)
    assert text.startswith("Perhatian") and text.count("latihan") == 2
    response = client.get(f"/peringatan/{alert.pk}.wav", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


def test_web_channel_publishes_on_the_public_stream(actors: Any, settings: Any) -> None:
    from siaga.core.events import get_bus

    settings.ALERT_CHANNELS = ["web"]
    seen: list[Any] = []
    remove = get_bus().add_listener(seen.append, ["public."])
    try:
        alert = issue(actors)
        send_all()
    finally:
        remove()
    assert [e.data["identifier"] for e in seen] == [alert.identifier]
    assert Delivery.objects.get(alert=alert).result["url"].endswith(f"/peringatan/{alert.pk}/")


def test_exactly_once_and_admin_resend(actors: Any, settings: Any) -> None:
    from siaga.alerts import actions
    from siaga.core.errors import Forbidden

    settings.ALERT_CHANNELS = ["web"]
    alert = issue(actors)
    actions.queue_deliveries(alert)  # asked twice: still one row per target
    assert Delivery.objects.filter(alert=alert).count() == 1
    send_all()
    send_all()
    row = Delivery.objects.get(alert=alert)
    assert row.attempts == 1
    with pytest.raises(Forbidden):
        actions.do_resend(actors["supervisor"].principal, [row.pk])
    assert actions.do_resend(actors["admin"].principal, [row.pk]) == 1
    send_all()
    row.refresh_from_db()
    assert row.attempts == 2 and row.status == DeliveryStatus.SENT
    assert Delivery.objects.filter(alert=alert).count() == 1


def test_a_crashing_channel_does_not_stop_the_others(actors: Any, settings: Any) -> None:
    from siaga.alerts import channels

    class Broken:
        name = "broken"

        def enabled(self) -> bool:
            return True

        def targets(self, alert: Any) -> list[str]:
            return ["x"]

        def send(self, delivery: Any, alert: Any) -> dict[str, Any]:
            raise ZeroDivisionError("bug")

    channels.register(Broken())
    try:
        settings.ALERT_CHANNELS = ["web", "broken"]
        alert = issue(actors)
        send_all(1)
        rows = {r.channel: r for r in Delivery.objects.filter(alert=alert)}
        assert rows["web"].status == DeliveryStatus.SENT
        assert rows["broken"].status == DeliveryStatus.RETRYING and "ZeroDivisionError" in rows["broken"].last_error
    finally:
        channels.unregister("broken")
