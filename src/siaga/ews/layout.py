"""The Indonesian DVB-T2 EWS signalling, field by field: what is known, what is inferred, and our conventions.

Known (receiver code published by TV vendors; Permenkominfo 4/2019 for the network identity):

- EWS data travels in MPEG-2 private sections (ISO/IEC 13818-1 section 2.4.4.10), ``table_id`` 0x80, long
  form (section_syntax_indicator 1) with CRC-32/MPEG-2, on a PID of its own, seen on 0x0080.
- Three sub-tables, told apart by ``table_id_extension``: TRDW 0x0001 (the region: which postcodes),
  TCDW 0x0002 (the content: authority, disaster, where and when), TMDW 0x0003 (the message text).
- The network: ``original_network_id`` 0x2168; ``private_data_specifier`` 0x00002168.
- TRDW body: disaster_code 16, location_type_code 8, package_id 8, number_of_location_code 8, then per
  location: location_code 24 (a 5-digit postcode in packed BCD with an F nibble: "42431" -> 42 43 1F),
  location_code_length 8 and that many bytes of the location's name.
- Levels AWAS 1, SIAGA 2, WASPADA 3; disaster codes as in :data:`DISASTERS`.

Inferred (the regulation's annex, Permenkominfo 3/2014, was not obtainable). Each is an assumption that a
real receiver may contradict; they live here and nowhere else:

1. The warning level is carried in ``location_type_code`` (TRDW and TMDW): 1 AWAS, 2 SIAGA, 3 WASPADA.
2. TCDW body: package_id 8, authority 8 (1 BMKG, 2 BNPB), disaster_code 16, then four strings each with an
   8-bit length: disaster type, position, date, characteristic.
3. TMDW body: location_type_code 8, package_id 8, message index 8, message length 16, message bytes.
4. Strings are DVB text (ETSI EN 300 468 annex A): we write the 0x15 selector then UTF-8; we read 0x15 as
   UTF-8 and anything else as Latin-1 (after dropping a selector byte below 0x20).

Siaga112's conventions (ours; a receiver built to the regulation would ignore them harmlessly):

5. Several warnings on air at once: each sub-table has one section per warning (section_number 0..n-1,
   ``package_id`` inside the body links a warning's TRDW, TCDW and TMDW). One ``version_number`` for the
   whole carousel, changed whenever anything on it changes.
6. The end of a warning (a CAP Cancel, an expiry, an Update to "nothing on TV") stays on air for a while as
   level :data:`END` = 0 in ``location_type_code``, so a receiver that shows it clears it.
"""

from __future__ import annotations

TABLE_ID = 0x80
TRDW = 0x0001
TCDW = 0x0002
TMDW = 0x0003
SUBTABLES = {TRDW: "TRDW", TCDW: "TCDW", TMDW: "TMDW"}

DEFAULT_PID = 0x0080
ORIGINAL_NETWORK_ID = 0x2168
PRIVATE_DATA_SPECIFIER = 0x00002168

MAX_SECTION_LENGTH = 4093  # section_length of a private section: the whole section is at most 4096 bytes
HEADER_BYTES = 8  # table_id .. last_section_number
CRC_BYTES = 4
MAX_LOCATIONS = 255
MAX_SHORT_TEXT = 255  # bytes of an 8-bit-length string, selector included
MAX_MESSAGE = 4000  # bytes of the TMDW message, selector included; the section must still fit

# level code <-> name (assumption 1); END is our convention 6
AWAS, SIAGA, WASPADA, END = 1, 2, 3, 0
LEVELS = {"AWAS": AWAS, "SIAGA": SIAGA, "WASPADA": WASPADA}
LEVEL_NAMES = {AWAS: "AWAS", SIAGA: "SIAGA", WASPADA: "WASPADA", END: "END"}

AUTHORITIES = {"BMKG": 0x01, "BNPB": 0x02}
AUTHORITY_NAMES = {v: k for k, v in AUTHORITIES.items()}

# disaster_code -> (Indonesian name, English name)
DISASTERS: dict[int, tuple[str, str]] = {
    0x01: ("Gempa Bumi", "Earthquake"),
    0x02: ("Tsunami", "Tsunami"),
    0x03: ("Letusan Gunung Api", "Volcanic eruption"),
    0x04: ("Gerakan Tanah", "Landslide"),
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

DVB_UTF8 = 0x15


def encode_text(text: str) -> bytes:
    return bytes([DVB_UTF8]) + text.encode("utf-8")


def decode_text(raw: bytes) -> str:
    if not raw:
        return ""
    if raw[0] == DVB_UTF8:
        return raw[1:].decode("utf-8", errors="replace")
    if raw[0] < 0x20:
        raw = raw[1:]
    return raw.decode("latin-1")


def postcode_to_bcd(postcode: str) -> bytes:
    """"42431" -> 42 43 1F: five digits packed two per byte, then an F nibble."""
    if len(postcode) != 5 or not postcode.isascii() or not postcode.isdigit():
        raise ValueError(f"a postcode is five digits, not {postcode!r}")
    return bytes.fromhex(postcode + "F")


def bcd_to_postcode(raw: bytes) -> str | None:
    """The postcode in 3 bytes of packed BCD, or None when they are not five digits and an F nibble."""
    digits = raw.hex().upper()
    if len(digits) != 6 or digits[5] != "F" or not digits[:5].isdigit():
        return None
    return digits[:5]
