"""MPEG-TS for the EWS carousel: PSI tables (PAT, PMT, SDT), packetising sections, a constant-bitrate mux.

The EWS is programme 0x038F (a box watches EWS only when the PAT lists it) whose PMT lists the EWS PID
0x0080 as stream_type 0x05 (private sections) with the private_data_specifier 0x00002168; the SDT carries
original_network_id 0x2168. Inserted into a video TS (:func:`insert_into`), the carousel keeps the video's
programmes, PMTs and SDT and rewrites only the PAT, which then lists them and programme 0x038F. Every packet
is 188 bytes; continuity counters run per PID; the output has a constant bitrate: what is not due is a null
packet.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from siaga.ews import layout
from siaga.ews.crc import crc32_mpeg2

PACKET = 188
SYNC = 0x47
NULL_PID = 0x1FFF
PAT_PID = 0x0000
SDT_PID = 0x0011
PAT_TABLE, PMT_TABLE, SDT_TABLE = 0x00, 0x02, 0x42
STREAM_TYPE_PRIVATE_SECTIONS = 0x05
TAG_PRIVATE_DATA_SPECIFIER = 0x5F
TAG_SERVICE = 0x48

NULL_PACKET = bytes([SYNC, 0x1F, 0xFF, 0x10]) + b"\xff" * 184


def psi_section(table_id: int, extension: int, version: int, body: bytes, *, dvb: bool = False) -> bytes:
    """A long-form PSI section. ``dvb``: the DVB SI tables (SDT) set the reserved_future_use bit the MPEG tables
    (PAT, PMT) keep at 0."""
    length = 5 + len(body) + 4
    if length > 1021:
        raise ValueError(f"PSI table 0x{table_id:02X} too long ({length} bytes)")
    first = 0xF0 if dvb else 0xB0
    head = struct.pack(">BBBHBBB", table_id, first | (length >> 8), length & 0xFF, extension,
                       0xC1 | ((version & 0x1F) << 1), 0, 0)
    data = head + body
    return data + struct.pack(">I", crc32_mpeg2(data))


def _descriptor(tag: int, payload: bytes) -> bytes:
    return bytes([tag, len(payload)]) + payload


def private_data_specifier() -> bytes:
    return _descriptor(TAG_PRIVATE_DATA_SPECIFIER, struct.pack(">I", layout.PRIVATE_DATA_SPECIFIER))


@dataclass(frozen=True)
class Stream:
    stream_type: int
    pid: int
    descriptors: bytes = b""


@dataclass
class Service:
    transport_stream_id: int = 1
    service_id: int = layout.PROGRAM_NUMBER
    pmt_pid: int = 0x0100
    ews_pid: int = layout.PID
    pcr_pid: int = NULL_PID
    provider: str = "Siaga112"
    name: str = "EWS Siaga112"
    other_programs: dict[int, int] = field(default_factory=dict)  # a video's programme number -> its PMT PID
    send_sdt: bool = True  # False beside a video, whose own SDT stays

    def pat(self, version: int = 0) -> bytes:
        programs = {**self.other_programs, self.service_id: self.pmt_pid}
        body = b"".join(struct.pack(">HH", number, 0xE000 | pid) for number, pid in sorted(programs.items()))
        return psi_section(PAT_TABLE, self.transport_stream_id, version, body)

    def pmt(self, version: int = 0) -> bytes:
        program_info = private_data_specifier()
        body = struct.pack(">HH", 0xE000 | self.pcr_pid, 0xF000 | len(program_info)) + program_info
        ews = Stream(STREAM_TYPE_PRIVATE_SECTIONS, self.ews_pid, private_data_specifier())
        for stream in [ews]:
            body += struct.pack(">BHH", stream.stream_type, 0xE000 | stream.pid, 0xF000 | len(stream.descriptors))
            body += stream.descriptors
        return psi_section(PMT_TABLE, self.service_id, version, body)

    def sdt(self, version: int = 0) -> bytes:
        provider, name = self.provider.encode("latin-1", "replace"), self.name.encode("latin-1", "replace")
        service = _descriptor(TAG_SERVICE, bytes([0x01, len(provider)]) + provider + bytes([len(name)]) + name)
        descriptors = private_data_specifier() + service
        body = struct.pack(">HB", layout.ORIGINAL_NETWORK_ID, 0xFF)
        body += struct.pack(">HBH", self.service_id, 0xFC, (4 << 13) | len(descriptors)) + descriptors
        return psi_section(SDT_TABLE, self.transport_stream_id, version, body, dvb=True)


class Packetiser:
    """Sections -> 188-byte packets, continuity counter per PID. Each section starts a packet (pointer 0);
    the rest of its last packet is 0xFF stuffing."""

    def __init__(self) -> None:
        self.counters: dict[int, int] = {}

    def _header(self, pid: int, start: bool) -> bytes:
        cc = self.counters.get(pid, -1) + 1 & 0x0F
        self.counters[pid] = cc
        return struct.pack(">BHB", SYNC, (0x4000 if start else 0) | pid, 0x10 | cc)

    def packets(self, pid: int, section_bytes: bytes) -> list[bytes]:
        out = []
        payload = b"\x00" + section_bytes
        for at in range(0, len(payload), 184):
            chunk = payload[at:at + 184]
            out.append(self._header(pid, at == 0) + chunk + b"\xff" * (184 - len(chunk)))
        return out


class Carousel:
    """A constant-bitrate TS with PSI and the EWS sections, repeated on schedule.

    ``next_packets(n)`` gives the next n packets; packet i leaves at i * 188 * 8 / bitrate seconds. PAT and
    PMT go every ``psi_ms``, the SDT every ``sdt_ms``, the EWS sections every ``repeat_ms`` (all of them, back
    to back); the rest is null packets. :meth:`set_sections` puts new content on air at once: the section being
    sent finishes (a receiver never gets a torn section), the rest of the old repetition is dropped and the
    new repetition starts. A receiver keeps sections per version, so the old version's partial repetition
    only goes stale; with many warnings on air this saves up to a whole repetition on every change.

    When one repetition does not fit in ``repeat_ms`` at the bitrate, :attr:`overbooked` says so (the
    sections then follow each other back to back, every repetition late).
    """

    def __init__(self, service: Service | None = None, *, bitrate: int = 500_000, repeat_ms: int = 250,
                 psi_ms: int = 100, sdt_ms: int = 1000) -> None:
        self.service = service or Service()
        self.bitrate = bitrate
        self.packetiser = Packetiser()
        self.index = 0
        self._sections: list[bytes] = []
        self._queue: list[bytes] = []  # packets of what is being sent (PSI, one EWS section)
        self._pending: list[bytes] = []  # EWS sections of the repetition in progress, not started yet
        self._due = {"psi": 0.0, "sdt": 0.0, "ews": 0.0}
        self._every = {"psi": psi_ms / 1000, "sdt": sdt_ms / 1000, "ews": repeat_ms / 1000}
        if bitrate < 50_000:
            raise ValueError("the carousel needs at least 50 kbit/s")

    @property
    def packet_seconds(self) -> float:
        return PACKET * 8 / self.bitrate

    def set_sections(self, sections: Sequence[bytes]) -> None:
        self._sections = list(sections)
        self._pending = []
        self._due["ews"] = min(self._due["ews"], self.index * self.packet_seconds)  # on air at once

    @property
    def repetition_seconds(self) -> float:
        """How long one repetition of the EWS sections takes at the bitrate."""
        packets = sum(-(-(len(sec) + 1) // 184) for sec in self._sections)
        return packets * self.packet_seconds

    @property
    def overbooked(self) -> bool:
        return self.repetition_seconds > self._every["ews"]

    def _refill(self, now: float) -> None:
        service = self.service
        if now >= self._due["psi"]:
            self._queue += self.packetiser.packets(PAT_PID, service.pat())
            self._queue += self.packetiser.packets(service.pmt_pid, service.pmt())
            self._due["psi"] = now + self._every["psi"]
        if now >= self._due["sdt"] and service.send_sdt:
            self._queue += self.packetiser.packets(SDT_PID, service.sdt())
            self._due["sdt"] = now + self._every["sdt"]
        if now >= self._due["ews"] and not self._pending:
            self._pending = list(self._sections)
            self._due["ews"] = now + self._every["ews"]
        if not self._queue and self._pending:
            self._queue += self.packetiser.packets(service.ews_pid, self._pending.pop(0))

    def next_packet(self, filler: bytes | None = None) -> bytes:
        """The next packet: something due, else ``filler`` (a packet of another stream) or a null packet."""
        if not self._queue:
            self._refill(self.index * self.packet_seconds)
        self.index += 1
        if self._queue:
            return self._queue.pop(0)
        return filler if filler is not None else NULL_PACKET

    def next_packets(self, count: int) -> list[bytes]:
        return [self.next_packet() for _ in range(count)]

    def seconds(self, seconds: float) -> bytes:
        return b"".join(self.next_packets(max(1, round(seconds / self.packet_seconds))))


# --- reading PSI (for the receiver and for insertion into a video TS) -----------------------------------

def parse_pat(section: bytes) -> dict[int, int]:
    """{program_number: PMT PID}"""
    body = section[8:-4]
    return {int.from_bytes(body[i:i + 2], "big"): int.from_bytes(body[i + 2:i + 4], "big") & 0x1FFF
            for i in range(0, len(body) - 3, 4)}


def parse_pmt(section: bytes) -> tuple[int, list[Stream]]:
    """(PCR PID, streams) of a PMT section."""
    body = section[8:-4]
    pcr = int.from_bytes(body[0:2], "big") & 0x1FFF
    at = 4 + (int.from_bytes(body[2:4], "big") & 0x0FFF)
    streams = []
    while at + 5 <= len(body):
        info = int.from_bytes(body[at + 3:at + 5], "big") & 0x0FFF
        streams.append(Stream(body[at], int.from_bytes(body[at + 1:at + 3], "big") & 0x1FFF,
                              bytes(body[at + 5:at + 5 + info])))
        at += 5 + info
    return pcr, streams


def ews_pid_of(streams: Iterable[Stream]) -> int | None:
    """The PID of the private-section stream marked with the Indonesian private_data_specifier."""
    marker = private_data_specifier()
    for stream in streams:
        if stream.stream_type == STREAM_TYPE_PRIVATE_SECTIONS and marker in stream.descriptors:
            return stream.pid
    return None


def split_packets(data: bytes) -> Iterator[bytes]:
    for at in range(0, len(data) - PACKET + 1, PACKET):
        yield data[at:at + PACKET]


def pid_of(packet: bytes) -> int:
    return ((packet[1] & 0x1F) << 8) | packet[2]


def pcr_of(packet: bytes) -> int | None:
    """The programme clock reference of a packet, in 27 MHz ticks, if its adaptation field carries one."""
    if len(packet) != PACKET or not packet[3] & 0x20 or packet[4] < 7 or not packet[5] & 0x10:
        return None
    raw = int.from_bytes(packet[6:12], "big")
    base, extension = raw >> 15, raw & 0x1FF
    return base * 300 + extension


def measure_bitrate(data: bytes) -> int:
    """The bitrate of a constant-bitrate TS from its PCRs: the bytes between the first and the last PCR of
    one PID over the time between them. ValueError when there are not two PCRs to go by."""
    first: tuple[int, int] | None = None
    last: tuple[int, int] | None = None
    pcr_pid: int | None = None
    for index, packet in enumerate(split_packets(data)):
        pcr = pcr_of(packet)
        if pcr is None or (pcr_pid is not None and pid_of(packet) != pcr_pid):
            continue
        if first is None:
            first, pcr_pid = (index, pcr), pid_of(packet)
        elif pcr > first[1]:  # a PCR wrap (every 26.5 hours) ends the measurement
            last = (index, pcr)
        else:
            break
    if first is None or last is None:
        raise ValueError("the TS has fewer than two PCRs: its bitrate cannot be measured")
    ticks = last[1] - first[1]
    return round((last[0] - first[0]) * PACKET * 8 * 27_000_000 / ticks)


def insert_into(video: bytes, carousel: Carousel, *, loops: int = 1) -> bytes:
    """Our carousel inside a constant-bitrate video TS, as an EWS inserter does: the video's null packets and
    its PAT are replaced by the carousel's packets; its PMTs, SDT and streams pass unchanged, and our PAT lists
    its programmes beside programme 0x038F. The video must be CBR with room to spare (ffmpeg ``-muxrate``),
    and the carousel's bitrate the video's (:func:`measure_bitrate`), so that its schedule keeps time;
    ``loops`` plays the video several times. ValueError when the video has no PAT, already has programme
    0x038F, or uses the EWS PID."""
    from siaga.ews.demux import Demux

    programmes: dict[int, int] | None = None
    for pid, section in Demux({PAT_PID}).feed(video):
        if pid == PAT_PID and section[0] == PAT_TABLE:
            programmes = {n: p for n, p in parse_pat(section).items() if n != 0}
            carousel.service.transport_stream_id = int.from_bytes(section[3:5], "big")
            break
    if programmes is None:
        raise ValueError("the video TS has no PAT")
    service = carousel.service
    if service.service_id in programmes:
        raise ValueError(f"the video TS already has programme 0x{service.service_id:04X}, the EWS programme")
    used = {pid_of(p) for p in split_packets(video)}
    if service.ews_pid in used:
        raise ValueError(f"the video TS already uses PID 0x{service.ews_pid:04X}, the EWS PID: choose the other "
                         f"EWS PID (0x{layout.ALTERNATE_PID:04X} or 0x{layout.PID:04X})")
    while service.pmt_pid in used or service.pmt_pid in programmes.values() or service.pmt_pid == service.ews_pid:
        service.pmt_pid += 1
    service.other_programs, service.send_sdt = programmes, False
    out = []
    for _ in range(loops):
        for packet in split_packets(video):
            pid = pid_of(packet)
            if pid in (NULL_PID, PAT_PID):
                out.append(carousel.next_packet())
            else:
                carousel.index += 1
                out.append(packet)
    return b"".join(out)
