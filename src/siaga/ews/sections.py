"""EWS messages <-> TRDW / TCDW / TMDW private sections (layout and assumptions: :mod:`siaga.ews.layout`).

:func:`encode` turns the warnings on air into the three sub-tables, one section per warning in each, all at
one version; it refuses, with :class:`EncodeError` naming the field, what does not fit. :func:`parse_section`
checks one section (table id, lengths, CRC) and :class:`CarouselReader` puts sections back together into
the complete set of warnings of one version; both treat corrupt input as absent, never as a warning.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from siaga.ews import layout
from siaga.ews.crc import crc32_mpeg2


class EncodeError(ValueError):
    """A message that cannot be put on air as asked (the text says which field and why)."""


class SectionError(ValueError):
    """A section that is not a well-formed EWS section (the text says what is wrong)."""


@dataclass(frozen=True)
class Location:
    postcode: str
    name: str = ""


@dataclass(frozen=True)
class Message:
    """One warning as it goes on air."""

    package_id: int
    level: str  # AWAS | SIAGA | WASPADA | END
    disaster_code: int
    authority: str = "BMKG"
    locations: tuple[Location, ...] = ()
    disaster_type: str = ""
    position: str = ""
    date: str = ""
    characteristic: str = ""
    text: str = ""
    index: int = 0

    @property
    def postcodes(self) -> list[str]:
        return [location.postcode for location in self.locations]

    def as_json(self, version: int | None = None) -> dict[str, object]:
        data: dict[str, object] = {
            "package_id": self.package_id, "level": self.level, "disaster_code": f"{self.disaster_code:02X}",
            "disaster": layout.DISASTERS.get(self.disaster_code, ("", ""))[0], "authority": self.authority,
            "postcodes": self.postcodes, "locations": {loc.postcode: loc.name for loc in self.locations},
            "disaster_type": self.disaster_type, "position": self.position, "date": self.date,
            "characteristic": self.characteristic, "message": self.text,
        }
        if version is not None:
            data["version"] = version
        return data


# --- encoding -----------------------------------------------------------------------------------------

def _short(name: str, value: str) -> bytes:
    raw = layout.encode_text(value)
    if len(raw) > layout.MAX_SHORT_TEXT:
        raise EncodeError(f"{name} is {len(raw)} bytes on air; at most {layout.MAX_SHORT_TEXT} fit "
                          f"({layout.MAX_SHORT_TEXT - 1} bytes of UTF-8)")
    return bytes([len(raw)]) + raw


def _check(message: Message) -> int:
    if not 0 <= message.package_id <= 255:
        raise EncodeError(f"package_id {message.package_id} is not between 0 and 255")
    if message.level not in layout.LEVELS and message.level != "END":
        raise EncodeError(f"level {message.level!r} is not one of AWAS, SIAGA, WASPADA (or END)")
    if not 0 <= message.disaster_code <= 0xFFFF:
        raise EncodeError(f"disaster code {message.disaster_code} does not fit in 16 bits")
    if message.authority not in layout.AUTHORITIES:
        raise EncodeError(f"authority {message.authority!r} is not BMKG or BNPB")
    if not 0 <= message.index <= 255:
        raise EncodeError(f"message index {message.index} is not between 0 and 255")
    if not message.locations:
        raise EncodeError("a warning needs at least one postcode")
    if len(message.locations) > layout.MAX_LOCATIONS:
        raise EncodeError(f"{len(message.locations)} postcodes do not fit: at most {layout.MAX_LOCATIONS}")
    return layout.END if message.level == "END" else layout.LEVELS[message.level]


def trdw_body(message: Message) -> bytes:
    level = _check(message)
    parts = [struct.pack(">HBBB", message.disaster_code, level, message.package_id, len(message.locations))]
    for location in message.locations:
        try:
            code = layout.postcode_to_bcd(location.postcode)
        except ValueError as exc:
            raise EncodeError(str(exc)) from None
        name = location.name.encode("utf-8")
        if len(name) > 255:
            raise EncodeError(f"the name of {location.postcode} is {len(name)} bytes; at most 255 fit")
        parts.append(code + bytes([len(name)]) + name)
    return b"".join(parts)


def tcdw_body(message: Message) -> bytes:
    _check(message)
    return (struct.pack(">BBH", message.package_id, layout.AUTHORITIES[message.authority], message.disaster_code)
            + _short("disaster type", message.disaster_type) + _short("position", message.position)
            + _short("date", message.date) + _short("characteristic", message.characteristic))


def tmdw_body(message: Message) -> bytes:
    level = _check(message)
    raw = layout.encode_text(message.text)
    if len(raw) > layout.MAX_MESSAGE:
        raise EncodeError(f"the message is {len(raw)} bytes on air; at most {layout.MAX_MESSAGE} fit")
    return struct.pack(">BBBH", level, message.package_id, message.index, len(raw)) + raw


def section(extension: int, version: int, number: int, last: int, body: bytes) -> bytes:
    """One long-form private section: header, body, CRC-32/MPEG-2."""
    length = 5 + len(body) + layout.CRC_BYTES
    if length > layout.MAX_SECTION_LENGTH:
        raise EncodeError(f"{layout.SUBTABLES.get(extension, hex(extension))} section would be "
                          f"{length + 3} bytes; a private section holds at most {layout.MAX_SECTION_LENGTH + 3}")
    head = struct.pack(">BHHBBB", layout.TABLE_ID, 0xF000 | length, extension,
                       0xC1 | ((version & 0x1F) << 1), number, last)
    data = head + body
    return data + struct.pack(">I", crc32_mpeg2(data))


def encode(messages: Sequence[Message], version: int) -> list[bytes]:
    """The TRDW, TCDW and TMDW sub-tables (in that order) carrying ``messages`` at ``version`` (0-31)."""
    if not 0 <= version <= 31:
        raise EncodeError(f"version {version} is not between 0 and 31")
    if len(messages) > 256:
        raise EncodeError(f"{len(messages)} warnings at once do not fit; at most 256")
    packages = [m.package_id for m in messages]
    if len(set(packages)) != len(packages):
        raise EncodeError(f"two warnings share a package_id: {sorted(packages)}")
    last = len(messages) - 1
    out: list[bytes] = []
    for extension, body in ((layout.TRDW, trdw_body), (layout.TCDW, tcdw_body), (layout.TMDW, tmdw_body)):
        out.extend(section(extension, version, n, last, body(m)) for n, m in enumerate(messages))
    return out


# --- decoding -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    extension: int
    version: int
    number: int
    last: int
    body: bytes


def parse_section(data: bytes) -> Section:
    """Check and split one section; :class:`SectionError` says what is wrong with it."""
    if len(data) < layout.HEADER_BYTES + layout.CRC_BYTES:
        raise SectionError(f"a section of {len(data)} bytes is too short")
    if data[0] != layout.TABLE_ID:
        raise SectionError(f"table_id 0x{data[0]:02X} is not the EWS table 0x{layout.TABLE_ID:02X}")
    if not data[1] & 0x80:
        raise SectionError("section_syntax_indicator is 0: EWS sections are long form")
    length = ((data[1] & 0x0F) << 8) | data[2]
    if length > layout.MAX_SECTION_LENGTH or length < 5 + layout.CRC_BYTES:
        raise SectionError(f"section_length {length} is out of range")
    if len(data) != 3 + length:
        raise SectionError(f"section_length says {3 + length} bytes, there are {len(data)}")
    if crc32_mpeg2(data) != 0:
        raise SectionError("CRC-32 does not match")
    extension = (data[3] << 8) | data[4]
    if extension not in layout.SUBTABLES:
        raise SectionError(f"table_id_extension 0x{extension:04X} is not TRDW, TCDW or TMDW")
    if not data[5] & 0x01:
        raise SectionError("current_next_indicator is 0 (not yet applicable)")
    number, last = data[6], data[7]
    if number > last:
        raise SectionError(f"section_number {number} is after last_section_number {last}")
    return Section(extension, (data[5] >> 1) & 0x1F, number, last, bytes(data[8:-4]))


class _Reader:
    def __init__(self, body: bytes, what: str) -> None:
        self.body, self.at, self.what = body, 0, what

    def take(self, n: int, field_name: str) -> bytes:
        if self.at + n > len(self.body):
            raise SectionError(f"{self.what}: {field_name} runs past the end of the section")
        chunk = self.body[self.at:self.at + n]
        self.at += n
        return chunk

    def byte(self, field_name: str) -> int:
        return self.take(1, field_name)[0]

    def short(self, field_name: str) -> int:
        return int.from_bytes(self.take(2, field_name), "big")

    def string(self, field_name: str) -> str:
        return layout.decode_text(self.take(self.byte(field_name), field_name))

    def done(self) -> None:
        if self.at != len(self.body):
            raise SectionError(f"{self.what}: {len(self.body) - self.at} bytes left over")


def _level(code: int, what: str) -> str:
    if code not in layout.LEVEL_NAMES:
        raise SectionError(f"{what}: level code {code} is not AWAS 1, SIAGA 2, WASPADA 3 or END 0")
    return layout.LEVEL_NAMES[code]


def parse_trdw(body: bytes) -> dict[str, object]:
    r = _Reader(body, "TRDW")
    disaster, level, package, count = r.short("disaster_code"), r.byte("location_type_code"), \
        r.byte("package_id"), r.byte("number_of_location_code")
    locations = []
    for i in range(count):
        postcode = layout.bcd_to_postcode(r.take(3, f"location_code {i + 1}"))
        if postcode is None:
            raise SectionError(f"TRDW: location_code {i + 1} is not a postcode in packed BCD")
        name = r.take(r.byte(f"location_code_length {i + 1}"), f"location name {i + 1}")
        locations.append(Location(postcode, name.decode("utf-8", errors="replace")))
    r.done()
    return {"disaster_code": disaster, "level": _level(level, "TRDW"), "package_id": package,
            "locations": tuple(locations)}


def parse_tcdw(body: bytes) -> dict[str, object]:
    r = _Reader(body, "TCDW")
    package, authority, disaster = r.byte("package_id"), r.byte("authority"), r.short("disaster_code")
    if authority not in layout.AUTHORITY_NAMES:
        raise SectionError(f"TCDW: authority {authority} is not BMKG 1 or BNPB 2")
    values = {"package_id": package, "authority": layout.AUTHORITY_NAMES[authority], "disaster_code": disaster,
              "disaster_type": r.string("disaster type"), "position": r.string("position"),
              "date": r.string("date"), "characteristic": r.string("characteristic")}
    r.done()
    return values


def parse_tmdw(body: bytes) -> dict[str, object]:
    r = _Reader(body, "TMDW")
    level, package, index = r.byte("location_type_code"), r.byte("package_id"), r.byte("index")
    text = layout.decode_text(r.take(r.short("message length"), "message"))
    r.done()
    return {"level": _level(level, "TMDW"), "package_id": package, "index": index, "text": text}


_PARSERS = {layout.TRDW: parse_trdw, layout.TCDW: parse_tcdw, layout.TMDW: parse_tmdw}


def assemble(trdw: Iterable[dict[str, object]], tcdw: Iterable[dict[str, object]],
             tmdw: Iterable[dict[str, object]]) -> list[Message]:
    """Join the three sub-tables by package_id. A package missing from one of them, or whose parts
    disagree (level, disaster), is left out: half a warning is not shown."""
    contents = {c["package_id"]: c for c in tcdw}
    texts = {t["package_id"]: t for t in tmdw}
    messages = []
    for region in trdw:
        package = region["package_id"]
        content, text = contents.get(package), texts.get(package)
        if content is None or text is None:
            continue
        if content["disaster_code"] != region["disaster_code"] or text["level"] != region["level"]:
            continue
        messages.append(Message(
            package_id=int(package),  # type: ignore[call-overload]
            level=str(region["level"]), disaster_code=int(region["disaster_code"]),  # type: ignore[call-overload]
            authority=str(content["authority"]), locations=region["locations"],  # type: ignore[arg-type]
            disaster_type=str(content["disaster_type"]), position=str(content["position"]),
            date=str(content["date"]), characteristic=str(content["characteristic"]), text=str(text["text"]),
            index=int(text["index"])))  # type: ignore[call-overload]
    return messages


@dataclass
class Snapshot:
    """Everything on air at one version."""

    version: int
    messages: list[Message] = field(default_factory=list)


class CarouselReader:
    """Sections in (any order, repeated, some corrupt), complete snapshots out.

    :meth:`feed` returns a :class:`Snapshot` when the last missing section of a version arrives: once per
    version and content (a version seen complete whose sections later carry other bytes, as after a
    head-end restart, is read again). :meth:`forget` drops everything, as a power cut does.
    """

    KEEP_VERSIONS = 4

    def __init__(self) -> None:
        self._parts: dict[int, dict[int, dict[int, dict[str, object]]]] = {}  # version -> ext -> no. -> parsed
        self._last: dict[int, dict[int, int]] = {}  # version -> ext -> last_section_number
        self._raw: dict[int, dict[tuple[int, int], bytes]] = {}  # version -> (ext, no.) -> section bytes
        self._complete: dict[int, dict[tuple[int, int], bytes]] = {}
        self.rejected = 0

    def forget(self) -> None:
        self._parts.clear()
        self._last.clear()
        self._raw.clear()
        self._complete.clear()

    def _store(self, sec: Section, parsed: dict[str, object], data: bytes) -> None:
        lasts = self._last.setdefault(sec.version, {})
        parts = self._parts.setdefault(sec.version, {})
        raw = self._raw.setdefault(sec.version, {})
        if lasts.get(sec.extension, sec.last) != sec.last:  # the sub-table changed size: start it again
            parts.pop(sec.extension, None)
            for old in [k for k in raw if k[0] == sec.extension]:
                del raw[old]
        lasts[sec.extension] = sec.last
        parts.setdefault(sec.extension, {})[sec.number] = parsed
        raw[(sec.extension, sec.number)] = bytes(data)

    def feed(self, data: bytes) -> Snapshot | None:
        try:
            sec = parse_section(data)
            parsed = _PARSERS[sec.extension](sec.body)
        except SectionError:
            self.rejected += 1
            return None
        version, key = sec.version, (sec.extension, sec.number)
        done = self._complete.get(version)
        if done is not None:
            if done.get(key) == data:
                return None  # a repeat of what is already known
            # the same version with other content (a head-end restarted without its state): read it again,
            # starting from the sections already known
            del self._complete[version]
            for other_key, other in done.items():
                if other_key != key:
                    known = parse_section(other)
                    self._store(known, _PARSERS[known.extension](known.body), other)
        self._store(sec, parsed, data)
        lasts, parts = self._last[version], self._parts[version]
        raw = self._raw[version]
        for store in (self._parts, self._last, self._raw):
            while len(store) > self.KEEP_VERSIONS:
                store.pop(next(iter(store)))
        if version not in self._parts or any(
                ext not in lasts or len(parts.get(ext, {})) != lasts[ext] + 1 for ext in _PARSERS):
            return None
        self._complete[version] = raw
        while len(self._complete) > self.KEEP_VERSIONS:
            self._complete.pop(next(iter(self._complete)))
        tables = [[parts[ext][n] for n in sorted(parts[ext])] for ext in (layout.TRDW, layout.TCDW, layout.TMDW)]
        for store in (self._parts, self._last, self._raw):
            store.pop(version, None)
        return Snapshot(version, assemble(*tables))
