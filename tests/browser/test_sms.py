"""SMS end to end with the real server: `siaga serve` (its sms role) handing messages to Kannel, fakesmsc's
phones answering, and the agency page in Chromium saying which steps came by SMS."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import screenshot
from tests.e2e.servers import Server, free_port, prepared_env, start
from tests.sms.kannel import Kannel, require_kannel

SECRET = "browser-sms-secret"
CREW = "6281299000101"  # the demo's Damkar crew (siaga.runtime.demo.DEMO_CREWS)


@pytest.fixture(scope="module")
def gateway_site(tmp_path_factory: Any) -> Iterator[tuple[Server, Kannel]]:
    require_kannel()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token = hmac.new(SECRET.encode(), b"kannel-mo", hashlib.sha256).hexdigest()[:32]
    kannel = Kannel(tmp_path_factory.mktemp("kannel"),
                    f"{url}/sms/kannel/mo/{token}/?id=%I&from=%p&to=%P&text=%a&time=%T").start()
    env = prepared_env(tmp_path_factory.mktemp("browser-sms"), "siaga_browser_sms", {
        "SIAGA_SMS_SENDSMS_URL": kannel.url, "SIAGA_SMS_USERNAME": "siaga", "SIAGA_SMS_PASSWORD": "rahasia",
        "SIAGA_SMS_SECRET": SECRET, "SIAGA_SMS_CALLBACK_URL": url, "SIAGA_ALERT_CHANNELS": "web,sms"})
    server = start(env, port=port)
    yield server, kannel
    server.stop()
    kannel.stop()


@pytest.fixture(scope="module")
def site(gateway_site: tuple[Server, Kannel]) -> Server:
    return gateway_site[0]


def api(server: Server, who: str, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, server.url + "/api/v1" + path, headers=server.headers(who), timeout=15, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def test_a_supervisors_warning_and_a_crews_dispatch_by_sms(gateway_site: tuple[Server, Kannel], login: Any) -> None:
    server, kannel = gateway_site
    draft = api(server, "operator", "POST", "/alerts/drafts", json={
        "hazard": "banjir", "display": "ticker", "headline": "Banjir di Jombang Wetan",
        "description": "Air setinggi 50 cm.", "instruction": "Hindari Jl. Sultan Ageng Tirtayasa.",
        "area_codes": ["36.72.05"]})
    api(server, "operator", "POST", f"/alerts/drafts/{draft['id']}/submit")
    alert = api(server, "supervisor", "POST", f"/alerts/drafts/{draft['id']}/approve")
    # the demo's two subscribers of Jombang (kecamatan 5 in code order), nobody else
    got = kannel.wait_received(2)
    assert sorted(m.to for m in got) == ["628129900105" + "1", "628129900105" + "2"]
    assert got[0].text.startswith("PERINGATAN WASPADA: Banjir di Jombang Wetan.")
    assert f"/peringatan/{alert['summary']['id']}/" in got[0].text
    # Kannel's delivery reports come back through the server's own lane (siaga.sms.views.asgi_dlr)
    deadline = time.monotonic() + 15
    while True:
        rows = api(server, "supervisor", "GET", f"/alerts/deliveries?alert={alert['summary']['id']}&channel=sms")
        numbers = [r for r in rows if r["target"] != "subscribers"]
        if len(numbers) == 2 and all(r["messages"] and r["messages"][-1]["status"] == "delivered" for r in numbers):
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.3)

    damkar = login("damkar", 1366, 768)
    damkar.wait_for_selector("#agency[data-ready='1']", timeout=15000)
    incident = api(server, "operator", "POST", "/incidents", json={
        "category": "kebakaran", "lat": -6.0171, "lon": 106.0556, "address": "Jl. Raya Cilegon No. 5",
        "description": "Ruko terbakar"})
    dispatch = api(server, "operator", "POST", f"/incidents/{incident['id']}/dispatches", json={"agency": "damkar"})
    crew_sms = next(m for m in kannel.wait_received(3) if m.to == CREW)
    assert incident["ticket"] in crew_sms.text and "Balas: 1" in crew_sms.text
    kannel.send(CREW, f"1 {incident['ticket']}")
    card = f"li[data-dispatch='{dispatch['id']}']"
    damkar.wait_for_selector(f"{card} .via-sms", timeout=10000)  # live: the page follows the crew's SMS
    assert "Diterima" in damkar.inner_text(f"{card} .st")
    damkar.click(card)
    damkar.wait_for_selector("#detail-ticket", timeout=5000)
    damkar.wait_for_function("document.querySelector('#detail ol.timeline').innerText.includes('(SMS)')",
                             timeout=5000)
    screenshot(damkar, "agency-sms")
    deadline = time.monotonic() + 10
    while not any(m.text.startswith(f"OK {incident['ticket']}") for m in kannel.received()):
        assert time.monotonic() < deadline, "the crew got no confirmation"
        time.sleep(0.2)
    assert damkar.errors == []
