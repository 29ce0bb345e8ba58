"""An independent reading of EWS transport streams, as the receivers named in docs/decisions/0013 do.

Written from that document (the MStar Chakra3 disassembly and MediaTek's structs), not from siaga.ews: it
has its own packet parser, CRC and section gathering, so that a mistake in our encoder and the same mistake
in our decoder cannot agree with each other. It answers one question: given these TS bytes, what does a
box with this postcode show at the end of them (and at every change on the way)?

What it keeps of the vendor behaviour: EWS is watched only when the PAT lists programme 0x038F (or PID
0x038F); sections come from PID 0x0080 only; a sub-table is gathered whole (a 32-bit bitmap of section
numbers, at most 8,192 bytes of sections kept, a TRDW section at most 1,024 bytes, others 4,096) and parsed
in section_number order; at most 5 TRDW locations and 15 TCDW entries are read; a location matches on its
first five nibbles (A-F match any digit on MStar); the last match wins; TCDW and TMDW are read only after
a TRDW match; the TCDW entry must carry the package and the low byte of the disaster code, the TMDW the
level and the package; a new TRDW version leaves the warning and rebuilds it; a new TCDW or TMDW version
refreshes the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AWAS, SIAGA, WASPADA = 1, 2, 3
PIDS = (0x0000, 0x0080)  # the PAT, and the EWS PID
NAMES = {AWAS: "AWAS", SIAGA: "SIAGA", WASPADA: "WASPADA"}


def crc32(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def sections_of(stream: bytes, pids: tuple[int, ...]) -> list[tuple[int, bytes]]:
    """(pid, section) for every whole, CRC-correct long-form section on ``pids``, in stream order."""
    return Splitter(pids).feed(stream)


class Splitter:
    """Sections out of a transport stream that arrives in pieces (UDP datagrams of whole packets): what a
    packet leaves unfinished waits for the next piece."""

    def __init__(self, pids: tuple[int, ...]) -> None:
        self.pids = pids
        self.pending: dict[int, bytearray] = {}
        self.rest = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        stream, out, pending = self.rest + data, [], self.pending
        whole = len(stream) - len(stream) % 188
        self.rest = stream[whole:]
        for at in range(0, whole, 188):
            packet = stream[at:at + 188]
            if packet[0] != 0x47 or packet[1] & 0x80:
                continue
            pid = ((packet[1] & 0x1F) << 8) | packet[2]
            if pid not in self.pids or not (packet[3] >> 4) & 1:
                continue
            payload = packet[4:]
            if (packet[3] >> 4) & 2:
                payload = payload[1 + payload[0]:]
            if packet[1] & 0x40:
                pointer = payload[0]
                if pid in pending:
                    pending[pid] += payload[1:1 + pointer]
                    _drain(pid, pending, out)
                pending[pid] = bytearray(payload[1 + pointer:])
            elif pid in pending:
                pending[pid] += payload
            _drain(pid, pending, out)
        return out


def _drain(pid: int, pending: dict[int, bytearray], out: list[tuple[int, bytes]]) -> None:
    buffer = pending.get(pid)
    while buffer is not None and len(buffer) >= 3 and buffer[0] != 0xFF:
        size = 3 + (((buffer[1] & 0x0F) << 8) | buffer[2])
        if len(buffer) < size:
            return
        chunk = bytes(buffer[:size])
        del buffer[:size]
        if crc32(chunk) == 0:
            out.append((pid, chunk))
    if buffer is not None and (not buffer or buffer[0] == 0xFF):
        pending.pop(pid, None)


@dataclass
class Gathered:
    limit: int
    version: int | None = None
    last: int = 0
    bitmap: int = 0
    count: int = 0
    size: int = 0
    kept: list[bytes] = field(default_factory=list)
    done: bool = False

    def take(self, section: bytes) -> bool:
        number = section[6]
        if len(section) > self.limit:
            return False
        if number < 32 and self.bitmap >> number & 1:
            return False
        if number < 32:
            self.bitmap |= 1 << number
        self.last = section[7]
        self.count += 1
        if self.size + len(section) <= 8192:
            self.kept.append(section)
            self.size += len(section)
        self.done = self.count > self.last
        return self.done

    def ordered(self) -> list[bytes]:
        found = []
        for number in range(self.count):
            found += [s for s in self.kept if s[6] == number][:1]
        return found


@dataclass
class Screen:
    level: str | None = None
    package: int | None = None
    text: str = ""
    disaster: int | None = None


class VendorBox:
    """One box: its postcode, MStar's wildcard rule or exact digits, the MStar or MediaTek TMDW."""

    def __init__(self, postcode: str, *, tmdw: str = "mstar", wildcards: bool = True) -> None:
        self.digits = [int(c) for c in postcode]
        self.tmdw, self.wildcards = tmdw, wildcards
        self.watching = False
        self.history: list[Screen] = []
        self._clear()

    def _clear(self) -> None:
        self.trdw = Gathered(1024)
        self.tcdw = Gathered(4096)
        self.tmdw_table = Gathered(4096)
        self.match: tuple[int, int, int] | None = None  # level, package, disaster code
        self.content = False
        self.text: bytes | None = None
        self.screen = Screen()

    def read(self, stream: bytes) -> Screen:
        for pid, section in sections_of(stream, PIDS):
            self.take(pid, section)
        return self.screen

    def take(self, pid: int, section: bytes) -> Screen:
        """One whole section of the PAT or the EWS PID (as :class:`Splitter` gives them); what is shown after it."""
        if pid == 0x0000 and section[0] == 0x00:
            body = section[8:-4]
            entries = [(body[i] << 8 | body[i + 1], (body[i + 2] & 0x1F) << 8 | body[i + 3])
                       for i in range(0, len(body) - 3, 4)]
            self.watching = any(0x038F in entry for entry in entries)
            if not self.watching:
                self._clear()
        elif pid == 0x0080 and self.watching and section[0] == 0x80 and section[1] & 0x80:
            self._section(section)
        return self.screen

    def _section(self, section: bytes) -> None:
        extension, version = section[3] << 8 | section[4], (section[5] >> 1) & 0x1F
        table = {1: self.trdw, 2: self.tcdw, 3: self.tmdw_table}.get(extension)
        if table is None or (extension != 1 and self.match is None):
            return
        if table.version is not None and table.version != version:
            if extension == 1:
                self._clear()
                self._show()
                table = self.trdw
            else:
                fresh = Gathered(4096)
                if extension == 2:
                    self.tcdw, self.content = fresh, False
                else:
                    self.tmdw_table, self.text = fresh, None
                table = fresh
        if table.done:
            return
        table.version = version
        if not table.take(section):
            return
        bodies = [s[8:-4] for s in table.ordered()]
        if extension == 1:
            self.match = None
            for body in bodies:
                self._locations(body)
        elif extension == 2 and self.match is not None:
            self.content = any(self._entry(body) for body in bodies)
        elif extension == 3 and self.match is not None:
            text = b""
            matched = False
            for body in bodies:
                if body[0] != 0 and body[0] == self.match[0] and body[1] == self.match[1]:
                    matched = True
                    text += self._message(body)
            self.text = text[:3200] if matched else None
        self._show()

    def _locations(self, body: bytes) -> None:
        if len(body) < 5:
            return
        count = min(body[4], 5)
        at = 5
        for _ in range(count):
            if at + 4 > len(body):
                return
            code = body[at] << 16 | body[at + 1] << 8 | body[at + 2]
            nibbles = [(code >> shift) & 0xF for shift in (20, 16, 12, 8, 4)]
            if all((n > 9 and self.wildcards) or n == d for n, d in zip(nibbles, self.digits, strict=True)):
                self.match = (body[2], body[3], body[0] << 8 | body[1])
            at += 4 + body[at + 3]

    def _entry(self, body: bytes) -> bool:
        assert self.match is not None
        found, at = False, 1
        for _ in range(min(body[0], 15) if body else 0):
            if at + 4 > len(body):
                break
            package, low = body[at], body[at + 3]
            at += 4
            for _string in range(4):
                at += 1 + (body[at] if at < len(body) else 0)
            if package == self.match[1] and low != 0 and low == self.match[2]:
                found = True
        return found

    def _message(self, body: bytes) -> bytes:
        out, at = b"", 2
        if self.tmdw == "mtk":
            at = 3
            while at < len(body):  # a length past the end takes what is there
                out += body[at + 1:at + 1 + body[at]]
                at += 1 + body[at]
            return out
        while at + 2 <= len(body):
            length = body[at] << 8 | body[at + 1]
            out += body[at + 2:at + 2 + length]
            at += 2 + length
        return out

    def _show(self) -> None:
        complete = self.trdw.done and self.tcdw.done and self.tmdw_table.done
        if self.match is None or not complete or not self.content or self.text is None:
            if self.match is None:
                self.screen = Screen()
        else:
            level, package, disaster = self.match
            self.screen = Screen(NAMES.get(level), package, self.text.split(b"\x00")[0].decode("latin-1"), disaster)
        if not self.history or self.history[-1] != self.screen:
            self.history.append(self.screen)


def shows(stream: bytes, postcodes: list[str], **options: object) -> dict[str, str | None]:
    """{postcode: the level a box there shows after ``stream``}"""
    return {code: VendorBox(code, **options).read(stream).level for code in postcodes}  # type: ignore[arg-type]
