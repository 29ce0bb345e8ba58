"""Real Kannel on loopback for the tests: bearerbox, smsbox, and Kannel's own fake SMSC (``fakesmsc``).

``fakesmsc`` (Debian's ``kannel-extras``) plays the operator's SMSC and every phone behind it: what it
prints as "Got message N: <from to text ...>" is what reached a phone; a line written to its standard input
(``<from> <to> text <words>``) is a phone sending an SMS. Kannel's fake SMSC reports each message it hands
over as delivered (delivery report type 1) and bearerbox as accepted (type 8), to the message's dlr-url.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
SHORT_NUMBER = "112"
_GOT = re.compile(r"Got message (\d+): <(.*)>$")


def installed() -> bool:
    return all(Path(p).exists() for p in (BEARERBOX, SMSBOX, FAKESMSC))


def require_kannel() -> None:
    if installed():
        return
    if os.environ.get("SIAGA_REQUIRE_KANNEL") == "1":
        pytest.fail("Kannel (kannel, kannel-extras) is not installed (SIAGA_REQUIRE_KANNEL=1)")
    pytest.skip("Kannel is not installed (apt install kannel kannel-extras)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open: {log.read_text(errors='replace')[-2000:]}")


@dataclass
class Received:
    sender: str
    to: str
    text: str
    parts: int


class Kannel:
    """bearerbox + smsbox + fakesmsc, configured to call ``callback`` (Siaga112's MO URL is ``mo_url``)."""

    def __init__(self, folder: Path, mo_url: str, *, password: str = "rahasia", throughput: float = 0) -> None:
        self.folder = folder
        self.admin_port, self.box_port, self.smsc_port, self.sendsms_port = (_free_port() for _ in range(4))
        self.username, self.password = "siaga", password
        self.url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        smsc_limit = f"throughput = {throughput:g}\n" if throughput else ""
        (folder / "kannel.conf").write_text(f"""
group = core
admin-port = {self.admin_port}
admin-password = admin-{self.admin_port}
admin-interface = 127.0.0.1
smsbox-port = {self.box_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-level = 1
log-file = "{folder / 'bearerbox.log'}"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
host = 127.0.0.1
port = {self.smsc_port}
connect-allow-ip = 127.0.0.1
{smsc_limit}
group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
log-level = 1
log-file = "{folder / 'smsbox.log'}"
mo-recode = true

group = sendsms-user
username = siaga
password = rahasia
max-messages = 3
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
concatenation = true
get-url = "{mo_url}"
""")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.phones: subprocess.Popen[bytes] | None = None
        self.phones_log = folder / "fakesmsc.log"

    def start(self) -> Kannel:
        conf = str(self.folder / "kannel.conf")
        bearer = subprocess.Popen([BEARERBOX, conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  cwd=self.folder)
        self.processes.append(bearer)
        _wait_port(self.box_port, bearer, self.folder / "bearerbox.log")
        box = subprocess.Popen([SMSBOX, conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder)
        self.processes.append(box)
        _wait_port(self.sendsms_port, box, self.folder / "smsbox.log")
        self.start_phones()
        return self

    def start_phones(self) -> None:
        """fakesmsc, interactive: its standard input is what phones send; it prints what they receive."""
        with self.phones_log.open("ab") as log:
            self.phones = subprocess.Popen([FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port)],
                                           stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                           cwd=self.folder)
        deadline = time.monotonic() + 10
        while "Fakesmsc client connected" not in (self.folder / "bearerbox.log").read_text(errors="replace"):
            if time.monotonic() > deadline or self.phones.poll() is not None:
                raise RuntimeError("fakesmsc did not connect: " + self.phones_log.read_text(errors="replace")[-1000:])
            time.sleep(0.05)

    def stop_phones(self) -> None:
        """The operator's SMSC goes away (messages wait in bearerbox's queue)."""
        if self.phones is not None:
            self.phones.kill()
            self.phones.wait(5)
            self.phones = None

    def send(self, sender: str, text: str, to: str = SHORT_NUMBER) -> None:
        """A phone sends an SMS (one line; fakesmsc reads at most 255 bytes of it)."""
        assert self.phones is not None and self.phones.stdin is not None
        line = f"{sender} {to} text {text}\n".encode()
        assert len(line) < 256, "fakesmsc reads lines of at most 255 bytes"
        self.phones.stdin.write(line)
        self.phones.stdin.flush()

    def received(self) -> list[Received]:
        """Every message the phones got, its parts joined (a concatenated SMS is one message here)."""
        whole: list[Received] = []
        pending: dict[tuple[str, str, int], dict[int, bytes]] = {}
        for line in self.phones_log.read_text(errors="replace").splitlines():
            found = _GOT.search(line)
            if not found:
                continue
            sender, to, kind, rest = [*found.group(2).split(" ", 3), "", ""][:4]
            if kind == "text":
                whole.append(Received(sender, to, rest, 1))
                continue
            if kind == "data":
                whole.append(Received(sender, to, _decode(_unquote(rest)), 1))
                continue
            if kind == "udh":
                udh, _, data = rest.partition(" data ") if " data " in rest else rest.partition(" ")
                header = _unquote(udh)
                body = _unquote(data.strip().removeprefix("data ").removeprefix("text "))
                reference, total, number = header[3], header[4], header[5]
                parts = pending.setdefault((sender, to, reference), {})
                parts[number] = body
                if len(parts) == total:
                    joined = b"".join(parts[i] for i in sorted(parts))
                    whole.append(Received(sender, to, _decode(joined), total))
                    del pending[(sender, to, reference)]
        return whole

    def wait_received(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.received()
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    def stop(self) -> None:
        self.stop_phones()
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []


def _unquote(text: str) -> bytes:
    """Kannel's URL encoding (a space is "+")."""
    return unquote_to_bytes(text.replace("+", " "))


def _decode(raw: bytes) -> str:
    """A message's bytes as fakesmsc shows them: UTF-16 (UCS-2) when it has NUL bytes in the high halves,
    else Latin-1 (Kannel's internal form of a 7-bit text)."""
    if len(raw) % 2 == 0 and raw and sum(1 for b in raw[0::2] if b == 0) > len(raw) // 4:
        return raw.decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")
