"""The Indonesian DVB-T2 EWS signalling as real set-top boxes read it, field by field.

The regulation's annex (Permenkominfo 3/2014) is not public. What follows is what published receiver code
parses and does (docs/decisions/0013-ews-on-air.md lists the sources with file, function and offset):
the MStar Chakra3 SDK (headers ``mapp_si.h`` / ``mapp_demux.h``, ``MApp_EWS.c``, ``MApp_IR.c`` and the
disassembly of ``libdvbsi_arm.a``: ``_MApp_Dmx_EWS_Monitor_Parse_DVB``, ``MApp_Dmx_EWS_TRDW_Cb`` /
``TCDW_Cb`` / ``TMDW_Cb``, ``MApp_Dmx_Retrieve_EWS``), MediaTek's ``u_dvb_si_eng.h`` (DVB_SI_TRDW_HEAD_T,
DVB_SI_TMDW_HEAD_T, DVB_SI_TMDW_MSG_INFO_T) and Samsung's ``EWBSDataType.h`` (disaster codes, levels).
Every number a receiver depends on lives here.

Sections: MPEG-2 private sections, ``table_id`` 0x80, long form, CRC-32/MPEG-2, on PID 0x0080 (MStar's
``PID_EWS``; it does not follow the PMT, and tries PID 0x038F when 0x0080 stays silent for 30 s). A box
watches only when the PAT lists ``program_number`` 0x038F (or a PID 0x038F). Three sub-tables, told apart
by ``table_id_extension``; each has its own ``version_number``, and a box collects all sections of one
(``section_number`` 0-31: a 32-bit bitmap; at most 8,192 bytes of sections kept per sub-table; a TRDW section
is copied into a 1,024-byte buffer, TCDW and TMDW sections into 4,096) before it parses them in
``section_number`` order. Body = what follows the 8-byte header:

TRDW (1, who): disaster_code 16, location_type_code 8 (the level: AWAS 1, SIAGA 2, WASPADA 3), package_id 8,
    number_of_location_code 8 (more than 5 is read as 5), then per location: location_code 24 (the postcode
    in packed BCD plus an F nibble: "42431" -> 42 43 1F), length 8 and the location's name. The box compares
    the first five nibbles with its postcode (a nibble above 9 matches any digit on MStar) and keeps the LAST
    match: its level, package and disaster code.
TCDW (2, what): count 8 (more than 15 is read as 15), then per entry: package_id 8, authority 8 (BMKG 1,
    BNPB 2), disaster_code 16 (MStar compares only its low byte, which must not be 0, with the TRDW's), and
    four strings with an 8-bit length each: disaster type, position, date, characteristic.
TMDW (3, the message): location_type_code 8 (not 0, equal to the TRDW's), package_id 8 (equal to the
    TRDW's), then, in the MStar form, entries of {length 16, text} to the end of the section, appended across
    sections in section_number order up to 3,200 characters; in the MediaTek form an index 8 follows the
    package_id and entries are {length 8, text}. A head-end must know which form its viewers' boxes read
    (``SIAGA_EWS_TMDW_FORM``); a form of index 8 + length 16 matches neither. One entry of at most 255
    bytes is the same bytes in both forms (index 0 is the high byte of a 16-bit length below 256): the
    ``compatible`` form sends only that, for a head-end that cannot tell, at the cost of a short message.

A new TRDW version makes a box leave the warning at once and rebuild it from the new tables: that is how a
warning ends (there is no end level), and why the TRDW's version changes only when the TRDW does. Sections
that stop arriving clear nothing. Text is shown byte for byte as characters (no DVB character-table
selector is read), so we send printable ASCII.

Siaga112's own rules on top of these facts (:mod:`siaga.ews.sections`): packages of at most 5 exact
postcodes, one package per postcode (the strongest warning in force there), packages ordered weakest first so
that even a box that finds its postcode twice keeps the strongest, and the receiver's buffers respected.
"""

from __future__ import annotations

import unicodedata

TABLE_ID = 0x80
TRDW = 0x0001
TCDW = 0x0002
TMDW = 0x0003
SUBTABLES = {TRDW: "TRDW", TCDW: "TCDW", TMDW: "TMDW"}

PID = 0x0080  # MStar PID_EWS: the only PID a box reads first (the PMT is not followed)
ALTERNATE_PID = 0x038F  # tried by MStar when PID 0x0080 is silent
PIDS = (PID, ALTERNATE_PID)
PROGRAM_NUMBER = 0x038F  # the PAT must list it (or a PID 0x038F) or the box never watches
ORIGINAL_NETWORK_ID = 0x2168
PRIVATE_DATA_SPECIFIER = 0x00002168

HEADER_BYTES = 8  # table_id .. last_section_number
CRC_BYTES = 4
MAX_SECTION_LENGTH = 4093  # section_length of a private section: a section is at most 4,096 bytes
SECTION_BYTES = {TRDW: 1024, TCDW: 4096, TMDW: 4096}  # what MStar copies of one section
SUBTABLE_BYTES = 8192  # MStar keeps at most this many bytes of sections per sub-table
SUBTABLE_SECTIONS = 32  # section numbers 0-31 (MStar's bitmap)
LOCATIONS_PER_PACKAGE = 5  # MStar reads at most 5 locations of a TRDW section
TCDW_ENTRIES = 15  # MStar reads at most 15 entries of a TCDW section
MESSAGE_CHARS = 3200  # MStar's message buffer (3,201 bytes with the terminating NUL)
SHORT_TEXT = 255  # bytes of an 8-bit-length string
MTK_ENTRY = 255  # bytes of one MediaTek TMDW entry (8-bit length); one entry per section, indexed
TMDW_FORMS = ("mstar", "mtk", "compatible")  # what a head-end may send
READ_FORMS = ("mstar", "mtk")  # what a box reads

AWAS, SIAGA, WASPADA = 1, 2, 3
LEVELS = {"AWAS": AWAS, "SIAGA": SIAGA, "WASPADA": WASPADA}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
SEVERITY = {"AWAS": 3, "SIAGA": 2, "WASPADA": 1}  # higher is stronger

AUTHORITIES = {"BMKG": 0x01, "BNPB": 0x02}
AUTHORITY_NAMES = {v: k for k, v in AUTHORITIES.items()}

# disaster_code -> (Indonesian name, English name); all below 0x100, as MStar's TCDW check needs
DISASTERS: dict[int, tuple[str, str]] = {
    0x01: ("Gempa Bumi", "Earthquake"),
    0x02: ("Tsunami", "Tsunami"),
    0x03: ("Letusan Gunung Api", "Volcanic eruption"),
    0x04: ("Gerakan Tanah", "Ground movement"),
    0x05: ("Banjir", "Flood"),
    0x06: ("Kekeringan", "Drought"),
    0x07: ("Kebakaran Hutan dan Lahan", "Land and forest fire"),
    0x08: ("Erosi", "Erosion"),
    0x09: ("Kebakaran Gedung dan Permukiman", "Building fire"),
    0x0A: ("Gelombang Ekstrem dan Abrasi", "Extreme waves and abrasion"),
    0x0B: ("Cuaca Ekstrem", "Extreme weather"),
    0x0C: ("Kegagalan Teknologi", "Technology failure"),
    0x0D: ("Epidemi dan Wabah Penyakit", "Epidemic"),
    0x0E: ("Konflik Sosial", "Social conflict"),
}

_ASCII = {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
          "\u2026": "...", "\u00b0": " derajat ", "\u00d7": "x", "\u00a0": " ", "\u2022": "-"}


def ascii_text(text: str) -> str:
    """What a box can show of ``text``: printable ASCII (accents dropped, typographic signs spelled out,
    anything else ``?``; line breaks become spaces)."""
    out = []
    for char in text:
        if char in _ASCII:
            out.append(_ASCII[char])
            continue
        if char in "\r\n\t":
            out.append(" ")
            continue
        if " " <= char <= "~":
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        out.append("".join(c for c in plain if " " <= c <= "~") or "?")
    return "".join(out)


def encode_text(text: str) -> bytes:
    return ascii_text(text).encode("ascii")


def decode_text(raw: bytes) -> str:
    """As a box shows it: one byte, one character (up to the first NUL, as its C strings end)."""
    return raw.split(b"\x00", 1)[0].decode("latin-1")


def postcode_to_bcd(postcode: str) -> bytes:
    """"42431" -> 42 43 1F: five digits packed two per byte, then an F nibble. A prefix such as "4243" (every
    postcode 42430-42439) is "4243F" + F: F nibbles match any digit on MStar boxes (only there)."""
    if not 1 <= len(postcode) <= 5 or not postcode.isascii() or not postcode.isdigit():
        raise ValueError(f"a postcode is five digits, not {postcode!r}")
    return bytes.fromhex(postcode.ljust(6, "F"))


def bcd_to_postcode(raw: bytes) -> str | None:
    """The postcode (or prefix) in 3 bytes of packed BCD, or None when they are not digits then F nibbles."""
    digits = raw.hex().upper()
    code = digits.rstrip("F")
    if len(digits) != 6 or not code or not code.isdigit() or len(code) > 5:
        return None
    return code


def matches(code: bytes, postcode: str, *, wildcards: bool = True) -> bool:
    """Does a location_code match a box's stored postcode? The first five nibbles are compared, the sixth
    never; a nibble above 9 matches any digit when ``wildcards`` (MStar)."""
    if len(code) != 3 or len(postcode) != 5:
        return False
    nibbles = code.hex()[:5]
    for nibble, digit in zip(nibbles, postcode, strict=True):
        if int(nibble, 16) > 9:
            if not wildcards:
                return False
            continue
        if nibble != digit:
            return False
    return True
