"""What real set-top boxes across Cilegon show, read off the air independently of siaga.

A UDP multicast listener (the carousel's group on loopback) feeds every datagram to the independent reader
(tests/ews/vendor_reader.py: its own packet parser, CRC and section gathering, written from the receiver
sources in docs/decisions/0013, importing nothing of siaga), one MStar box per postcode of Kota Cilegon
(read from the bundled postcode list, not through siaga). The benchmarks time until every box shows a
level. Nothing here imports siaga.
"""

from __future__ import annotations

import csv
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.ews.vendor_reader import PIDS, Splitter, VendorBox  # noqa: E402

POSTCODES_CSV = ROOT / "src" / "siaga" / "core" / "data" / "geo" / "cilegon_kelurahan_postcodes.csv"


def cilegon_postcodes() -> list[str]:
    with POSTCODES_CSV.open(newline="") as fh:
        return sorted({row["postal_code"] for row in csv.DictReader(fh)})


# The socket set-up repeats what siaga.broadcast.stb does on purpose: this reading imports nothing of siaga.
class Air:
    """Boxes for ``postcodes`` reading the multicast ``group`` ("239.x.y.z:port") from now on."""

    def __init__(self, group: str, postcodes: list[str] | None = None) -> None:
        host, _, port = group.rpartition(":")
        self.postcodes = postcodes or cilegon_postcodes()
        self.boxes = {code: VendorBox(code) for code in self.postcodes}
        self.splitter = Splitter(PIDS)
        self.changed = threading.Condition()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                             struct.pack("4s4s", socket.inet_aton(host), socket.inet_aton("127.0.0.1")))
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-air", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            sections = self.splitter.feed(data)
            if not sections:
                continue
            with self.changed:
                for pid, section in sections:
                    for box in self.boxes.values():
                        box.take(pid, section)
                self.changed.notify_all()

    def watching(self) -> bool:
        """Every box has seen the EWS programme in the PAT (it reads the EWS PID from then on)."""
        with self.changed:
            return all(box.watching for box in self.boxes.values())

    def levels(self) -> dict[str, str | None]:
        with self.changed:
            return {code: box.screen.level for code, box in self.boxes.items()}

    def wait(self, predicate: Callable[[dict[str, str | None]], bool], timeout: float) -> float | None:
        """The monotonic time at which ``predicate(levels)`` first held, within ``timeout`` s; else None."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                if predicate({code: box.screen.level for code, box in self.boxes.items()}):
                    return time.monotonic()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.changed.wait(remaining)

    def close(self) -> None:
        self.stopping.set()
        self.sock.close()
        self.thread.join(2)
