"""Every channel delivers exactly once against a real peer: Mosquitto, an aiosmtpd SMTP server, an HTTP
receiver, espeak-ng, the public page; failures are retried with backoff and an admin can resend."""

import json
import threading
import time
import uuid
import wave
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from siaga.alerts import dispatch
from siaga.alerts.models import Delivery, DeliveryStatus
from tests.alerts.conftest import issue, send_all

pytestmark = pytest.mark.django_db



def retained(prefix: str, expected: int) -> dict[str, Any]:
    """What a siren that connects now gets: {kecamatan code: the retained payload}."""
    import paho.mqtt.client as mqtt

    got: dict[str, Any] = {}
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *a: (c.subscribe(f"{prefix}/#", qos=1), ready.set())
    client.on_message = lambda c, u, message: got.__setitem__(message.topic.rsplit("/", 1)[-1], (
        message.retain, json.loads(message.payload) if message.payload else None))
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        ready.wait(5)
        deadline = time.monotonic() + 5
        while len(got) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
    finally:
        client.loop_stop()
        client.disconnect()
    assert all(is_retained for is_retained, _ in got.values())
    return {code: payload for code, (_, payload) in got.items()}


def clean(prefix: str, codes: list[str]) -> None:
    import paho.mqtt.client as mqtt

    cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    cleaner.connect("127.0.0.1", 1883)
    for code in codes:
        cleaner.publish(f"{prefix}/{code}", b"", retain=True).wait_for_publish(5)
    cleaner.disconnect()


def test_mqtt_retained_qos1_per_kecamatan(actors: Any, settings: Any, mqtt_broker: str) -> None:
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
    try:
        got = retained(prefix, 2)
        assert sorted(got) == ["36.72.01", "36.72.05"]
        payload = got["36.72.01"]
        assert payload["identifier"] == alert.identifier and payload["exercise"] is True and payload["in_force"]
        assert payload["display"] == "ticker" and payload["area_code"] == "36.72.01"
    finally:
        clean(prefix, ["36.72.01", "36.72.05"])


def test_mqtt_retained_state_is_the_strongest_warning_in_force(actors: Any, settings: Any,
                                                               mqtt_broker: str) -> None:
    """A ticker approved during an AWAS leaves the sirens on AWAS; cancelling one of two warnings leaves the
    other; an expiry (no message at all) is caught by the dispatcher's reconciliation."""
    from siaga.alerts import actions
    from siaga.alerts.channels import mqtt as channel

    prefix = f"siaga-test/{uuid.uuid4().hex[:8]}"
    settings.MQTT_URL, settings.MQTT_TOPIC_PREFIX, settings.ALERT_CHANNELS = mqtt_broker, prefix, ["mqtt"]
    codes = [f"36.72.0{n}" for n in range(1, 9)]
    try:
        awas = issue(actors, display="fullscreen", severity="Extreme", hazard="kimia", area_codes=["36.72.04"],
                     headline="Kebocoran amonia di Ciwandan")
        send_all()
        ticker = issue(actors, area_codes=codes, headline="Hujan lebat di seluruh kota")
        send_all()
        state = retained(prefix, 8)
        assert state["36.72.04"]["identifier"] == awas.identifier and state["36.72.04"]["display"] == "fullscreen"
        assert {state[c]["identifier"] for c in codes if c != "36.72.04"} == {ticker.identifier}
        actions.do_cancel_thread(actors["supervisor"].principal, awas.thread_id, "gas sudah aman")
        send_all()
        state = retained(prefix, 8)
        assert state["36.72.04"]["identifier"] == ticker.identifier  # the other warning is still in force
        actions.do_cancel_thread(actors["supervisor"].principal, ticker.thread_id, "hujan reda")
        send_all()
        state = retained(prefix, 8)
        assert {c: (p["display"], p["in_force"]) for c, p in state.items()} == dict.fromkeys(codes, ("none", False))

        short = issue(actors, area_codes=["36.72.02"], headline="Genangan di Jalan Raya Merak")
        send_all()
        assert retained(prefix, 8)["36.72.02"]["in_force"] is True
        later = short.expires + timedelta(seconds=1)
        assert actions.expire_threads(later) == 1
        with time_machine.travel(later, tick=False):
            assert dispatch.reconcile() is None
        assert retained(prefix, 8)["36.72.02"] == {"area_code": "36.72.02", "display": "none", "ews_level": None,
                                                   "in_force": False}
    finally:
        channel.CHANNEL.close()
        clean(prefix, codes)


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
    assert message["Subject"] == "[LATIHAN] [PERINGATAN] Banjir di Jombang Wetan"  # LATIHAN once, not twice
    assert "".join(message["X-Siaga-Alert"].split()) == alert.identifier  # long headers are folded
    parts = {part.get_content_type(): part for part in message.walk()}
    assert "application/cap+xml" in parts
    assert parts["application/cap+xml"].get_payload(decode=True).decode() == alert.xml
    body = parts["text/plain"].get_payload(decode=True).decode()
    assert "LATIHAN" in body and "Banjir di Jombang Wetan" in body and "Flooding in Jombang Wetan" in body


def test_an_exercise_cancel_says_latihan_once(actors: Any, settings: Any, mailbox: Any) -> None:
    from siaga.alerts import actions

    settings.SMTP_URL, settings.ALERT_CHANNELS, settings.ALERT_EMAILS = mailbox.url, ["email"], ["a@cilegon.go.id"]
    alert = issue(actors, exercise=True)
    cancel = actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "latihan selesai")
    assert cancel.headline == "[LATIHAN] Peringatan dibatalkan: Banjir di Jombang Wetan"
    assert cancel.headline_en == "[EXERCISE] Warning cancelled: Flooding in Jombang Wetan"
    send_all()
    subjects = sorted(message["Subject"] for _, message in mailbox.messages)
    assert subjects == ["[LATIHAN] [PEMBATALAN] Peringatan dibatalkan: Banjir di Jombang Wetan",
                        "[LATIHAN] [PERINGATAN] Banjir di Jombang Wetan"]


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
    tries = list(row.attempt_rows.order_by("number"))  # one row per try, as webhooks keep them
    assert [(t.number, t.ok) for t in tries] == [(1, False), (2, True)]
    assert tries[0].error.startswith("SMTP") and tries[1].error == "" and tries[0].at <= tries[1].at


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
