"""TS packets -> complete, CRC-checked sections, per PID. Whatever is corrupt is dropped, never raised.

Feed it bytes in any chunks (a UDP datagram, a file): it finds the 0x47 sync (and finds it again after
garbage), skips packets flagged with transport errors, reads adaptation fields, follows pointer fields,
joins a section across packets and splits several sections out of one packet. A continuity-counter gap on
a PID drops the section being gathered there (its missing bytes would make it wrong). A long-form section
whose CRC-32 does not match is dropped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator

from siaga.ews.crc import crc32_mpeg2

PACKET = 188
SYNC = 0x47


class Demux:
    def __init__(self, pids: set[int] | None = None) -> None:
        self.pids = pids  # None: every PID but the null PID
        self._buffer = b""
        self._partial: dict[int, bytearray] = {}
        self._cc: dict[int, int] = {}
        self.packets = 0
        self.crc_errors = 0
        self.cc_errors = 0
        self.sync_losses = 0

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        buffer = self._buffer + data
        at = 0
        while len(buffer) - at >= PACKET:
            if buffer[at] != SYNC or (len(buffer) - at > PACKET and buffer[at + PACKET] != SYNC):
                # lost: find the next place where two packets in a row start with 0x47 (or the last one)
                found = buffer.find(bytes([SYNC]), at + 1)
                while found != -1 and len(buffer) - found > PACKET and buffer[found + PACKET] != SYNC:
                    found = buffer.find(bytes([SYNC]), found + 1)
                self.sync_losses += 1
                if found == -1:
                    at = len(buffer)
                    break
                at = found
                continue
            yield from self._packet(buffer[at:at + PACKET])
            at += PACKET
        self._buffer = buffer[at:]

    def _packet(self, packet: bytes) -> Iterator[tuple[int, bytes]]:
        self.packets += 1
        pid = ((packet[1] & 0x1F) << 8) | packet[2]
        if packet[1] & 0x80 or pid == 0x1FFF or (self.pids is not None and pid not in self.pids):
            return
        start = bool(packet[1] & 0x40)
        control = (packet[3] >> 4) & 0x03
        cc = packet[3] & 0x0F
        if not control & 0x01:
            return  # adaptation field only: no payload, the counter does not move
        previous = self._cc.get(pid)
        self._cc[pid] = cc
        if previous is not None and cc != (previous + 1) & 0x0F:
            if cc == previous:
                return  # a duplicate packet (allowed once): nothing new
            self.cc_errors += 1
            self._partial.pop(pid, None)
        offset = 4
        if control & 0x02:
            offset += 1 + packet[4]
            if offset > PACKET:
                return
        payload = packet[offset:]
        if start:
            if not payload:
                return
            pointer = payload[0]
            if 1 + pointer > len(payload):
                self._partial.pop(pid, None)
                return
            if pid in self._partial:
                self._partial[pid] += payload[1:1 + pointer]
                yield from self._sections(pid)
            self._partial[pid] = bytearray(payload[1 + pointer:])
            yield from self._sections(pid)
        elif pid in self._partial:
            self._partial[pid] += payload
            yield from self._sections(pid)

    def _sections(self, pid: int) -> Iterator[tuple[int, bytes]]:
        data = self._partial.get(pid)
        while data is not None and len(data) >= 3:
            if data[0] == 0xFF:  # stuffing: the rest of this packet carries nothing
                self._partial.pop(pid, None)
                return
            total = 3 + (((data[1] & 0x0F) << 8) | data[2])
            if len(data) < total:
                return
            section = bytes(data[:total])
            del data[:total]
            if section[1] & 0x80 and crc32_mpeg2(section) != 0:
                self.crc_errors += 1
                continue
            yield pid, section
        if data is not None and not data:
            self._partial.pop(pid, None)


def sections(data: bytes, pids: set[int] | None = None) -> list[tuple[int, bytes]]:
    return list(Demux(pids).feed(data))


class EwsSections:
    """TS bytes in, EWS sections out, from ``pid`` (0x0080, as real boxes read: they do not follow the PMT).
    With ``follow_pmt`` the PID is taken from the PMT instead (the private-section stream with the Indonesian
    private_data_specifier), for analysing streams made by others."""

    def __init__(self, pid: int | None = 0x0080, *, follow_pmt: bool = False) -> None:
        self.demux = Demux()
        self.pid = pid
        self.follow_pmt = follow_pmt
        self.pmt_pid: int | None = None

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        from siaga.ews import layout, ts

        for pid, section in self.demux.feed(data):
            if self.follow_pmt and pid == ts.PAT_PID and section[0] == ts.PAT_TABLE:
                self.pmt_pid = next(iter(ts.parse_pat(section).values()), None)
            elif self.follow_pmt and pid == self.pmt_pid and section[0] == ts.PMT_TABLE:
                found = ts.ews_pid_of(ts.parse_pmt(section)[1])
                if found is not None:
                    self.pid = found
            elif section[0] == layout.TABLE_ID and (self.pid is None or pid == self.pid):
                yield pid, section
