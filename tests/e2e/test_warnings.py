"""End to end: `siaga serve` polls a BMKG replay server over HTTP, issues the warning, and delivers it: the
public SSE stream, the public page, MQTT (Mosquitto), the WAV; then the PD-4 ends it."""

import json
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from siaga.hazards.replay import ReplayServer
from tests.alerts.conftest import broker_up
from tests.e2e.servers import prepared_env, start, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Any:
    replay = ReplayServer()
    replay.start()
    urls = replay.feed_urls()
    prefix = f"siaga-e2e/{uuid.uuid4().hex[:8]}"
    channels = "web,tts" + (",mqtt" if broker_up() else "")
    env = prepared_env(tmp_path_factory.mktemp("var"), "siaga_e2e_warn", {
        "SIAGA_HAZARD_POLLING": "1", "SIAGA_POLL_INTERVAL_SECONDS": "0.5", "SIAGA_POLL_TIMEOUT_SECONDS": "2",
        "SIAGA_BMKG_FEEDS": urls["autogempa"], "SIAGA_INATEWS_FEEDS": urls["inatews"],
        "SIAGA_DRILL_FEEDS": f"{urls['autogempa']},{urls['inatews']}", "SIAGA_ALERT_CHANNELS": channels,
        "SIAGA_MQTT_URL": "mqtt://127.0.0.1:1883", "SIAGA_MQTT_TOPIC_PREFIX": prefix})
    node = start(env)
    yield {"node": node, "replay": replay, "prefix": prefix, "channels": channels}
    node.stop()
    replay.shutdown()


def _stream(url: str, got: list[dict[str, Any]], stop: threading.Event) -> None:
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(5, read=30)) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    got.append(json.loads(line[6:]))
                if stop.is_set():
                    return
    except httpx.HTTPError:
        return  # the server stopped at the end of the module




def test_a_tsunami_record_becomes_a_delivered_warning_and_pd4_ends_it(world: Any) -> None:
    node, replay = world["node"], world["replay"]
    headers = node.headers("supervisor")
    got: list[dict[str, Any]] = []
    stop = threading.Event()
    listener = threading.Thread(target=_stream, args=(node.url + "/peringatan/stream", got, stop), daemon=True)
    listener.start()
    wait_for(lambda: any(m["topic"] == "hello" for m in got))
    # the recorded history was polled and kept, not broadcast
    wait_for(lambda: httpx.get(node.url + "/api/v1/hazards/events", headers=headers).json())
    assert httpx.get(node.url + "/api/v1/alerts/threads", headers=headers).json() == []

    published = time.monotonic()
    replay.state.publish("autogempa", scenario_name="autogempa_drill_selat_sunda_m7_tsunami.json", shift_to_now=True)
    [thread] = wait_for(lambda: httpx.get(node.url + "/api/v1/alerts/threads?active=true", headers=headers).json())
    issued_after = time.monotonic() - published
    assert thread["display"] == "fullscreen" and thread["ews_level"] == "AWAS" and thread["exercise"] is True
    identifier = thread["current"]["identifier"]
    public = wait_for(lambda: [m for m in got if m["topic"] == "public.alert"])
    assert public[0]["data"]["identifier"] == identifier and public[0]["data"]["exercise"] is True
    assert issued_after < 10, issued_after

    def deliveries() -> list[dict[str, Any]]:
        rows = httpx.get(node.url + f"/api/v1/alerts/deliveries?alert={thread['current']['id']}",
                         headers=headers).json()
        return rows if rows and all(r["status"] == "sent" for r in rows) else []

    rows = wait_for(deliveries, 30)
    assert {r["channel"] for r in rows} == set(world["channels"].split(","))
    page = httpx.get(node.url + "/peringatan/").text
    assert "AWAS TSUNAMI" in page and "LATIHAN" in page
    wav = httpx.get(node.url + f"/peringatan/{thread['current']['id']}.wav")
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"

    replay.state.publish("inatews", scenario_name="inatews_drill_selat_sunda_PD4.json", shift_to_now=True)
    wait_for(lambda: not httpx.get(node.url + "/api/v1/alerts/threads?active=true", headers=headers).json())
    ended = httpx.get(node.url + "/api/v1/alerts/threads", headers=headers).json()[0]
    assert ended["current"]["msg_type"] == "Cancel" and ended["messages"] == 2
    stop.set()
    feeds = httpx.get(node.url + "/api/v1/hazards/feeds", headers=headers).json()
    assert all(f["healthy"] for f in feeds if f["enabled"]), feeds
