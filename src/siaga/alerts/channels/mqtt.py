"""MQTT for sirens and displays: one retained QoS 1 message per kecamatan topic.

Topic ``<SIAGA_MQTT_TOPIC_PREFIX>/<kemendagri code>`` (e.g. ``siaga112/cilegon/peringatan/36.72.01``);
the payload is JSON (the alert's summary, ``exercise`` marked). Retained, so a siren that reconnects gets
the current state at once; a Cancel replaces it with a message whose ``display`` is ``none``.
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

    def enabled(self) -> bool:
        return bool(settings.MQTT_URL)

    def targets(self, alert: Alert) -> list[str]:
        return [f"{settings.MQTT_TOPIC_PREFIX}/{code}" for code in alert.area_codes]

    def payload(self, alert: Alert, topic: str) -> bytes:
        from siaga.alerts.public import public_summary

        data = public_summary(alert)
        data["area_code"] = topic.rsplit("/", 1)[-1]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        with self._lock:
            if self._connection is None or not self._connection.is_connected():
                if self._connection is not None:
                    self._connection.loop_stop()
                self._connection = _client()
            info = self._connection.publish(delivery.target, self.payload(alert, delivery.target), qos=1,
                                            retain=True)
            try:
                info.wait_for_publish(PUBLISH_TIMEOUT)
            except (RuntimeError, ValueError) as exc:
                self._drop()
                raise ChannelError(f"MQTT publish failed: {exc}") from None
            if not info.is_published():
                self._drop()
                raise ChannelError("the MQTT broker did not acknowledge the message (QoS 1) in time")
            return {"topic": delivery.target, "mid": info.mid}

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.loop_stop()
            self._connection.disconnect()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            self._drop()


CHANNEL = MqttChannel()
