"""The set-top-box emulator: a tuner on UDP, the receiver state machine, and the screen as a web page.

It receives the TS as a tuner would (a UDP address; multicast groups are joined on loopback) and hands the
packets to :class:`siaga.ews.receiver.Receiver`, which reads them as a real box does (the PAT's programme
0x038F, PID 0x0080 only).

HTTP (loopback by default; it is a television, it has no users; POSTs must be JSON, so that no web page
elsewhere can press its keys with a plain form):

- ``GET /``: the screen (a TV frame, a programme placeholder, the overlays, a remote and a mains plug).
- ``GET /state``: ``power``, ``overlay``, ``level``, ``text``, ``sound``, ``alert_id`` and more.
- ``POST /key`` ``{"key": "BACK"}``; ``POST /mains`` ``{"plugged": false}``.
- ``GET /sound.wav``: the evacuation sound of the warning on screen (siren, spoken instruction, siren).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from django.utils.translation import gettext_lazy

from siaga.ews.receiver import KEYS, PROFILES, Receiver, State
from siaga.ews.udp import is_multicast, parse_address

log = logging.getLogger("siaga.stb")


class Tuner(threading.Thread):
    """Datagrams in, EWS sections out to the receiver. Knows nothing of the screen."""

    def __init__(self, address: str, deliver: Callable[[bytes], None]) -> None:
        super().__init__(name=f"stb-tuner-{address}", daemon=True)
        host, port = parse_address(address)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if is_multicast(host):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            self.sock.bind((host, port))
            group = struct.pack("4s4s", socket.inet_aton(host), socket.inet_aton("127.0.0.1"))
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group)
        else:
            self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.address = f"{host}:{self.sock.getsockname()[1]}"
        self.deliver = deliver
        self.stopping = threading.Event()
        self.datagrams = 0
        self.last_datagram_at: float | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                if self.stopping.is_set():
                    return
                raise
            self.datagrams += 1
            self.last_datagram_at = time.monotonic()
            self.deliver(data)

    def stop(self) -> None:
        self.stopping.set()
        self.sock.close()


# The emulator's receiver logs in English (it models vendor code); a person reads it in Bahasa Indonesia.
_CHANGES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"the PAT lists programme 0x038F: EWS is watched$"),
     gettext_lazy("PAT memuat program 0x038F: EWS dipantau")),
    (re.compile(r"the PAT lists no programme 0x038F: EWS is not watched$"),
     gettext_lazy("PAT tidak memuat program 0x038F: EWS tidak dipantau")),
    (re.compile(r"TRDW version (?P<old>\S+) -> (?P<new>\S+): the warning is left and rebuilt$"),
     gettext_lazy("versi TRDW {old} -> {new}: peringatan dilepas lalu disusun ulang")),
    (re.compile(r"standby: EWS is reset$"), gettext_lazy("siaga (standby): EWS diulang dari awal")),
    (re.compile(r"channel change: EWS is reset$"), gettext_lazy("ganti kanal: EWS diulang dari awal")),
    (re.compile(r"key (?P<key>\S+): notice dismissed$"), gettext_lazy("tombol {key}: pemberitahuan ditutup")),
    (re.compile(r"key (?P<key>\S+) ignored: a warning is on screen$"),
     gettext_lazy("tombol {key} diabaikan: peringatan sedang tampil")),
    (re.compile(r"power on$"), gettext_lazy("daya nyala")),
    (re.compile(r"power off$"), gettext_lazy("daya mati")),
    (re.compile(r"key (?P<key>\S+)$"), gettext_lazy("tombol {key}")),
    (re.compile(r"mains unplugged$"), gettext_lazy("steker dicabut")),
    (re.compile(r"mains plugged in: the box starts$"), gettext_lazy("steker dipasang: perangkat menyala")),
    (re.compile(r"no warning for this postcode$"), gettext_lazy("tidak ada peringatan untuk kode pos ini")),
    (re.compile(r"(?P<level>\w+) warning (?P<package>\S+): (?P<text>.*)$", re.S),
     gettext_lazy("peringatan {level} {package}: {text}")),
]
OVERLAYS = {"none": gettext_lazy("kosong"), "ticker": gettext_lazy("teks berjalan"),
            "strip": gettext_lazy("pita"), "window": gettext_lazy("jendela"),
            "fullscreen": gettext_lazy("layar penuh")}
POWER = {"on": gettext_lazy("nyala"), "off": gettext_lazy("mati")}


def change_text(what: str) -> str:
    """A receiver's log line in the active language (the line itself when it is not one we know)."""
    for pattern, template in _CHANGES:
        hit = pattern.match(what)
        if hit:
            return str(template).format(**hit.groupdict())
    return what


class SetTopBox:
    """A receiver with a tuner and a clock; every entry point takes the lock."""

    def __init__(self, postcode: str, profile: str = "seed", *, udp: str | None = None, name: str = "",
                 tmdw_form: str | None = None, on_change: Callable[[State, str], None] | None = None) -> None:
        self.name = name or postcode
        self.lock = threading.Lock()
        self.changes: list[dict[str, Any]] = []
        self._listener = on_change
        self.receiver = Receiver(postcode, profile, on_change=self._changed, tmdw_form=tmdw_form)
        self.tuner = Tuner(udp, self.feed) if udp else None
        self.stopping = threading.Event()
        self._clock = threading.Thread(target=self._tick, name="stb-clock", daemon=True)

    def _changed(self, state: State, what: str) -> None:
        entry = {"at": time.time(), "what": what, "text": change_text(what), "overlay": state.overlay,
                 "level": state.level, "power": state.power}
        self.changes.append(entry)
        del self.changes[:-200]
        if self._listener is not None:
            self._listener(state, what)

    def feed(self, data: bytes) -> None:
        """TS packets, as the tuner delivers them."""
        with self.lock:
            self.receiver.feed(data, time.monotonic())

    def _tick(self) -> None:
        while not self.stopping.wait(0.2):
            with self.lock:
                self.receiver.tick(time.monotonic())

    def start(self) -> None:
        if self.tuner is not None:
            self.tuner.start()
        self._clock.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.tuner is not None:
            self.tuner.stop()

    def state(self) -> dict[str, Any]:
        with self.lock:
            data = self.receiver.state.as_json()
        data.update(name=self.name, postcode=self.receiver.postcode, profile=self.receiver.profile_name,
                    tmdw_form=self.receiver.form,
                    tuner=self.tuner.address if self.tuner else None,
                    signal=bool(self.tuner and self.tuner.last_datagram_at
                                and time.monotonic() - self.tuner.last_datagram_at < 2.0))
        return data

    def key(self, key: str) -> bool:
        with self.lock:
            return self.receiver.key(key, time.monotonic())

    def mains(self, plugged: bool) -> None:
        with self.lock:
            self.receiver.mains(plugged, time.monotonic())


@lru_cache(maxsize=8)
def _sound(text: str) -> bytes:
    from siaga.broadcast.audio import evacuation_wav

    return evacuation_wav(text)


def _page() -> bytes:
    return resources.files("siaga.broadcast").joinpath("stb_screen.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: StbHttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("stb http: " + format, *args)

    def _send(self, status: int, body: bytes, kind: str = "application/json; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                    "script-src 'self' 'unsafe-inline'; media-src 'self'")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode())

    def do_GET(self) -> None:
        box = self.server.box
        path = self.path.split("?")[0]
        if path == "/":
            self._send(200, _page(), "text/html; charset=utf-8")
        elif path == "/state":
            self._json(200, box.state())
        elif path == "/changes":
            with box.lock:
                self._json(200, list(box.changes))
        elif path == "/sound.wav":
            state = box.state()
            if state["sound"] != "playing":
                self._json(404, {"error": "no sound is playing"})
            else:
                self._send(200, _sound(state["text"]), "audio/wav")
        else:
            self._json(404, {"error": f"no such page: {path}"})

    def do_POST(self) -> None:
        box = self.server.box
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self._json(415, {"error": "send JSON (Content-Type: application/json)"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(min(length, 4096)) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("a JSON object is expected")
        except ValueError as exc:
            self._json(400, {"error": f"bad JSON: {exc}"})
            return
        if self.path == "/key":
            key = body.get("key")
            if key not in KEYS:
                self._json(400, {"error": f"key must be one of {', '.join(KEYS)}"})
                return
            accepted = box.key(key)
            self._json(200, {"accepted": accepted, "state": box.state()})
        elif self.path == "/mains":
            plugged = body.get("plugged")
            if not isinstance(plugged, bool):
                self._json(400, {"error": "plugged must be true or false"})
                return
            box.mains(plugged)
            self._json(200, {"state": box.state()})
        else:
            self._json(404, {"error": f"no such action: {self.path}"})


class StbHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, box: SetTopBox, address: str = "127.0.0.1:0") -> None:
        self.box = box
        super().__init__(parse_address(address), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="stb-http", daemon=True)
        thread.start()
        return thread


def describe(profile: str) -> str:
    rows = [f"{level}: {p.overlay} {p.coverage}%{' + suara' if p.sound else ''}"
            f"{' (tombol diabaikan' + (', kecuali POWER' if p.power_passes else '') + ')' if p.locked else ''}"
            f"{' (' + '/'.join(p.dismiss[:3]) + ' menutup)' if p.dismiss else ''}"
            for level, p in PROFILES[profile].levels.items()]
    return "; ".join(rows)
