"""Warnings -> the packages real set-top boxes read -> TRDW / TCDW / TMDW sections, and back.

:func:`plan` is the head-end's packing (the receiver facts are in :mod:`siaga.ews.layout`): every postcode
goes to the strongest warning in force there, each warning's postcodes are split into packages of at most 5,
packages are numbered weakest first (a box keeps the last TRDW location it matches, so even overlapping
codes end on the strongest), and everything is sized to the receiver's buffers: at most 32 packages, 8,192
bytes per sub-table, 3,200 characters of message. When a warning is too big for that (a whole province in
exact postcodes), its postcodes become prefixes (MStar matches F nibbles as any digit) rather than be left
out; when text must be shortened it is cut at a word. Each adjustment is a note for a person.

:func:`encode` turns a plan into sections at the given per-sub-table versions, in the TMDW form the head-end
is set to (``mstar`` or ``mtk``). :func:`parse_section` checks one section and :class:`CarouselReader` puts
complete sub-tables back together into packages; corrupt input is absent, never a warning.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from siaga.ews import layout
from siaga.ews.crc import crc32_mpeg2


class EncodeError(ValueError):
    """A warning that cannot be put on air as asked (the text says which field and why)."""


class SectionError(ValueError):
    """A section that is not a well-formed EWS section (the text says what is wrong)."""


@dataclass(frozen=True)
class Location:
    postcode: str  # five digits (or, after a plan had to compress, a shorter prefix)
    name: str = ""


@dataclass(frozen=True)
class Message:
    """One warning in force, as the head-end knows it (any number of postcodes)."""

    key: str  # the warning's identity (its thread); stable across its updates
    level: str  # AWAS | SIAGA | WASPADA
    disaster_code: int
    authority: str = "BMKG"
    locations: tuple[Location, ...] = ()
    disaster_type: str = ""
    position: str = ""
    date: str = ""
    characteristic: str = ""
    text: str = ""
    order: int = 0  # when it went on air (smaller: earlier); breaks ties between warnings of one level

    @property
    def postcodes(self) -> list[str]:
        return [location.postcode for location in self.locations]


@dataclass(frozen=True)
class Package:
    """What a box assembles: one TRDW section, its TCDW entry and its TMDW message."""

    package_id: int
    level: str
    disaster_code: int
    authority: str = "BMKG"
    locations: tuple[Location, ...] = ()
    disaster_type: str = ""
    position: str = ""
    date: str = ""
    characteristic: str = ""
    text: str = ""
    key: str = ""  # the warning it carries (not on air)

    @property
    def postcodes(self) -> list[str]:
        return [location.postcode for location in self.locations]

    def as_json(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "level": self.level, "disaster_code": f"{self.disaster_code:02X}",
                "disaster": layout.DISASTERS.get(self.disaster_code, ("", ""))[0], "authority": self.authority,
                "postcodes": self.postcodes, "locations": {loc.postcode: loc.name for loc in self.locations},
                "disaster_type": self.disaster_type, "position": self.position, "date": self.date,
                "characteristic": self.characteristic, "message": self.text}


@dataclass
class Plan:
    packages: list[Package] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what had to give to fit; a person should read these


# --- planning -----------------------------------------------------------------------------------------

def _clip(text: str, limit: int) -> str:
    """At most ``limit`` bytes of ASCII, cut at a word with "..." when it must be cut."""
    text = layout.ascii_text(text)
    if len(text) <= limit:
        return text
    if limit < 8:
        return text[:max(limit, 0)]
    cut = text[:limit - 3]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "..."


def _check(message: Message) -> None:
    if message.level not in layout.LEVELS:
        raise EncodeError(f"level {message.level!r} is not one of AWAS, SIAGA, WASPADA")
    if message.disaster_code not in layout.DISASTERS:
        raise EncodeError(f"disaster code {message.disaster_code:#x} is not a known code 01-0E "
                          "(receivers compare only its low byte, which must not be 0)")
    if message.authority not in layout.AUTHORITIES:
        raise EncodeError(f"authority {message.authority!r} is not BMKG or BNPB")
    if not message.locations:
        raise EncodeError(f"warning {message.key!r} needs at least one postcode")
    for location in message.locations:
        if len(location.postcode) != 5 or not location.postcode.isascii() or not location.postcode.isdigit():
            raise EncodeError(f"warning {message.key!r}: a postcode is five digits, not {location.postcode!r}")


def _strength(message: Message) -> tuple[int, int, int]:
    """Bigger is stronger: level, then a tsunami before anything else, then the warning that came first."""
    return (layout.SEVERITY[message.level], int(message.disaster_code == 0x02), -message.order)


def _prefixes(locations: Sequence[Location], digits: int) -> tuple[Location, ...]:
    seen: dict[str, Location] = {}
    for location in locations:
        code = location.postcode[:digits]
        seen.setdefault(code, Location(code, location.name if digits == 5 else ""))
    return tuple(seen[code] for code in sorted(seen))


def plan(messages: Iterable[Message], form: str = "mstar") -> Plan:
    """The packages that put ``messages`` on air, sized for real receivers. EncodeError for a warning that is
    wrong (an unknown level, a bad postcode), never for one that is big: big ones are made to fit."""
    if form not in layout.TMDW_FORMS:
        raise EncodeError(f"TMDW form {form!r} is not one of {', '.join(layout.TMDW_FORMS)}")
    messages = list(messages)
    keys = [m.key for m in messages]
    if len(set(keys)) != len(keys):
        raise EncodeError(f"two warnings share a key: {sorted(keys)}")
    for message in messages:
        _check(message)
    notes: list[str] = []
    winner: dict[str, Message] = {}
    for message in messages:
        for postcode in message.postcodes:
            held = winner.get(postcode)
            if held is None or _strength(message) > _strength(held):
                winner[postcode] = message
    # weakest first: a box keeps the last location it matches
    ordered = sorted(messages, key=_strength)
    areas: dict[str, tuple[Location, ...]] = {}
    for message in ordered:
        won = tuple(sorted((loc for loc in dict((loc.postcode, loc) for loc in message.locations).values()
                            if winner[loc.postcode] is message), key=lambda loc: loc.postcode))
        if won:
            areas[message.key] = won
        elif message.locations:
            notes.append(f"{message.key}: every postcode has a stronger warning; not on air on its own")
    digits = dict.fromkeys(areas, 5)
    strength = {m.key: layout.SEVERITY[m.level] for m in messages}

    def count() -> int:
        return sum(-(-len(area) // layout.LOCATIONS_PER_PACKAGE) for area in areas.values())

    while count() > layout.SUBTABLE_SECTIONS:
        # the warning with most locations (the weakest of those) is coarsened: wider, never narrower
        candidates = [k for k in areas if digits[k] > 1]
        if not candidates:
            break
        key = max(candidates, key=lambda k: (len(areas[k]), -strength[k]))
        digits[key] -= 1
        areas[key] = _prefixes(areas[key], digits[key])
    for key, level in digits.items():
        if level < 5:
            notes.append(f"{key}: {len(areas[key])} postcode prefixes of {level} digits instead of exact postcodes "
                         f"(the area is too big for 32 packages); only MStar boxes match prefixes")
    chunks: list[tuple[Message, tuple[Location, ...]]] = []
    for message in ordered:
        area = areas.get(message.key, ())
        for at in range(0, len(area), layout.LOCATIONS_PER_PACKAGE):
            chunks.append((message, area[at:at + layout.LOCATIONS_PER_PACKAGE]))
    while len(chunks) > layout.SUBTABLE_SECTIONS:  # only when very many warnings are in force at once
        message, area = chunks.pop(0)
        notes.append(f"{message.key}: NOT ON AIR for {', '.join(loc.postcode for loc in area)}: more than "
                     f"{layout.SUBTABLE_SECTIONS} packages; the weakest left out")
    total = max(len(chunks), 1)
    name_limit = max(0, min(60, (layout.SUBTABLE_BYTES // total - 20) // layout.LOCATIONS_PER_PACKAGE - 4))
    text_limit = min(layout.MESSAGE_CHARS, layout.SUBTABLE_BYTES // total - 20)
    if form == "mtk":  # one section of at most 255 bytes per part, and at most 32 sections in all
        parts = min(layout.SUBTABLE_SECTIONS // total, layout.SUBTABLE_BYTES // total // (layout.MTK_ENTRY + 16))
        text_limit = min(text_limit, max(parts, 1) * layout.MTK_ENTRY)
    elif form == "compatible":
        text_limit = min(text_limit, layout.MTK_ENTRY)
    short_limit = min(layout.SHORT_TEXT, max(16, (layout.SUBTABLE_BYTES // total - 12) // 4 - 1))
    packages = []
    shortened = set()
    for number, (message, area) in enumerate(chunks, start=1):
        text = _clip(message.text, text_limit)
        if text != layout.ascii_text(message.text):
            shortened.add(message.key)
        packages.append(Package(
            package_id=number, level=message.level, disaster_code=message.disaster_code,
            authority=message.authority, locations=tuple(Location(loc.postcode, _clip(loc.name, name_limit))
                                                           for loc in area),
            disaster_type=_clip(message.disaster_type, short_limit), position=_clip(message.position, short_limit),
            date=_clip(message.date, short_limit), characteristic=_clip(message.characteristic, short_limit),
            text=text, key=message.key))
    for key in sorted(shortened):
        notes.append(f"{key}: message shortened to {text_limit} characters to fit {total} package(s)")
    return Plan(packages, notes)


# --- encoding -----------------------------------------------------------------------------------------

def _short(name: str, value: str) -> bytes:
    raw = layout.encode_text(value)
    if len(raw) > layout.SHORT_TEXT:
        raise EncodeError(f"{name} is {len(raw)} bytes on air; at most {layout.SHORT_TEXT} fit")
    return bytes([len(raw)]) + raw


def _package_check(package: Package) -> int:
    if not 1 <= package.package_id <= 255:
        raise EncodeError(f"package_id {package.package_id} is not between 1 and 255")
    if package.level not in layout.LEVELS:
        raise EncodeError(f"level {package.level!r} is not one of AWAS, SIAGA, WASPADA")
    if package.disaster_code not in layout.DISASTERS:
        raise EncodeError(f"disaster code {package.disaster_code:#x} is not a known code 01-0E")
    if package.authority not in layout.AUTHORITIES:
        raise EncodeError(f"authority {package.authority!r} is not BMKG or BNPB")
    if not 1 <= len(package.locations) <= layout.LOCATIONS_PER_PACKAGE:
        raise EncodeError(f"package {package.package_id} has {len(package.locations)} locations; receivers read "
                          f"1 to {layout.LOCATIONS_PER_PACKAGE}")
    if len(layout.encode_text(package.text)) > layout.MESSAGE_CHARS:
        raise EncodeError(f"package {package.package_id}: the message is {len(package.text)} characters; "
                          f"receivers keep {layout.MESSAGE_CHARS}")
    return layout.LEVELS[package.level]


def trdw_body(package: Package | None) -> bytes:
    """A TRDW body; None is the empty TRDW that says "nothing for anyone" (no location to match)."""
    if package is None:
        return struct.pack(">HBBB", 0, 0, 0, 0)
    level = _package_check(package)
    parts = [struct.pack(">HBBB", package.disaster_code, level, package.package_id, len(package.locations))]
    for location in package.locations:
        try:
            code = layout.postcode_to_bcd(location.postcode)
        except ValueError as exc:
            raise EncodeError(str(exc)) from None
        parts.append(code + _short(f"the name of {location.postcode}", location.name))
    return b"".join(parts)


def tcdw_entry(package: Package) -> bytes:
    _package_check(package)
    return (struct.pack(">BBH", package.package_id, layout.AUTHORITIES[package.authority], package.disaster_code)
            + _short("disaster type", package.disaster_type) + _short("position", package.position)
            + _short("date", package.date) + _short("characteristic", package.characteristic))


def tmdw_bodies(package: Package, form: str = "mstar") -> list[bytes]:
    """The TMDW section bodies of a package: MStar, one section {level, package, length 16, text}; MediaTek,
    one section per 255 bytes {level, package, index, length 8, text}; compatible, the one section both read
    (at most 255 bytes)."""
    level = _package_check(package)
    raw = layout.encode_text(package.text)
    if form == "mstar":
        return [struct.pack(">BBH", level, package.package_id, len(raw)) + raw]
    if form in ("mtk", "compatible"):
        parts = [raw[at:at + layout.MTK_ENTRY] for at in range(0, len(raw), layout.MTK_ENTRY)] or [b""]
        if form == "compatible" and len(parts) > 1:
            raise EncodeError(f"package {package.package_id}: {len(raw)} bytes of message; the compatible form "
                              f"carries {layout.MTK_ENTRY}")
        if len(parts) > 255:
            raise EncodeError(f"package {package.package_id}: the message needs {len(parts)} sections")
        return [bytes([level, package.package_id, index, len(part)]) + part for index, part in enumerate(parts)]
    raise EncodeError(f"TMDW form {form!r} is not one of {', '.join(layout.TMDW_FORMS)}")


def tables(packages: Sequence[Package], form: str = "mstar") -> dict[int, list[bytes]]:
    """The bodies of each sub-table (what the versions are about). EncodeError when a receiver could not
    hold them (too many sections or bytes): :func:`plan` never makes such packages."""
    ids = [p.package_id for p in packages]
    if len(set(ids)) != len(ids):
        raise EncodeError(f"two packages share a package_id: {sorted(ids)}")
    trdw = [trdw_body(p) for p in packages] or [trdw_body(None)]
    tcdw: list[bytes] = []
    entries = [tcdw_entry(p) for p in packages]
    room = layout.SECTION_BYTES[layout.TCDW] - layout.HEADER_BYTES - layout.CRC_BYTES - 1
    chunk: list[bytes] = []
    for entry in entries:
        if chunk and (len(chunk) == layout.TCDW_ENTRIES or sum(map(len, chunk)) + len(entry) > room):
            tcdw.append(bytes([len(chunk)]) + b"".join(chunk))
            chunk = []
        chunk.append(entry)
    if chunk:
        tcdw.append(bytes([len(chunk)]) + b"".join(chunk))
    tmdw = [body for p in packages for body in tmdw_bodies(p, form)]
    out = {layout.TRDW: trdw, layout.TCDW: tcdw, layout.TMDW: tmdw}
    for extension, bodies in out.items():
        name = layout.SUBTABLES[extension]
        if len(bodies) > layout.SUBTABLE_SECTIONS:
            raise EncodeError(f"{name}: {len(bodies)} sections; receivers keep {layout.SUBTABLE_SECTIONS}")
        sizes = [len(b) + layout.HEADER_BYTES + layout.CRC_BYTES for b in bodies]
        if max(sizes, default=0) > layout.SECTION_BYTES[extension]:
            raise EncodeError(f"{name}: a section of {max(sizes)} bytes; receivers copy "
                              f"{layout.SECTION_BYTES[extension]}")
        if sum(sizes) > layout.SUBTABLE_BYTES:
            raise EncodeError(f"{name}: {sum(sizes)} bytes of sections; receivers keep {layout.SUBTABLE_BYTES}")
    return out


def section(extension: int, version: int, number: int, last: int, body: bytes) -> bytes:
    """One long-form private section: header, body, CRC-32/MPEG-2."""
    length = 5 + len(body) + layout.CRC_BYTES
    if length > layout.MAX_SECTION_LENGTH:
        raise EncodeError(f"{layout.SUBTABLES.get(extension, hex(extension))} section would be {length + 3} bytes; "
                          f"a private section holds at most {layout.MAX_SECTION_LENGTH + 3}")
    head = struct.pack(">BHHBBB", layout.TABLE_ID, 0xF000 | length, extension,
                       0xC1 | ((version & 0x1F) << 1), number, last)
    data = head + body
    return data + struct.pack(">I", crc32_mpeg2(data))


def encode_tables(bodies: dict[int, list[bytes]], versions: dict[int, int]) -> list[bytes]:
    out: list[bytes] = []
    for extension in (layout.TRDW, layout.TCDW, layout.TMDW):
        parts = bodies.get(extension, [])
        version = versions.get(extension, 0)
        if not 0 <= version <= 31:
            raise EncodeError(f"{layout.SUBTABLES[extension]} version {version} is not between 0 and 31")
        out.extend(section(extension, version, n, len(parts) - 1, body) for n, body in enumerate(parts))
    return out


def encode(packages: Sequence[Package], versions: dict[int, int] | int = 0, form: str = "mstar") -> list[bytes]:
    """The TRDW, TCDW and TMDW sections (in that order) of ``packages``; ``versions`` per sub-table (or one
    number for all three)."""
    if isinstance(versions, int):
        versions = dict.fromkeys(layout.SUBTABLES, versions)
    return encode_tables(tables(packages, form), versions)


def encode_messages(messages: Iterable[Message], versions: dict[int, int] | int = 0,
                    form: str = "mstar") -> list[bytes]:
    return encode(plan(messages, form).packages, versions, form)


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

    @property
    def left(self) -> int:
        return len(self.body) - self.at

    def done(self) -> None:
        if self.at != len(self.body):
            raise SectionError(f"{self.what}: {len(self.body) - self.at} bytes left over")


def _level(code: int, what: str) -> str:
    if code not in layout.LEVEL_NAMES:
        raise SectionError(f"{what}: level code {code} is not AWAS 1, SIAGA 2 or WASPADA 3")
    return layout.LEVEL_NAMES[code]


def parse_trdw(body: bytes) -> dict[str, Any] | None:
    """A TRDW body; None for the empty TRDW (nothing for anyone)."""
    r = _Reader(body, "TRDW")
    disaster, level, package, count = r.short("disaster_code"), r.byte("location_type_code"), \
        r.byte("package_id"), r.byte("number_of_location_code")
    if count == 0 and level == 0:
        r.done()
        return None
    if count > layout.LOCATIONS_PER_PACKAGE:
        raise SectionError(f"TRDW: {count} locations; receivers read {layout.LOCATIONS_PER_PACKAGE}")
    locations = []
    for i in range(count):
        postcode = layout.bcd_to_postcode(r.take(3, f"location_code {i + 1}"))
        if postcode is None:
            raise SectionError(f"TRDW: location_code {i + 1} is not a postcode in packed BCD")
        locations.append(Location(postcode, r.string(f"location name {i + 1}")))
    r.done()
    return {"disaster_code": disaster, "level": _level(level, "TRDW"), "package_id": package,
            "locations": tuple(locations)}


def parse_tcdw(body: bytes) -> list[dict[str, Any]]:
    r = _Reader(body, "TCDW")
    count = r.byte("count")
    if count > layout.TCDW_ENTRIES:
        raise SectionError(f"TCDW: {count} entries; receivers read {layout.TCDW_ENTRIES}")
    entries = []
    for _ in range(count):
        package, authority, disaster = r.byte("package_id"), r.byte("authority"), r.short("disaster_code")
        if authority not in layout.AUTHORITY_NAMES:
            raise SectionError(f"TCDW: authority {authority} is not BMKG 1 or BNPB 2")
        entries.append({"package_id": package, "authority": layout.AUTHORITY_NAMES[authority],
                        "disaster_code": disaster, "disaster_type": r.string("disaster type"),
                        "position": r.string("position"), "date": r.string("date"),
                        "characteristic": r.string("characteristic")})
    r.done()
    return entries


def parse_tmdw(body: bytes, form: str = "mstar") -> dict[str, Any]:
    r = _Reader(body, "TMDW")
    level, package = r.byte("location_type_code"), r.byte("package_id")
    parts = []
    if form == "mtk":  # the index orders parts that arrive in section order anyway
        r.byte("index")
        while r.left:
            parts.append(r.take(r.byte("message length"), "message"))
    else:
        while r.left:
            parts.append(r.take(r.short("message length"), "message"))
    return {"level": _level(level, "TMDW"), "package_id": package, "text": layout.decode_text(b"".join(parts))}


def assemble(trdw: Iterable[dict[str, Any] | None], tcdw: Iterable[list[dict[str, Any]]],
             tmdw: Iterable[dict[str, Any]]) -> list[Package]:
    """Join the three sub-tables by package_id. A package missing from one of them, or whose parts disagree
    (level, disaster), is left out: half a warning is not shown."""
    contents = {e["package_id"]: e for entries in tcdw for e in entries}
    texts: dict[int, list[str]] = {}
    levels: dict[int, str] = {}
    for part in tmdw:
        texts.setdefault(part["package_id"], []).append(part["text"])
        levels[part["package_id"]] = part["level"]
    packages = []
    for region in trdw:
        if region is None:
            continue
        package = region["package_id"]
        content, text = contents.get(package), texts.get(package)
        if content is None or text is None:
            continue
        if content["disaster_code"] != region["disaster_code"] or levels[package] != region["level"]:
            continue
        packages.append(Package(
            package_id=package, level=region["level"], disaster_code=region["disaster_code"],
            authority=content["authority"], locations=region["locations"], disaster_type=content["disaster_type"],
            position=content["position"], date=content["date"], characteristic=content["characteristic"],
            text="".join(text)[:layout.MESSAGE_CHARS]))
    return packages


@dataclass
class Snapshot:
    """Everything on air: the version of each sub-table and the packages they carry together."""

    versions: dict[str, int]
    packages: list[Package] = field(default_factory=list)


class CarouselReader:
    """Sections in (any order, repeated, some corrupt), the complete carousel out.

    Each sub-table is gathered on its own, at its own version; :meth:`feed` returns a :class:`Snapshot` when a
    sub-table completes with new content and the three together describe what is on air (an empty TRDW is
    enough: nothing is). A sub-table whose sections change size starts again. :meth:`forget` drops everything.
    """

    def __init__(self, form: str = "mstar") -> None:
        self.form = "mtk" if form == "mtk" else "mstar"  # the compatible form reads either way
        self.rejected = 0
        self._gathering: dict[int, tuple[int, int, dict[int, bytes]]] = {}  # ext -> (version, last, no. -> body)
        self._current: dict[int, tuple[int, list[bytes]]] = {}  # ext -> (version, bodies)
        self._last_snapshot: Any = None

    def forget(self) -> None:
        self._gathering.clear()
        self._current.clear()
        self._last_snapshot = None

    def _parse(self, extension: int, body: bytes) -> Any:
        if extension == layout.TRDW:
            return parse_trdw(body)
        if extension == layout.TCDW:
            return parse_tcdw(body)
        return parse_tmdw(body, self.form)

    def feed(self, data: bytes) -> Snapshot | None:
        try:
            sec = parse_section(data)
            self._parse(sec.extension, sec.body)
        except SectionError:
            self.rejected += 1
            return None
        version, last, parts = self._gathering.get(sec.extension, (-1, -1, {}))
        if (version, last) != (sec.version, sec.last):
            version, last, parts = sec.version, sec.last, {}
        parts[sec.number] = sec.body
        self._gathering[sec.extension] = (version, last, parts)
        if len(parts) != last + 1:
            return None
        bodies = [parts[n] for n in range(last + 1)]
        if self._current.get(sec.extension) == (version, bodies):
            return None
        self._current[sec.extension] = (version, bodies)
        return self._snapshot()

    def _snapshot(self) -> Snapshot | None:
        trdw = self._current.get(layout.TRDW)
        if trdw is None:
            return None
        regions = [parse_trdw(b) for b in trdw[1]]
        live = [r for r in regions if r is not None]
        tcdw: tuple[int | None, list[bytes]] = self._current.get(layout.TCDW, (None, []))
        tmdw: tuple[int | None, list[bytes]] = self._current.get(layout.TMDW, (None, []))
        if live and (tcdw[0] is None or tmdw[0] is None):
            return None
        packages = assemble(regions, [parse_tcdw(b) for b in tcdw[1]],
                            [parse_tmdw(b, self.form) for b in tmdw[1]]) if live else []
        versions = {"TRDW": trdw[0], **({"TCDW": tcdw[0]} if tcdw[0] is not None else {}),
                    **({"TMDW": tmdw[0]} if tmdw[0] is not None else {})}
        snapshot = Snapshot(versions, packages)
        key = (tuple(sorted(versions.items())), tuple(packages))
        if key == self._last_snapshot:
            return None
        self._last_snapshot = key
        return snapshot

