"""InaTEWS tsunami warnings: the real Mentawai PD-1, the XML form, the drill phases, bad input, fuzzing."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siaga.formats import feeds, inatews, usgs
from siaga.formats.errors import FormatError

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "src" / "siaga" / "hazards" / "data" / "recorded"
SCENARIOS = ROOT / "src" / "siaga" / "hazards" / "data" / "scenarios"
MENTAWAI = RECORDED / "inatews_warning_2023-04-25_mentawai_PD1_original.json"


def test_mentawai_pd1() -> None:
    warning = inatews.parse(MENTAWAI.read_bytes())
    assert warning.identifier == "Indonesia-InaTEWS-20230425030533"
    assert warning.sent_utc == datetime(2023, 4, 24, 20, 5, 33, tzinfo=UTC)  # 03:05:33 WIB
    assert warning.phase == 1 and not warning.ended
    quake = warning.quake
    assert (quake.lat, quake.lon) == (-0.93, 98.39)  # point coordinates are "lon,lat"
    assert (quake.magnitude, quake.depth_km) == (7.3, 84.0)
    assert quake.time_utc == datetime(2023, 4, 24, 20, 0, 57, tzinfo=UTC)
    assert quake.tsunami_potential and quake.potential_known
    # BMKG repeated the one zone; it is kept once
    assert [(z.province, z.district, z.level) for z in warning.zones] == [
        ("SUMUT", "NIAS-SELATAN PULAU TANABALA", "WASPADA")]
    assert warning.zones[0].time_utc == datetime(2023, 4, 24, 20, 9, 54, tzinfo=UTC)
    assert warning.max_level() == "WASPADA"
    assert len(warning.instructions) == 3


def _to_xml(document: dict) -> bytes:  # type: ignore[type-arg]
    from xml.sax.saxutils import escape

    parts = ["<?xml version='1.0' encoding='UTF-8'?>", "<alert>"]
    for key, value in document.items():
        if key != "info":
            parts.append(f"<{key}>{escape(value)}</{key}>")
    parts.append("<info>")
    for key, value in document["info"].items():
        if key == "point":
            parts.append(f"<point><coordinates>{value['coordinates']}</coordinates></point>")
        elif key == "wzarea":
            for zone in value:
                parts.append("<wzarea>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in zone.items()) + "</wzarea>")
        else:
            parts.append(f"<{key}>{escape(value)}</{key}>")
    parts.append("</info></alert>")
    return "".join(parts).encode()


def test_the_xml_form_reads_the_same() -> None:
    document = json.loads(MENTAWAI.read_bytes())
    assert inatews.parse(_to_xml(document)) == inatews.parse(MENTAWAI.read_bytes())
    assert feeds.kind_of(_to_xml(document)) == "inatews"


def test_drill_phases() -> None:
    pd1 = inatews.parse((SCENARIOS / "inatews_drill_selat_sunda_PD1.json").read_bytes())
    pd2 = inatews.parse((SCENARIOS / "inatews_drill_selat_sunda_PD2.json").read_bytes())
    pd4 = inatews.parse((SCENARIOS / "inatews_drill_selat_sunda_PD4.json").read_bytes())
    assert (pd1.phase, pd2.phase, pd4.phase) == (1, 2, 4)
    assert pd4.ended and not pd1.ended
    assert pd1.quake.event_id == pd2.quake.event_id == pd4.quake.event_id
    assert pd2.quake.magnitude == 7.2 and pd1.max_level() == "AWAS"


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d.pop("info"), "info"),
    (lambda d: d["info"].pop("point"), "info.point.coordinates"),
    (lambda d: d["info"].update(point={"coordinates": "98.39"}), "info.point.coordinates"),
    (lambda d: d.update(sent="2023-04-25 kemarin WIB"), "sent"),
    (lambda d: d["info"].update(magnitude="M"), "info.magnitude"),
    (lambda d: d["info"].update(date="32-13-23"), "info.date"),
])
def test_bad_fields_are_named(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(MENTAWAI.read_bytes())
    mutate(document)
    with pytest.raises(FormatError) as caught:
        inatews.parse(json.dumps(document).encode())
    assert caught.value.field == field


def test_an_unreadable_zone_never_drops_the_warning() -> None:
    """When in doubt, warn: a zone's unknown level is read as AWAS, a zone naming no place is left out, a
    wzarea that is not a list leaves no zone; the warning stays a tsunami warning and says what it did."""
    document = json.loads(MENTAWAI.read_bytes())
    zones = document["info"]["wzarea"]
    zones[0]["level"] = "BAHAYA"
    zones.append({"level": "SIAGA"})
    zones.append("SUMUT")
    warning = inatews.parse(json.dumps(document).encode())
    assert warning.zones[0].level == "AWAS" and len(warning.zones) == 2  # the two of the capture
    assert [p.split(": ", 1)[1] for p in warning.problems] == [
        "level 'BAHAYA' is not WASPADA, SIAGA or AWAS: read as AWAS",
        "names neither a province nor a district; left out", "not an object; left out"]
    document["info"]["wzarea"] = "SUMUT"
    document["info"]["potential"] = ""
    unreadable = inatews.parse(json.dumps(document).encode())
    assert unreadable.zones == () and unreadable.quake.tsunami_potential and "no zone could be read" in \
        unreadable.problems[0]


def test_usgs_feature_collection() -> None:
    document = {"type": "FeatureCollection", "metadata": {}, "features": [{
        "type": "Feature", "id": "us7000abcd",
        "properties": {"mag": 6.1, "place": "Sunda Strait, Indonesia", "time": 1763000000000,
                       "updated": 1763000100000, "tsunami": 1},
        "geometry": {"type": "Point", "coordinates": [105.4, -6.4, 35.2]}}]}
    [quake] = usgs.parse(json.dumps(document))
    assert quake.event_id == "usgs-us7000abcd"
    assert (quake.lat, quake.lon, quake.depth_km, quake.magnitude) == (-6.4, 105.4, 35.2, 6.1)
    assert quake.tsunami_potential is False and "tsunami flag" in quake.notes[0]
    assert feeds.kind_of(json.dumps(document).encode()) == "usgs"
    document["features"][0]["properties"]["mag"] = "besar"
    with pytest.raises(FormatError) as caught:
        usgs.parse(json.dumps(document))
    assert caught.value.field == "properties.mag"


_zone = st.fixed_dictionaries({}, optional={"province": st.text(max_size=10), "district": st.text(max_size=10),
                                            "level": st.sampled_from(["WASPADA", "SIAGA", "AWAS", "x", ""]),
                                            "date": st.text(max_size=12), "time": st.text(max_size=12)})
_info = st.fixed_dictionaries({}, optional={
    "date": st.one_of(st.just("25-04-23"), st.text(max_size=10)),
    "time": st.one_of(st.just("03:00:57 WIB"), st.text(max_size=14)),
    "point": st.one_of(st.just({"coordinates": "98.39,-0.93"}), st.dictionaries(st.text(max_size=5),
                                                                                 st.text(max_size=10))),
    "magnitude": st.one_of(st.just("7.3"), st.text(max_size=5)),
    "depth": st.text(max_size=8),
    "potential": st.text(max_size=40),
    "subject": st.text(max_size=30),
    "wzarea": st.one_of(st.lists(_zone, max_size=3), st.text(max_size=5)),
})


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({"info": _info}, optional={"identifier": st.text(max_size=20),
                                                        "sent": st.text(max_size=25)}))
def test_fuzz_warnings_parse_or_fail_cleanly(document: dict) -> None:  # type: ignore[type-arg]
    try:
        warning = inatews.parse(json.dumps(document).encode())
    except FormatError as exc:
        assert exc.field
        return
    assert all(z.level in inatews.LEVELS for z in warning.zones)
    if warning.zones:
        assert warning.quake.tsunami_potential  # zones are tsunami potential
