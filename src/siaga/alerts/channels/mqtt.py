"""MQTT for sirens and displays: one retained QoS 1 message per kecamatan topic: what is in force there.

Topic ``<SIAGA_MQTT_TOPIC_PREFIX>/<kemendagri code>`` (e.g. ``siaga112/cilegon/peringatan/36.72.01``). The
retained payload is the state of the kecamatan, not the last message sent: the strongest warning in force
there (full screen before ticker, then the higher level, then the latest), as JSON (its summary, with
``in_force`` true and ``exercise`` marked), or ``{"display": "none", "in_force": false}`` when nothing is.
Every delivery of every message publishes the current state of its topic, so a ticker approved during an
AWAS leaves the AWAS on the sirens and cancelling one of two warnings leaves the other; the dispatcher also
reconciles every topic on its sweep (expiries, a broker that was away, a restart).
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from siaga.alerts.channels import ChannelError
from siaga.alerts.models import Alert, Delivery

CONNECT_TIMEOUT = 5.0
PUBLISH_TIMEOUT = 5.0


def _client() -> Any:
    import paho.mqtt.client as mqtt

    url = urlsplit(settings.MQTT_URL or "")
    if url.scheme not in ("mqtt", "mqtts", "tcp"):
        raise ChannelError(f"SIAGA_MQTT_URL must start with mqtt:// or mqtts://, not {url.scheme!r}")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"siaga112-{threading.get_ident()}",
                         protocol=mqtt.MQTTv311)
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.scheme == "mqtts":
        client.tls_set()
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    try:
        client.connect(url.hostname or "127.0.0.1", url.port or (8883 if url.scheme == "mqtts" else 1883),
                       keepalive=30)
    except OSError as exc:
        raise ChannelError(f"cannot connect to the MQTT broker: {exc}") from None
    client.loop_start()
    if not connected.wait(CONNECT_TIMEOUT):
        client.loop_stop()
        raise ChannelError("the MQTT broker did not accept the connection in time")
    return client


class MqttChannel:
    name = "mqtt"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self._published: dict[str, bytes] = {}  # topic -> the payload this process last had acknowledged

    def enabled(self) -> bool:
        return bool(settings.MQTT_URL)

    def targets(self, alert: Alert) -> list[str]:
        return [f"{settings.MQTT_TOPIC_PREFIX}/{code}" for code in alert.area_codes]

    def state(self, area_code: str) -> tuple[Alert | None, bytes]:
        """(the warning in force in this kecamatan, the retained payload of its topic)."""
        from siaga.alerts.actions import DISPLAY_RANK, LEVEL_RANK
        from siaga.alerts.public import active_threads, public_summary

        best: tuple[tuple[int, int, str, int], Alert] | None = None
        for thread in active_threads():
            alert = thread.current
            if alert is None or area_code not in alert.area_codes:
                continue
            key = (DISPLAY_RANK.get(thread.display, 0), LEVEL_RANK.get(thread.ews_level or "", 0),
                   alert.sent.isoformat(), alert.pk)
            if best is None or key > best[0]:
                best = (key, alert)
        if best is None:
            data: dict[str, Any] = {"area_code": area_code, "display": "none", "ews_level": None, "in_force": False}
            chosen = None
        else:
            chosen = best[1]
            data = {**public_summary(chosen), "area_code": area_code, "in_force": True}
        return chosen, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    def _publish(self, topic: str, payload: bytes) -> int:
        if self._connection is None or not self._connection.is_connected():
            if self._connection is not None:
                self._connection.loop_stop()
            self._connection = _client()
        info = self._connection.publish(topic, payload, qos=1, retain=True)
        try:
            info.wait_for_publish(PUBLISH_TIMEOUT)
        except (RuntimeError, ValueError) as exc:
            self._drop()
            raise ChannelError(f"MQTT publish failed: {exc}") from None
        if not info.is_published():
            self._drop()
            raise ChannelError("the MQTT broker did not acknowledge the message (QoS 1) in time")
        self._published[topic] = payload
        return int(info.mid)

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        area_code = delivery.target.rsplit("/", 1)[-1]
        chosen, payload = self.state(area_code)
        with self._lock:
            mid = self._publish(delivery.target, payload)
        return {"topic": delivery.target, "mid": mid, "in_force": chosen.pk if chosen is not None else None}

    def reconcile(self) -> int:
        """Publish every kecamatan topic whose state differs from what this process last published there
        (all of them after a start); returns how many were published."""
        from siaga.core.models import Kecamatan

        published = 0
        with self._lock:
            for code in Kecamatan.objects.order_by("code").values_list("code", flat=True):
                topic = f"{settings.MQTT_TOPIC_PREFIX}/{code}"
                _chosen, payload = self.state(code)
                if self._published.get(topic) != payload:
                    self._publish(topic, payload)
                    published += 1
        return published

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.loop_stop()
            self._connection.disconnect()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            self._drop()
            self._published.clear()


CHANNEL = MqttChannel()
