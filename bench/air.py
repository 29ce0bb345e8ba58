"""What real set-top boxes across Cilegon show, read off the air independently of siaga, in a process of its own.

A UDP multicast listener (the carousel's group on loopback) feeds every datagram to the independent reader
(tests/ews/vendor_reader.py: its own packet parser, CRC and section gathering, written from the receiver
sources in docs/decisions/0013, importing nothing of siaga), one MStar box per postcode of Kota Cilegon
(read from the bundled postcode list, not through siaga). The reading runs in a child process, as boxes
are other machines: its pure-Python CRC and parsing must not take the interpreter from the chain that a
benchmark times. The child prints a line each time what the boxes show changes, with the moment
(CLOCK_MONOTONIC, one clock for every process of the machine); :class:`Air` keeps the latest and waits on it.

    python bench/air.py 239.255.113.1:5100      (the child; prints JSON lines)
"""

from __future__ import annotations

import csv
import json
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTCODES_CSV = ROOT / "src" / "siaga" / "core" / "data" / "geo" / "cilegon_kelurahan_postcodes.csv"


def cilegon_postcodes() -> list[str]:
    with POSTCODES_CSV.open(newline="") as fh:
        return sorted({row["postal_code"] for row in csv.DictReader(fh)})


def read_air(group: str, postcodes: list[str]) -> None:
    """The child: read the group for ever; print {"at", "watching", "levels"} whenever that changes."""
    sys.path.insert(0, str(ROOT))
    from tests.ews.vendor_reader import PIDS, Splitter, VendorBox

    host, _, port = group.rpartition(":")
    boxes = {code: VendorBox(code) for code in postcodes}
    splitter = Splitter(PIDS)
    # The socket set-up repeats what siaga.broadcast.stb does on purpose: this reading imports nothing of siaga.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((host, int(port)))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                    struct.pack("4s4s", socket.inet_aton(host), socket.inet_aton("127.0.0.1")))
    last = None
    print(json.dumps({"at": time.monotonic(), "watching": False, "levels": {}}), flush=True)
    while True:
        sections = splitter.feed(sock.recv(65536))
        for pid, section in sections:
            for box in boxes.values():
                box.take(pid, section)
        if not sections:
            continue
        now = (all(box.watching for box in boxes.values()), {code: box.screen.level for code, box in boxes.items()})
        if now != last:
            last = now
            print(json.dumps({"at": time.monotonic(), "watching": now[0], "levels": now[1]}), flush=True)


class Air:
    """Boxes for ``postcodes`` reading the multicast ``group`` ("239.x.y.z:port"), in a child process."""

    def __init__(self, group: str, postcodes: list[str] | None = None) -> None:
        self.postcodes = postcodes or cilegon_postcodes()
        self.state: dict[str, object] = {"at": 0.0, "watching": False, "levels": {}}
        self.changed = threading.Condition()
        self.proc = subprocess.Popen([sys.executable, __file__, group, ",".join(self.postcodes)],
                                     stdout=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self._follow, name="bench-air", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.changed:
                self.state = json.loads(line)
                self.changed.notify_all()

    def watching(self) -> bool:
        """Every box has seen the EWS programme in the PAT (it reads the EWS PID from then on)."""
        with self.changed:
            return bool(self.state["watching"])

    def levels(self) -> dict[str, str | None]:
        with self.changed:
            return dict(self.state["levels"])  # type: ignore[call-overload]

    def wait(self, predicate: Callable[[dict[str, str | None]], bool], timeout: float) -> float | None:
        """The moment (time.monotonic) the boxes first showed what ``predicate(levels)`` holds, within
        ``timeout`` s of now; else None."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                levels = self.state["levels"]
                if levels and predicate(levels):  # type: ignore[arg-type]
                    return float(self.state["at"])  # type: ignore[arg-type]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.changed.wait(remaining)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


if __name__ == "__main__":
    read_air(sys.argv[1], sys.argv[2].split(",") if len(sys.argv) > 2 else cilegon_postcodes())
