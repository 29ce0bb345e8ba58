"""Browser: the set-top-box emulator's screen in Chromium, fed a real TS over UDP. The ticker and the
full-screen notice are photographed; no remote key clears the full screen, unplugging does, and plugging
back in while the warning is on air brings it back. An MStar box: the strip EXIT closes, the 30% window
of SIAGA, and the AWAS page that POWER still switches off."""

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from siaga.broadcast.stb import SetTopBox, StbHttpServer
from siaga.ews import ts
from siaga.ews.sections import Location, Message, encode_messages
from tests.alerts.conftest import udp_port
from tests.browser.conftest import new_context, screenshot

AREA = (Location("42431", "Pulomerak"),)
QUAKE = Message(key="quake", level="WASPADA", disaster_code=1, locations=AREA, disaster_type="Gempa Bumi",
                text="[LATIHAN] Gempa M5.2 di Selat Sunda dirasakan di Cilegon (III MMI). Tidak berpotensi tsunami.",
                order=1)
TSUNAMI = Message(key="tsunami", level="AWAS", disaster_code=2, locations=AREA, disaster_type="Tsunami",
                  position="6.85 LS 105.22 BT", date="28-11-2026 17:05:00 WIB", characteristic="M7.4, kedalaman 10 km",
                  text="[LATIHAN] AWAS TSUNAMI: segera evakuasi menyeluruh ke tempat tinggi. Jauhi pantai.", order=2)


class Transmitter(threading.Thread):
    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.carousel, self.stopping = port, ts.Carousel(), threading.Event()
        self.lock = threading.Lock()

    def put(self, messages: list[Message], version: int) -> None:
        with self.lock:
            self.carousel.set_sections(encode_messages(messages, version))

    def run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            while not self.stopping.is_set():
                with self.lock:
                    datagram = b"".join(self.carousel.next_packets(7))
                sender.sendto(datagram, ("127.0.0.1", self.port))
                time.sleep(0.02)


@pytest.fixture(params=["seed"])
def tv(browser: Any, request: Any) -> Iterator[tuple[Any, SetTopBox, Transmitter]]:
    port = udp_port()
    box = SetTopBox("42431", request.param, udp=f"127.0.0.1:{port}", name="Pulomerak")
    box.start()
    server = StbHttpServer(box)
    server.start()
    sender = Transmitter(port)
    sender.start()
    context = new_context(browser, viewport={"width": 1280, "height": 560})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/")
    yield page, box, sender
    assert errors == []
    context.close()
    sender.stopping.set()
    server.shutdown()
    box.stop()


def test_ticker_then_a_fullscreen_no_key_can_clear(tv: Any) -> None:
    page, box, sender = tv
    page.wait_for_selector("body[data-overlay=none]")
    sender.put([QUAKE], 1)
    page.wait_for_selector("#ticker", state="visible", timeout=5000)
    assert "Gempa M5.2" in page.locator("#ticker-text").inner_text()
    screenshot(page, "stb-ticker")
    page.click("[data-key=BACK]")  # a ticker goes away with BACK
    page.wait_for_selector("body[data-overlay=none]")

    sender.put([QUAKE, TSUNAMI], 2)
    page.wait_for_selector("#fullscreen", state="visible", timeout=5000)
    assert "AWAS TSUNAMI" in page.locator("#full-text").inner_text()
    assert page.locator("#full-level").inner_text() == "AWAS"
    screenshot(page, "stb-fullscreen")
    for key in ("BACK", "EXIT", "MENU", "OK", "CH_UP", "CH_DOWN", "VOL_UP", "VOL_DOWN", "POWER"):
        page.click(f"[data-key={key}]")
        page.wait_for_timeout(120)
        assert page.locator("#fullscreen").is_visible(), key
        assert page.evaluate("document.body.dataset.overlay") == "fullscreen"
    assert box.state()["ignored_keys"] == 9 and box.state()["sound"] == "playing"

    page.click("#mains")  # unplug: black screen
    page.wait_for_selector("body[data-power=off]")
    assert not page.locator("#fullscreen").is_visible()
    page.click("#mains")  # plug back in: the warning is still on air, so it comes back
    page.wait_for_selector("#fullscreen", state="visible", timeout=5000)
    assert box.state()["overlay"] == "fullscreen"


@pytest.mark.parametrize("tv", ["mstar"], indirect=True)
def test_an_mstar_box_strip_window_and_full_page(tv: Any) -> None:
    page, box, sender = tv
    page.wait_for_selector("body[data-overlay=none]")
    sender.put([QUAKE], 1)
    page.wait_for_selector("#strip", state="visible", timeout=5000)
    assert "Gempa M5.2" in page.locator("#strip-text").inner_text()
    assert "EXIT" in page.locator("#strip-hint").inner_text()
    screenshot(page, "stb-mstar-strip")
    page.click("[data-key=BACK]")  # swallowed: only EXIT closes the strip on MStar
    page.wait_for_timeout(150)
    assert page.locator("#strip").is_visible()
    page.click("[data-key=EXIT]")
    page.wait_for_selector("body[data-overlay=none]")

    from dataclasses import replace

    sender.put([QUAKE, replace(TSUNAMI, level="SIAGA")], 2)
    page.wait_for_selector("#window", state="visible", timeout=5000)
    box_height = page.evaluate("document.getElementById('window').getBoundingClientRect().height")
    screen_height = page.evaluate("document.getElementById('screen').getBoundingClientRect().height")
    assert 0.25 <= box_height / screen_height <= 0.4  # about 30% of the screen
    assert box.state()["sound"] == "playing"
    screenshot(page, "stb-mstar-siaga")

    sender.put([QUAKE, TSUNAMI], 3)
    page.wait_for_selector("#fullscreen", state="visible", timeout=5000)
    assert "POWER" in page.locator("#full-lock").inner_text()
    assert box.state()["video_muted"] is True and box.state()["volume"] >= 80
    screenshot(page, "stb-mstar-awas")
    page.click("[data-key=EXIT]")
    page.wait_for_timeout(150)
    assert page.locator("#fullscreen").is_visible()
    page.click("[data-key=POWER]")  # MStar still lets POWER through: standby
    page.wait_for_selector("body[data-power=off]")
    page.click("[data-key=POWER]")  # on again: the warning is still on air
    page.wait_for_selector("#fullscreen", state="visible", timeout=5000)
