"""The worst-case tsunami drill, end to end on loopback: BMKG replay feed -> pollers -> warning policy -> CAP
alert -> ``ews`` channel -> carousel (MPEG-TS over UDP multicast) -> set-top-box emulators.

Used by ``siaga demo tsunami`` and by ``bench/warning_latency.py``. Everything runs in this process, as the
roles ``siaga serve`` runs (pollers, dissemination, carousel), against the configured database; the
replay's records are drill records, so every alert is a CAP Exercise and every screen says LATIHAN.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from siaga.broadcast.stb import SetTopBox, StbHttpServer
from siaga.ews.receiver import State


@dataclass(frozen=True)
class Box:
    postcode: str
    place: str
    profile: str = "seed"


BOXES = (
    Box("42431", "Pulomerak (pantai)"),
    Box("42441", "Ciwandan (kawasan industri)", "mstar"),
    Box("42417", "Cilegon (pusat kota)", "mstar"),
    Box("42442", "Citangkil"),
    Box("42111", "Kota Serang (di luar Cilegon)", "mstar"),
)
GROUP = "239.255.112.1:5004"


class Drill:
    def __init__(self, *, udp: str = GROUP, interval: float = 1.0, boxes: tuple[Box, ...] = BOXES,
                 http_port: int | None = 8121, on_change: Callable[[Box, State, str], None] | None = None) -> None:
        self.udp, self.interval, self.box_specs = udp, interval, boxes
        self.http_port = http_port
        self.on_change = on_change
        self.boxes: list[tuple[Box, SetTopBox, StbHttpServer | None]] = []
        self.node: Any = None
        self.replay: Any = None

    def start(self) -> None:
        from siaga.core.models import Kecamatan
        from siaga.hazards.replay import ReplayServer

        if not Kecamatan.objects.exists():
            raise RuntimeError("Cilegon's reference data is not loaded: run `siaga migrate` and "
                               "`siaga load-reference` first (`make run` does both)")
        self.replay = ReplayServer(recorded=False)
        self.replay.start()
        urls = self.replay.feed_urls()
        settings.BMKG_FEEDS, settings.INATEWS_FEEDS = [urls["autogempa"]], [urls["inatews"]]
        settings.USGS_FEEDS, settings.CAP_FEEDS = [], []
        settings.DRILL_FEEDS = list(urls.values())
        settings.POLL_INTERVAL_SECONDS = self.interval
        settings.POLL_TIMEOUT_SECONDS = min(settings.POLL_TIMEOUT_SECONDS, max(1.0, self.interval))
        settings.ALERT_CHANNELS = ["web", "ews"]
        settings.EWS_UDP = [self.udp]
        for n, spec in enumerate(self.box_specs):
            box = SetTopBox(spec.postcode, spec.profile, udp=self.udp, name=spec.place,
                            on_change=(lambda state, what, spec=spec: self.on_change(spec, state, what))
                            if self.on_change else None)
            box.start()
            server = None
            if self.http_port is not None:
                server = StbHttpServer(box, f"127.0.0.1:{self.http_port + n if self.http_port else 0}")
                server.start()
            self.boxes.append((spec, box, server))
        from siaga.runtime.roles import ROLES, Node

        self.node = Node(list(ROLES)).start()

    def stop(self) -> None:
        if self.node is not None:
            self.node.stop()
        for _, box, server in self.boxes:
            box.stop()
            if server is not None:
                server.shutdown()
        if self.replay is not None:
            self.replay.shutdown()

    # --- steps ----------------------------------------------------------------------------------------

    def publish(self, feed: str, scenario_name: str, at: datetime | None = None) -> None:
        self.replay.state.publish(feed, scenario_name=scenario_name, shift_to_now=True, at=at)

    def states(self) -> list[tuple[Box, dict[str, Any]]]:
        return [(spec, box.state()) for spec, box, _ in self.boxes]

    def wait(self, predicate: Callable[[list[tuple[Box, dict[str, Any]]]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.states()):
                return True
            time.sleep(0.05)
        return predicate(self.states())

    def table(self) -> str:
        lines = [f"  {'kode pos':8} {'lokasi':30} {'profil':11} {'daya':4} {'tampilan':10} {'level':7} "
                 f"{'suara':6} teks"]
        for spec, state in self.states():
            lines.append(f"  {spec.postcode:8} {spec.place:30} {spec.profile:11} {state['power']:4} "
                         f"{state['overlay']:10} {state['level'] or '-':7} {state['sound']:6} {state['text'][:60]}")
        return "\n".join(lines)


DEFAULT_PACE = 15.0  # seconds each state is held: time for a person to look at every box's screen


def hold(seconds: float, out: Callable[[str], None]) -> None:
    """Keep what is on the screens for ``seconds`` (the drill's pace), saying so when it is long."""
    if seconds >= 3:
        out(f"  (tampilan ini ditahan {seconds:g} dtk: lihat layar tiap STB)")
    time.sleep(max(0.0, seconds))


def wait_for_key(out: Callable[[str], None], read: Callable[[], str] = input) -> None:
    """Until Enter is pressed (or Ctrl-C); with no keyboard (stdin closed), until Ctrl-C."""
    out("Emulator tetap berjalan; tekan Enter (atau Ctrl-C) untuk berhenti.")
    try:
        read()
    except EOFError:
        while True:
            time.sleep(1)


def run(out: Callable[[str], None], *, udp: str = GROUP, interval: float = 1.0, http_port: int | None = 8121,
        pause: float = 5.0, keep: bool = False, pace: float = DEFAULT_PACE) -> bool:
    """The three steps of the drill, printed, each state held ``pace`` seconds. True when every box showed
    what it should at every step."""
    drill = Drill(udp=udp, interval=interval, http_port=http_port)
    drill.start()
    ok = True
    try:
        out("Latihan tsunami Siaga112 (semua pesan berstatus LATIHAN / CAP Exercise)")
        out(f"  umpan BMKG tiruan: {drill.replay.url}/  ·  karusel EWS: udp://{udp}  ·  "
            f"interval polling {interval:g} s")
        for spec, _box, server in drill.boxes:
            if server is not None:
                out(f"  STB {spec.postcode} {spec.place} ({spec.profile}): {server.url}/")
        time.sleep(pause)

        out("\n1) Gempa M5.2 di Selat Sunda, dirasakan di Cilegon, tidak berpotensi tsunami")
        # five minutes ago: a quake of its own, not an earlier report of the next one
        drill.publish("autogempa", "autogempa_drill_selat_sunda_m5_felt.json",
                      at=datetime.now(UTC) - timedelta(minutes=5))
        seen = drill.wait(lambda states: all(s["overlay"] in ("ticker", "strip") for spec, s in states
                                             if not spec.postcode.startswith("421")), 30)
        ok &= seen
        time.sleep(min(1.0, pace))
        out(drill.table())
        hold(pace, out)

        out("\n2) Gempa M7.4 di Selat Sunda, BERPOTENSI TSUNAMI; InaTEWS PD-1: Kota Cilegon AWAS")
        moment = datetime.now(UTC)
        drill.publish("autogempa", "autogempa_drill_selat_sunda_m7_tsunami.json", at=moment)
        drill.publish("inatews", "inatews_drill_selat_sunda_PD1.json", at=moment)
        seen = drill.wait(lambda states: all(s["overlay"] == "fullscreen" for spec, s in states
                                             if not spec.postcode.startswith("421")), 30)
        ok &= seen
        time.sleep(min(1.0, pace))
        out(drill.table())
        hold(pace, out)
        _spec, first, _server = drill.boxes[0]
        ignored = [key for key in ("BACK", "EXIT", "MENU", "OK", "CH_UP", "VOL_DOWN", "POWER") if not first.key(key)]
        out(f"  remote {first.receiver.postcode}: tombol diabaikan: {', '.join(ignored)} -> "
            f"{first.state()['overlay']}")
        first.mains(False)
        out(f"  listrik dicabut -> {first.state()['overlay']}; dicolok lagi ...")
        first.mains(True)
        back = drill.wait(lambda states: states[0][1]["overlay"] == "fullscreen", 5)
        ok &= back and len(ignored) == 7
        out(f"  ... peringatan masih disiarkan -> {first.state()['overlay']}")
        mstar = next((box for spec, box, _server in drill.boxes if spec.profile == "mstar"
                      and not spec.postcode.startswith("421")), None)
        if mstar is not None:  # a real MStar box still lets POWER through: standby, and back on
            mstar.key("EXIT")
            mstar.key("POWER")
            asleep = mstar.state()["power"]
            mstar.key("POWER")
            woke = drill.wait(lambda states: mstar.state()["overlay"] == "fullscreen", 5)
            ok &= woke and asleep == "off"
            out(f"  STB {mstar.receiver.postcode} (mstar): EXIT diabaikan, POWER -> {asleep}; POWER lagi -> "
                f"{mstar.state()['overlay']}")
        outside = [s for spec, s in drill.states() if spec.postcode.startswith("421")]
        ok &= all(s["overlay"] == "none" for s in outside)

        out("\n3) InaTEWS PD-4: peringatan tsunami berakhir (Cancel)")
        drill.publish("inatews", "inatews_drill_selat_sunda_PD4.json", at=moment)
        cleared = drill.wait(lambda states: all(s["overlay"] != "fullscreen" for _, s in states), 30)
        ok &= cleared
        time.sleep(min(1.0, pace))
        out(drill.table())
        out("\nSelesai: " + ("setiap STB menampilkan yang seharusnya." if ok else "ADA LANGKAH YANG GAGAL."))
        if keep:
            wait_for_key(out)
    except KeyboardInterrupt:
        pass
    finally:
        drill.stop()
    return ok
