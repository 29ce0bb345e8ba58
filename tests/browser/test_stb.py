"""Browser: the set-top-box emulator's screen in Chromium, fed a real TS over UDP. The ticker and the
full-screen notice are photographed; no remote key clears the full screen, unplugging does, and plugging
back in while the warning is on air brings it back."""

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from siaga.broadcast.stb import SetTopBox, StbHttpServer
from siaga.ews import ts
from siaga.ews.sections import Location, Message, encode
from tests.alerts.conftest import udp_port
from tests.browser.conftest import new_context, screenshot

AREA = (Location("42431", "Pulomerak"),)
QUAKE = Message(package_id=1, level="WASPADA", disaster_code=1, locations=AREA, disaster_type="Gempa Bumi",
                text="[LATIHAN] Gempa M5.2 di Selat Sunda dirasakan di Cilegon (III MMI). Tidak berpotensi tsunami.")
TSUNAMI = Message(package_id=2, level="AWAS", disaster_code=2, locations=AREA, disaster_type="Tsunami",
                  position="6.85 LS 105.22 BT", date="28-11-2026 17:05:00 WIB", characteristic="M7.4, kedalaman 10 km",
                  text="[LATIHAN] AWAS TSUNAMI: segera evakuasi menyeluruh ke tempat tinggi. Jauhi pantai.")


class Transmitter(threading.Thread):
    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.carousel, self.stopping = port, ts.Carousel(), threading.Event()
        self.lock = threading.Lock()

    def put(self, messages: list[Message], version: int) -> None:
        with self.lock:
            self.carousel.set_sections(encode(messages, version))

    def run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            while not self.stopping.is_set():
                with self.lock:
                    datagram = b"".join(self.carousel.next_packets(7))
                sender.sendto(datagram, ("127.0.0.1", self.port))
                time.sleep(0.02)


@pytest.fixture
def tv(browser: Any) -> Iterator[tuple[Any, SetTopBox, Transmitter]]:
    port = udp_port()
    box = SetTopBox("42431", udp=f"127.0.0.1:{port}", name="Pulomerak")
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
