"""BMKG open-data parser: the real captures, the XML form, the Potensi wording, bad input, fuzzing."""

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siaga.formats import bmkg, feeds
from siaga.formats.errors import FormatError
from siaga.formats.quake import felt_list, same_event, tsunami_potential

RECORDED = Path(__file__).resolve().parents[2] / "src" / "siaga" / "hazards" / "data" / "recorded"


def _read(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def test_autogempa_is_one_quake_with_felt_places() -> None:
    [quake] = bmkg.parse(_read("autogempa_2021-10-05_dompu.json"), "autogempa")
    assert quake.event_id == "bmkg-20211005110027"
    assert quake.time_utc == datetime(2021, 10, 5, 11, 0, 27, tzinfo=UTC)
    assert (quake.lat, quake.lon, quake.magnitude, quake.depth_km) == (-8.15, 118.10, 4.5, 20.0)
    assert quake.tsunami_potential is False and quake.potential_known is True
    assert [(f.place, f.mmi_low, f.mmi_high) for f in quake.felt] == [("Dompu", 2, 2)]
    assert quake.shakemap == "20211005180027.mmi.jpg"
    assert quake.notes == ()


def test_gempaterkini_is_a_list_and_flores_has_tsunami_potential() -> None:
    quakes = bmkg.parse(_read("gempaterkini_2021-12-14_flores_potensi_tsunami.json"), "gempaterkini")
    assert len(quakes) == 15
    flores = [q for q in quakes if q.tsunami_potential]
    assert len(flores) == 4
    assert {q.magnitude for q in flores} == {7.4, 7.5}
    assert all(q.region.endswith("LARANTUKA-NTT") for q in flores)
    # the four rows are one quake (M7.5 at 10:20:22 revised to M7.4 at 10:20:23)
    assert all(same_event(flores[0], q) for q in flores)
    distinct = feeds.distinct([feeds.Reading(q) for q in quakes])
    assert len(distinct) == 12


def test_northern_hemisphere_and_pretty_printed() -> None:
    quakes = bmkg.parse(_read("gempaterkini_2023-07-12.json"))
    aceh = next(q for q in quakes if "BANDAACEH" in q.region)
    assert (aceh.lat, aceh.lon) == (5.38, 94.77)
    assert not any(q.tsunami_potential for q in quakes)


def test_the_xml_form_reads_the_same_as_the_json() -> None:
    for name in ("autogempa_2021-10-05_dompu.json", "gempaterkini_2021-12-14_flores_potensi_tsunami.json",
                 "autogempa_2024-01-10_sumedang.json"):
        from_json = bmkg.parse(_read(name))
        xml = bmkg.to_xml(from_json)
        assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Infogempa>')
        assert b"<point><coordinates>" in xml
        assert bmkg.parse(xml) == from_json
        assert bmkg.parse(bmkg.to_json(from_json)) == from_json


def test_xml_with_point_coordinates_as_bmkg_serves_it() -> None:
    xml = (b"<?xml version='1.0' encoding='UTF-8'?>\n<Infogempa>\n<gempa>\n<Tanggal>10 Jan 2024</Tanggal>"
           b"<Jam>20:17:26 WIB</Jam><DateTime>2024-01-10T13:17:26+00:00</DateTime><point><coordinates>-6.83,107.95"
           b"</coordinates></point><Lintang>6.83 LS</Lintang><Bujur>107.95 BT</Bujur><Magnitude>2.8</Magnitude>"
           b"<Kedalaman>6 km</Kedalaman><Wilayah>Pusat gempa berada di darat 4 Km Timur Laut Kab.Sumedang</Wilayah>"
           b"<Potensi>Gempa ini dirasakan untuk diteruskan pada masyarakat</Potensi><Dirasakan>III Sumedang Utara"
           b"</Dirasakan><Shakemap>20240110201726.mmi.jpg</Shakemap></gempa>\n</Infogempa>")
    [quake] = bmkg.parse(xml)
    assert (quake.lat, quake.lon, quake.magnitude) == (-6.83, 107.95, 2.8)


def test_without_datetime_the_local_date_and_time_are_used() -> None:
    record = json.loads(_read("autogempa_2021-10-05_dompu.json"))
    del record["Infogempa"]["gempa"]["DateTime"]
    [quake] = bmkg.parse(json.dumps(record).encode())
    assert quake.time_utc == datetime(2021, 10, 5, 11, 0, 27, tzinfo=UTC)  # 18:00:27 WIB


def test_disagreeing_lintang_is_noted_not_fatal() -> None:
    record = json.loads(_read("autogempa_2021-10-05_dompu.json"))
    record["Infogempa"]["gempa"]["Lintang"] = "8.15 LU"
    [quake] = bmkg.parse(json.dumps(record).encode())
    assert quake.lat == -8.15
    assert "Lintang" in quake.notes[0]


@pytest.mark.parametrize(("text", "potential", "known"), [
    ("Tidak berpotensi tsunami", False, True),
    ("Gempa ini dirasakan untuk diteruskan pada masyarakat", False, True),
    ("Potensi tsunami untuk diteruskan pada masyarakat", True, True),
    ("Potensi TSUNAMI untuk diteruskan pada masyarakat", True, True),
    ("Berpotensi tsunami", True, True),
    ("BERPOTENSI TSUNAMI.", True, True),
    ("  tidak   BERPOTENSI   Tsunami ", False, True),
    # missing and unknown wordings: not known, so the policy decides from BMKG's tsunami criteria
    ("", False, False),
    ("   ", False, False),
    ("Waspada potensi tsunami susulan", True, False),
    ("Tidak ada potensi tsunami", False, False),
    ("Tidak berpotensi tsunami. Berpotensi tsunami di Selat Sunda", True, False),
    ("Gempa tidak dirasakan", False, False),
])
def test_potensi_wording(text: str, potential: bool, known: bool) -> None:
    assert tsunami_potential(text) == (potential, known)


def test_felt_list_forms() -> None:
    felt = felt_list("II - III Cianjur, II Sukabumi, III-IV Kab. Serang, Jakarta")
    assert [(f.place, f.mmi_low, f.mmi_high) for f in felt] == [
        ("Cianjur", 2, 3), ("Sukabumi", 2, 2), ("Kab. Serang", 3, 4), ("Jakarta", None, None)]
    assert felt_list("-") == ()


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda g: g.pop("Magnitude"), "Magnitude"),
    (lambda g: g.update(Magnitude="besar"), "Magnitude"),
    (lambda g: g.update(Magnitude="12.5"), "Magnitude"),
    (lambda g: g.update(Coordinates="-8.15"), "Coordinates"),
    (lambda g: g.update(Coordinates="-98.15,118.1"), "Coordinates"),
    (lambda g: g.update(DateTime="kemarin"), "DateTime"),
    (lambda g: g.update(DateTime="2021-10-05T11:00:27"), "DateTime"),
    (lambda g: g.update(Kedalaman="dalam"), "Kedalaman"),
    (lambda g: (g.pop("Coordinates"), g.pop("Lintang")), "Coordinates"),
    (lambda g: g.update(Magnitude=["4.5"]), "Magnitude"),
])
def test_bad_fields_are_named(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    record = json.loads(_read("autogempa_2021-10-05_dompu.json"))
    mutate(record["Infogempa"]["gempa"])
    with pytest.raises(FormatError) as caught:
        bmkg.parse(json.dumps(record).encode(), "autogempa")
    assert caught.value.field == field
    assert "autogempa" in str(caught.value)


@pytest.mark.parametrize("data", [b"", b"   ", b"<html><body>502 Bad Gateway</body></html>", b'{"Infogempa": ',
                                  b'{"Infogempa": {}}', b'{"Infogempa": {"gempa": 5}}', b"[1, 2]", b"null",
                                  b"<Infogempa><gempa>", b"\xff\xfe\x00"])
def test_broken_documents(data: bytes) -> None:
    with pytest.raises(FormatError):
        bmkg.parse(data)


@pytest.mark.parametrize("data", [b'{"Infogempa": {"gempa": []}}', b"<Infogempa></Infogempa>", b"<Infogempa/>",
                                  b'<?xml version="1.0" encoding="UTF-8"?>\n<Infogempa>\n</Infogempa>\n'])
def test_an_empty_feed_is_empty_in_both_forms(data: bytes) -> None:
    assert bmkg.parse(data, "gempaterkini") == []
    assert bmkg.parse_each(data, "gempaterkini") == ([], [])


def test_xml_with_a_doctype_is_refused() -> None:
    evil = (b'<?xml version="1.0"?><!DOCTYPE Infogempa [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<Infogempa><gempa><Wilayah>&x;</Wilayah></gempa></Infogempa>")
    with pytest.raises(FormatError, match="DOCTYPE"):
        bmkg.parse(evil)


_record = st.fixed_dictionaries({}, optional={
    "DateTime": st.one_of(st.text(max_size=30), st.just("2024-01-10T13:17:26+00:00")),
    "Coordinates": st.one_of(st.text(max_size=20), st.just("-6.1,105.9")),
    "Magnitude": st.one_of(st.text(max_size=6), st.floats(allow_nan=True), st.integers()),
    "Kedalaman": st.text(max_size=8),
    "Potensi": st.text(max_size=60),
    "Dirasakan": st.text(max_size=60),
    "Tanggal": st.text(max_size=12),
    "Jam": st.text(max_size=14),
    "Lintang": st.text(max_size=10),
    "Bujur": st.text(max_size=10),
})


@settings(max_examples=300, deadline=None)
@given(_record)
def test_fuzz_records_parse_or_fail_cleanly(record: dict) -> None:  # type: ignore[type-arg]
    data = json.dumps({"Infogempa": {"gempa": record}}).encode()
    try:
        quakes = bmkg.parse(data)
    except FormatError as exc:
        assert exc.field
        return
    for quake in quakes:
        assert -90 <= quake.lat <= 90 and -180 <= quake.lon <= 180
        assert 0 <= quake.magnitude <= 10
        assert quake.time_utc.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(FormatError):
        feeds.read(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_fuzz_potensi_never_crashes(text: str) -> None:
    potential, _known = tsunami_potential(text)
    if "tsunami" not in text.lower():
        assert potential is False
