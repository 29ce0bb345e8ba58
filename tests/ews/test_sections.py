"""EWS sections as real receivers read them: the layout byte for byte, the packing into packages of five
postcodes, per-sub-table versions, round trips, refusals that name the field, and readers that never turn
corrupt input into a warning."""

import csv
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siaga.ews import layout
from siaga.ews.crc import crc32_mpeg2
from siaga.ews.sections import (
    CarouselReader,
    EncodeError,
    Location,
    Message,
    Package,
    SectionError,
    encode,
    parse_section,
    parse_tcdw,
    parse_tmdw,
    parse_trdw,
    plan,
    tables,
    tcdw_entry,
    tmdw_bodies,
    trdw_body,
)

POSTCODES_CSV = Path(__file__).resolve().parents[2] / "src/siaga/core/data/geo/cilegon_kelurahan_postcodes.csv"
with POSTCODES_CSV.open(encoding="utf-8") as handle:
    CILEGON = sorted({row["postal_code"] for row in csv.DictReader(handle)})

PACKAGE = Package(package_id=7, level="AWAS", disaster_code=0x02, authority="BMKG",
                  locations=(Location("42431", "Pulomerak"), Location("42441", "Ciwandan")),
                  disaster_type="Tsunami", position="6.85 LS 105.22 BT", date="28-11-2026 17:05:00 WIB",
                  characteristic="M7.4, kedalaman 10 km", text="AWAS TSUNAMI: segera evakuasi ke tempat tinggi.")


def city_warning(key: str = "tsunami", level: str = "AWAS", codes: list[str] | None = None, **extra: object) -> Message:
    return Message(key=key, level=level, disaster_code=extra.pop("disaster_code", 0x02),  # type: ignore[arg-type]
                   locations=tuple(Location(c, f"Kel {c}") for c in (codes or CILEGON)),
                   text=str(extra.pop("text", "AWAS TSUNAMI. Segera menjauhi pantai.")), **extra)  # type: ignore[arg-type]


def test_the_city_has_29_postcodes() -> None:
    assert len(CILEGON) == 29 and CILEGON[0] == "42411"


def test_crc32_mpeg2_check_value() -> None:
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # the catalogue's check value for CRC-32/MPEG-2
    assert crc32_mpeg2(b"") == 0xFFFFFFFF


def test_postcodes_are_packed_bcd_with_f_nibbles_and_match_on_five_nibbles() -> None:
    assert layout.postcode_to_bcd("42431") == bytes([0x42, 0x43, 0x1F])
    assert layout.postcode_to_bcd("4243") == bytes([0x42, 0x43, 0xFF])
    assert layout.bcd_to_postcode(bytes([0x42, 0x43, 0x1F])) == "42431"
    assert layout.bcd_to_postcode(bytes([0x42, 0x43, 0xFF])) == "4243"
    assert layout.bcd_to_postcode(bytes([0x4A, 0x43, 0x1F])) is None
    with pytest.raises(ValueError, match="five digits"):
        layout.postcode_to_bcd("424311")
    assert layout.matches(bytes([0x42, 0x43, 0x10]), "42431")  # the sixth nibble is never compared
    assert layout.matches(bytes([0x42, 0x43, 0xFF]), "42439")  # an F matches any digit (MStar)
    assert not layout.matches(bytes([0x42, 0x43, 0xFF]), "42439", wildcards=False)
    assert not layout.matches(bytes([0x42, 0x44, 0x1F]), "42431")


def test_text_on_air_is_printable_ascii() -> None:
    text = "Gempa 6\u00b0C \u2013 \u201csegera\u201d\u2026\nevakuasi \u00e9"
    assert layout.encode_text(text) == b'Gempa 6 derajat C - "segera"... evakuasi e'
    assert layout.decode_text(b"AWAS\x00junk") == "AWAS"


def test_trdw_body_at_the_offsets_mstar_reads() -> None:
    section = encode([PACKAGE], 5)[0]
    assert section[8:10] == b"\x00\x02"  # bytes 8-9 disaster_code
    assert section[10] == 1 and section[11] == 7 and section[12] == 2  # level AWAS, package 7, 2 locations
    assert section[13:17] == bytes([0x42, 0x43, 0x1F, len("Pulomerak")]) and section[17:26] == b"Pulomerak"
    assert parse_trdw(trdw_body(PACKAGE)) == {"disaster_code": 2, "level": "AWAS", "package_id": 7,
                                              "locations": PACKAGE.locations}


def test_tcdw_starts_with_the_count_of_entries() -> None:
    section = next(s for s in encode([PACKAGE, Package(**{**PACKAGE.__dict__, "package_id": 8})], 0)
                   if s[4] == layout.TCDW)
    assert section[8] == 2  # byte 8: the count
    assert section[9:13] == bytes([7, 0x01, 0x00, 0x02])  # package, authority BMKG, disaster 0002
    assert section[13] == len("Tsunami") and section[14:21] == b"Tsunami"
    entries = parse_tcdw(section[8:-4])
    assert [e["package_id"] for e in entries] == [7, 8] and entries[0]["characteristic"] == "M7.4, kedalaman 10 km"
    assert tcdw_entry(PACKAGE)[3] == 0x02  # the low byte, which MStar compares, is the code


def test_tmdw_in_the_mstar_form_the_mediatek_form_and_the_form_both_read() -> None:
    text = PACKAGE.text.encode()
    [mstar] = tmdw_bodies(PACKAGE, "mstar")
    assert mstar[:2] == bytes([1, 7]) and struct.unpack(">H", mstar[2:4])[0] == len(text) and mstar[4:] == text
    long = Package(**{**PACKAGE.__dict__, "text": "x" * 600})
    [big] = tmdw_bodies(long, "mstar")
    assert struct.unpack(">H", big[2:4])[0] == 600
    mtk = tmdw_bodies(long, "mtk")
    assert [part[:4] for part in mtk] == [bytes([1, 7, 0, 255]), bytes([1, 7, 1, 255]), bytes([1, 7, 2, 90])]
    assert "".join(parse_tmdw(part, "mtk")["text"] for part in mtk) == "x" * 600
    assert parse_tmdw(mstar, "mstar")["text"] == PACKAGE.text
    # one entry below 256 bytes is the same bytes in both forms: what "compatible" sends
    assert tmdw_bodies(PACKAGE, "compatible") == [mstar] == tmdw_bodies(PACKAGE, "mtk")
    assert parse_tmdw(mstar, "mtk")["text"] == PACKAGE.text
    with pytest.raises(EncodeError, match="compatible form carries 255"):
        tmdw_bodies(long, "compatible")


def test_each_sub_table_has_its_own_version() -> None:
    out = encode([PACKAGE], {layout.TRDW: 3, layout.TCDW: 9, layout.TMDW: 30})
    assert [((s[3] << 8 | s[4]), (s[5] >> 1) & 0x1F) for s in out] == [(1, 3), (2, 9), (3, 30)]
    for data in out:
        assert data[0] == 0x80 and data[1] & 0x80 and data[5] & 1 and crc32_mpeg2(data) == 0
        assert (data[1] & 0x0F) << 8 | data[2] == len(data) - 3


def test_a_city_wide_warning_is_six_packages_of_at_most_five_postcodes() -> None:
    planned = plan([city_warning()])
    assert [len(p.locations) for p in planned.packages] == [5, 5, 5, 5, 5, 4]
    assert sorted(c for p in planned.packages for c in p.postcodes) == CILEGON
    assert [p.package_id for p in planned.packages] == [1, 2, 3, 4, 5, 6]
    assert {p.text for p in planned.packages} == {"AWAS TSUNAMI. Segera menjauhi pantai."}
    sections = encode(planned.packages, 0)
    trdw = [s for s in sections if s[4] == layout.TRDW]
    assert len(trdw) == 6 and all(s[12] <= 5 for s in trdw)
    assert [s[6] for s in trdw] == list(range(6)) and {s[7] for s in trdw} == {5}


def test_each_postcode_goes_to_the_strongest_warning_in_force_there_and_strongest_last() -> None:
    quake = city_warning("quake", "WASPADA", disaster_code=0x01, text="Gempa dirasakan.", order=1)
    tsunami = city_warning("tsunami", "AWAS", codes=CILEGON[:12], order=2)
    planned = plan([tsunami, quake])
    owner = {code: p.key for p in planned.packages for code in p.postcodes}
    assert len(owner) == 29 and sum(len(p.postcodes) for p in planned.packages) == 29  # each postcode once
    assert all(owner[c] == "tsunami" for c in CILEGON[:12]) and all(owner[c] == "quake" for c in CILEGON[12:])
    levels = [p.level for p in planned.packages]
    assert levels == sorted(levels, key=layout.SEVERITY.__getitem__)  # weakest first: the last match is the strongest
    # two warnings of one level: the tsunami before anything else, then the one that came first
    fire = city_warning("fire", "AWAS", disaster_code=0x09, codes=CILEGON[:3], order=0)
    owner = {code: p.key for p in plan([fire, tsunami]).packages for code in p.postcodes}
    assert owner[CILEGON[0]] == "tsunami"


def test_a_whole_province_fits_in_prefixes_with_a_note() -> None:
    province = [f"{prefix}{n:03d}" for prefix in ("42", "15") for n in range(100, 600, 2)]  # 500 postcodes
    planned = plan([city_warning("banten", codes=province)])
    assert len(planned.packages) <= layout.SUBTABLE_SECTIONS
    codes = [c for p in planned.packages for c in p.postcodes]
    assert all(any(layout.matches(layout.postcode_to_bcd(c), p) for c in codes) for p in province)
    assert any("prefixes" in note for note in planned.notes)
    tables(planned.packages)  # fits the receivers' buffers


def test_long_texts_are_cut_at_a_word_to_fit_the_tmdw_buffer() -> None:
    planned = plan([city_warning(text="Segera evakuasi ke tempat tinggi. " * 400)])
    text = planned.packages[0].text
    assert text.endswith("...") and len(text) < 8192 // 6 and any("shortened" in n for n in planned.notes)
    sizes = [len(s) for s in encode(planned.packages, 0) if s[4] == layout.TMDW]
    assert sum(sizes) <= layout.SUBTABLE_BYTES
    one = plan([city_warning(codes=CILEGON[:3], text="kata " * 2000)]).packages[0].text
    assert len(one) <= layout.MESSAGE_CHARS


def test_nothing_on_air_is_an_empty_trdw() -> None:
    sections = encode([], 4)
    assert len(sections) == 1 and sections[0][4] == layout.TRDW and sections[0][8:-4] == b"\x00\x00\x00\x00\x00"
    reader = CarouselReader()
    snapshot = reader.feed(sections[0])
    assert snapshot is not None and snapshot.packages == [] and snapshot.versions == {"TRDW": 4}


def test_round_trip_of_every_field_and_several_packages() -> None:
    other = Package(package_id=9, level="WASPADA", disaster_code=0x01, authority="BNPB",
                    locations=(Location("42417", "Cilegon"),), text="Gempa dirasakan. Tetap tenang.")
    for form in layout.TMDW_FORMS:
        reader = CarouselReader(form)
        snapshots = [s for s in (reader.feed(x) for x in encode([PACKAGE, other], 3, form)) if s is not None]
        assert len(snapshots) == 1
        assert snapshots[0].versions == {"TRDW": 3, "TCDW": 3, "TMDW": 3}
        assert snapshots[0].packages == [PACKAGE, other]


def test_order_repeats_corrupt_sections_and_a_text_only_change() -> None:
    sections = encode([PACKAGE], 4)
    reader = CarouselReader()
    broken = bytearray(sections[2])
    broken[12] ^= 0xFF
    assert reader.feed(bytes(broken)) is None and reader.rejected == 1
    assert reader.feed(sections[2]) is None and reader.feed(sections[0]) is None
    snapshot = reader.feed(sections[1])
    assert snapshot is not None and snapshot.packages == [PACKAGE]
    assert all(reader.feed(s) is None for s in sections)  # repeats add nothing
    changed = encode([Package(**{**PACKAGE.__dict__, "text": "Peringatan diperbarui."})],
                     {layout.TRDW: 4, layout.TCDW: 4, layout.TMDW: 5})
    assert changed[0] == sections[0]  # the TRDW is byte for byte the same
    results = [reader.feed(s) for s in changed]
    assert results[-1] is not None and results[-1].packages[0].text == "Peringatan diperbarui."


def test_half_a_warning_is_not_a_warning() -> None:
    trdw, tcdw, _tmdw = encode([PACKAGE], 1)
    other_tmdw = encode([Package(**{**PACKAGE.__dict__, "package_id": 8})], 1)[2]
    reader = CarouselReader()
    for data in (trdw, tcdw, other_tmdw):
        snapshot = reader.feed(data)
    assert snapshot is not None and snapshot.packages == []


@pytest.mark.parametrize(("change", "words"), [
    ({"locations": (Location("4243X"),)}, "five digits"),
    ({"locations": ()}, "at least one postcode"),
    ({"level": "BAHAYA"}, "level 'BAHAYA'"),
    ({"level": "END"}, "level 'END'"),
    ({"authority": "BPBD"}, "authority 'BPBD'"),
    ({"disaster_code": 0x0100}, "not a known code"),
])
def test_planning_refuses_what_is_wrong_and_names_it(change: dict, words: str) -> None:
    with pytest.raises(EncodeError, match=words):
        plan([Message(**{**city_warning(codes=["42431"]).__dict__, **change})])


def test_two_warnings_cannot_share_a_key_nor_two_packages_an_id() -> None:
    with pytest.raises(EncodeError, match="share a key"):
        plan([city_warning(), city_warning()])
    with pytest.raises(EncodeError, match="share a package_id"):
        encode([PACKAGE, PACKAGE], 0)
    with pytest.raises(EncodeError, match="6 locations"):
        encode([Package(**{**PACKAGE.__dict__, "locations": tuple(Location(c) for c in CILEGON[:6])})], 0)
    with pytest.raises(EncodeError, match="TMDW form"):
        plan([], form="lg")


def test_parse_section_names_the_problem() -> None:
    good = encode([PACKAGE], 0)[0]
    with pytest.raises(SectionError, match="table_id 0x42"):
        parse_section(b"\x42" + good[1:])
    with pytest.raises(SectionError, match="CRC"):
        parse_section(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(SectionError, match="section_length"):
        parse_section(good[:-2])
    with pytest.raises(SectionError, match="too short"):
        parse_section(good[:5])


texts = st.text(max_size=300)
warnings = st.builds(
    Message, key=st.uuids().map(str), level=st.sampled_from(["AWAS", "SIAGA", "WASPADA"]),
    disaster_code=st.sampled_from(sorted(layout.DISASTERS)), authority=st.sampled_from(["BMKG", "BNPB"]),
    locations=st.lists(st.builds(Location, st.sampled_from([*CILEGON, "42111", "15111", "42455"]),
                                 st.text(max_size=80)), min_size=1, max_size=12).map(tuple),
    disaster_type=texts, position=texts, date=texts, characteristic=texts, text=st.text(max_size=4000),
    order=st.integers(0, 1000))


@given(st.lists(warnings, min_size=0, max_size=12, unique_by=lambda m: m.key), st.sampled_from(layout.TMDW_FORMS))
@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_property_any_set_of_warnings_fits_and_every_postcode_gets_its_strongest(batch: list[Message],
                                                                                form: str) -> None:
    planned = plan(batch, form)
    bodies = tables(planned.packages, form)  # never too big for a receiver
    assert all(len(v) <= layout.SUBTABLE_SECTIONS for v in bodies.values())
    owner: dict[str, list[Package]] = {}
    for package in planned.packages:
        assert 1 <= len(package.locations) <= layout.LOCATIONS_PER_PACKAGE
        for code in package.postcodes:
            owner.setdefault(code, []).append(package)
    for code in {c for m in batch for c in m.postcodes}:
        assert len(owner[code]) == 1  # one package per postcode
        strongest = max(layout.SEVERITY[m.level] for m in batch if code in m.postcodes)
        assert layout.SEVERITY[owner[code][0].level] == strongest
    reader = CarouselReader(form)
    out = [s for s in (reader.feed(x) for x in encode(planned.packages, 1, form)) if s is not None]
    assert out[-1].packages == [Package(**{**p.__dict__, "key": ""}) for p in planned.packages]


@given(st.binary(max_size=600))
@settings(max_examples=400)
def test_fuzz_random_bytes_are_never_a_warning(data: bytes) -> None:
    reader = CarouselReader()
    assert reader.feed(data) is None
    assert reader.feed(b"\x80" + data) is None


@given(st.integers(0, 2), st.integers(0, 400), st.integers(1, 255), st.booleans())
@settings(max_examples=400)
def test_fuzz_mutated_sections(which: int, position: int, xor: int, fix_crc: bool) -> None:
    """A flipped byte is caught by the CRC; with the CRC recomputed (a bug upstream, not noise) the reader
    still either rejects the section or reads what it says, and never crashes."""
    sections = encode([PACKAGE], 2)
    data = bytearray(sections[which])
    position %= len(data) - 4
    data[position] ^= xor
    if fix_crc:
        data[-4:] = struct.pack(">I", crc32_mpeg2(bytes(data[:-4])))
    reader = CarouselReader()
    results = [reader.feed(bytes(data) if n == which else s) for n, s in enumerate(sections)]
    if not fix_crc:
        assert all(r is None for r in results) and reader.rejected == 1
    for result in results:
        if result is not None:
            for package in result.packages:
                assert package.level in layout.LEVELS
