"""EIDO documents: components refer only to each other, PIDF-LO is well-formed XML with the position."""

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from siaga.formats import eido

INCIDENT = {
    "id": 7, "ticket": "CLG-2026-000007", "category": "kebakaran", "category_name": "Kebakaran", "priority": 1,
    "priority_label": "P1 Kritis", "status": "dispatched", "created_at": "2026-11-28T06:00:00+00:00",
    "updated_at": "2026-11-28T06:02:00+00:00", "description": "Gudang terbakar <dekat pelabuhan>",
    "lat": -6.0171, "lon": 106.0556, "accuracy_m": 12.0, "address": "Jl. Raya Merak & Jl. Sunan Ampel",
    "kelurahan": "Jombang Wetan", "kecamatan": "Jombang", "postcode": "42411", "province": "Banten",
    "city": "Kota Cilegon", "country": "ID",
    "dispatches": [{"id": 3, "agency": "damkar", "agency_name": "Damkar", "unit": "Regu 1", "status": "en_route",
                    "requested_at": "2026-11-28T06:01:00+00:00", "en_route_at": "2026-11-28T06:02:00+00:00"}],
    "calls": [{"id": 11, "caller": "+6281234567890", "offered_at": "2026-11-28T05:59:30+00:00",
               "answered_at": "2026-11-28T05:59:36+00:00", "ended_at": None}],
    "notes": [{"at": "2026-11-28T06:01:30+00:00", "actor": "user:operator", "text": "asap tebal"}],
}


def test_document_shape_and_references() -> None:
    doc = eido.build(INCIDENT, issuer="siaga112.test")
    inc = doc["incidentComponent"]
    assert inc["incidentTrackingIdentifier"] == "CLG-2026-000007"
    assert inc["incidentTypeCommonRegistryText"] == "Fire" and inc["incidentTypeInternalCode"] == "kebakaran"
    assert inc["incidentStatusCommonRegistryText"] == ["Dispatched"]
    assert doc["dispatchComponent"][0]["dispatchStatusCommonRegistryText"] == "Enroute"
    assert doc["agencyComponent"][0]["agencyName"] == "Damkar"
    assert doc["callComponent"][0]["callbackNumber"] == "+6281234567890"
    ids, refs = eido.references(doc)
    assert refs <= ids and {"inc-CLG-2026-000007", "loc-CLG-2026-000007", "agency-damkar"} <= ids


def test_pidf_lo_carries_position_and_address() -> None:
    xml = eido.build(INCIDENT, issuer="x")["locationComponent"][0]["locationByValue"]
    root = ET.fromstring(xml)
    pos = root.find(".//{http://www.opengis.net/gml}pos")
    radius = root.find(".//{http://www.opengis.net/pidflo/1.0}radius")
    loc = root.find(".//{urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr}LOC")
    pc = root.find(".//{urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr}PC")
    assert pos is not None and pos.text == "-6.017100 106.055600"
    assert radius is not None and radius.text == "12"
    assert loc is not None and loc.text == "Jl. Raya Merak & Jl. Sunan Ampel"
    assert pc is not None and pc.text == "42411"


def test_without_location() -> None:
    doc = eido.build({**INCIDENT, "lat": None, "lon": None, "dispatches": [], "calls": [], "notes": []}, "x")
    root = ET.fromstring(doc["locationComponent"][0]["locationByValue"])
    assert root.find(".//{http://www.opengis.net/gml}pos") is None
    assert doc["dispatchComponent"] == [] and doc["incidentComponent"]["dispatchReference"] == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=200))
def test_any_text_gives_well_formed_xml(address: str, description: str) -> None:
    printable = "".join(ch for ch in address if ch.isprintable())
    doc = eido.build({**INCIDENT, "address": printable, "description": description}, "x")
    root = ET.fromstring(doc["locationComponent"][0]["locationByValue"])
    loc = root.find(".//{urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr}LOC")
    assert (loc.text if loc is not None else "") == printable
