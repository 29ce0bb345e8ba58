"""EIDO documents as NENA's schema defines them (checked against NENA911/EIDO-JSON's openapi.yaml,
bundled in tests/data/eido), and a partner's document read back."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from siaga.formats import eido, eidoschema
from tests.datafiles import EIDO_SCHEMA

SCHEMA = EIDO_SCHEMA
INCIDENT = {
    "id": 7, "ticket": "CLG-2026-000007", "category": "kebakaran", "category_name": "Kebakaran", "priority": 1,
    "priority_label": "P1 Kritis", "status": "dispatched", "created_at": "2026-11-28T06:00:00+00:00",
    "updated_at": "2026-11-28T06:02:00+00:00", "description": "Gudang terbakar <dekat pelabuhan>",
    "lat": -6.0171, "lon": 106.0556, "accuracy_m": 12.0, "address": "Jl. Raya Merak & Jl. Sunan Ampel",
    "kelurahan": "Jombang Wetan", "kecamatan": "Jombang", "postcode": "42411", "province": "Banten",
    "city": "Kota Cilegon", "country": "ID", "reporter_name": "Budi", "callback": "+6281234567890",
    "dispatches": [{"id": 3, "agency": "damkar", "agency_name": "Damkar", "unit": "Regu 1", "status": "en_route",
                    "requested_at": "2026-11-28T06:01:00+00:00", "en_route_at": "2026-11-28T06:02:00+00:00"},
                   {"id": 4, "agency": "polres", "agency_name": "Polres", "unit": "", "status": "declined",
                    "requested_at": "2026-11-28T06:01:00+00:00", "declined_at": "2026-11-28T06:03:00+00:00",
                    "reason": "unit di lokasi lain"}],
    "calls": [{"id": 11, "caller": "+6281234567890", "offered_at": "2026-11-28T05:59:30+00:00",
               "answered_at": "2026-11-28T05:59:36+00:00", "ended_at": None}],
    "notes": [{"id": 21, "at": "2026-11-28T06:01:30+00:00", "actor": "user:operator", "text": "asap tebal"}],
}


def nena_members() -> dict[str, set[str]]:
    """Every member NENA defines, per component list of an EIDO (its allOf parts joined)."""
    schemas = yaml.safe_load((SCHEMA / "openapi.yaml").read_text())["components"]["schemas"]

    def members(name: str) -> set[str]:
        found: set[str] = set()
        for part in schemas[name].get("allOf", [schemas[name]]):
            if "$ref" in part:
                found |= members(part["$ref"].rsplit("/", 1)[-1])
            found |= set(part.get("properties", {}))
        return found

    top = schemas["EmergencyIncidentDataObjectType"]["allOf"][1]["properties"]
    out = {"$": members("EmergencyIncidentDataObjectType")}
    for key, value in top.items():
        ref = value.get("items", value).get("$ref")
        if ref:
            out[key] = members(ref.rsplit("/", 1)[-1])
    return out


def test_our_document_validates_against_nenas_schema_and_defines_nothing_outside_it() -> None:
    document = eido.build(INCIDENT, issuer="siaga112.test")
    assert eidoschema.problems(document, str(SCHEMA)) == []
    allowed = nena_members()
    outside = [f"{name}.{key}" for name, rows in document.items() if name in allowed and name != "$"
               for row in (rows if isinstance(rows, list) else [rows]) for key in row
               if key not in allowed[name] and not key.startswith(eido.EXT)]
    outside += [key for key in document if key not in allowed["$"]]
    assert outside == []  # what NENA has no member for is under our declared extension ("siaga112:...")
    assert document["eidoExtensionId"] == [eido.EXTENSION_ID]
    ids, refs = eido.references(document)
    assert refs <= ids and len(ids) == len(set(ids))


def test_nenas_own_sample_validates_and_a_broken_copy_is_refused_with_the_path() -> None:
    sample = json.loads((SCHEMA / "sample_call_transfer_eido.json").read_text())
    assert eidoschema.problems(sample, str(SCHEMA)) == []
    broken = copy.deepcopy(sample)
    del broken["agencyComponent"][0]["agencyType"]
    broken["callComponent"][0]["direction"] = 5
    assert {path for path, _ in eidoschema.problems(broken, str(SCHEMA))} == {
        "$.agencyComponent[0]", "$.callComponent[0].direction"}


def test_the_document_says_what_the_old_one_did_in_nenas_words() -> None:
    doc = eido.build(INCIDENT, issuer="siaga112.test")
    assert doc["$id"] == "urn:emergency:uid:incidentid:CLG-2026-000007:siaga112.test"
    inc = doc["incidentComponent"]
    assert (inc["incidentTypeCommonRegistryText"], inc["incidentTypeInternalCode"]) == ("Fire", "kebakaran")
    assert inc["incidentStatusCommonRegistryText"] == ["Dispatched"] and inc["incidentCommonPriorityNumber"] == 1
    resources = {r["emergencyResourceName"]: r for r in doc["emergencyResourceComponent"]}
    assert resources["Regu 1"]["primaryUnitStatusRegistryText"] == "Enroute"
    assert resources["Polres"]["siaga112:reason"] == "unit di lokasi lain"
    assert resources["Regu 1"]["siaga112:steps"]["en_route"] == "2026-11-28T06:02:00+00:00"
    agencies = {a["$id"]: a for a in doc["agencyComponent"]}
    assert agencies["damkar.siaga112.test"]["agencyType"] == ["fire"]
    assert agencies["siaga112.test"]["agencyType"] == ["psap"]
    assert doc["callbackComponent"][0]["callBackInformationUri"] == ["tel:+6281234567890"]
    texts = [n["notesActionComments"] for n in doc["notesComponent"]]
    assert texts == ["Gudang terbakar <dekat pelabuhan>", "Pelapor: Budi +6281234567890", "asap tebal"]


def test_a_partners_document_read_back() -> None:
    doc = eido.build(INCIDENT, issuer="setda.cilegon.go.id")
    received = eido.read(doc)
    assert received.tracking_id == "urn:emergency:uid:incidentid:CLG-2026-000007:setda.cilegon.go.id"
    assert (received.type_code, received.type_text, received.status, received.priority) == (
        "kebakaran", "Fire", "dispatched", 1)
    assert (received.lat, received.lon, received.accuracy_m) == (-6.0171, 106.0556, 12.0)
    assert received.address == "Jl. Raya Merak & Jl. Sunan Ampel"
    assert received.description == "Gudang terbakar <dekat pelabuhan>"
    assert [n.text for n in received.notes] == ["asap tebal"]
    assert [(d.agency_code, d.status, d.unit) for d in received.dispatches] == [("damkar", "en_route", "Regu 1"),
                                                                               ("polres", "declined", "Polres")]


@pytest.mark.parametrize(("change", "path"), [
    (lambda d: d.pop("$id"), "$.$id"),
    (lambda d: d.pop("incidentComponent"), "$.incidentComponent"),
    (lambda d: d["incidentComponent"].update(incidentCommonPriorityNumber="1"),
     "$.incidentComponent.incidentCommonPriorityNumber"),
    (lambda d: d["incidentComponent"]["notesReference"].append({"$ref": "nowhere"}), "$"),
    (lambda d: d["locationComponent"][0].update(locationByValue="<presence xmlns='urn:ietf:params:xml:ns:pidf'>"
                                                "<pos xmlns='http://www.opengis.net/gml'>north 5</pos></presence>"),
     "$.locationComponent[0].locationByValue"),
    (lambda d: d.update(eidoVersion="2.0"), "$.eidoVersion"),
])
def test_what_cannot_be_taken_is_named_with_its_path(change: Any, path: str) -> None:
    doc = eido.build(INCIDENT, issuer="x")
    change(doc)
    with pytest.raises(eido.EidoError) as refused:
        eido.read(doc)
    assert refused.value.path == path


def test_pidf_lo_carries_position_and_address() -> None:
    xml = eido.build(INCIDENT, issuer="x")["locationComponent"][0]["locationByValue"]
    root = ET.fromstring(xml)
    pos = root.find(".//{http://www.opengis.net/gml}pos")
    radius = root.find(".//{http://www.opengis.net/pidflo/1.0}radius")
    pc = root.find(".//{urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr}PC")
    assert pos is not None and pos.text == "-6.017100 106.055600"
    assert radius is not None and radius.text == "12" and pc is not None and pc.text == "42411"


def test_without_location_calls_or_dispatches() -> None:
    doc = eido.build({**INCIDENT, "lat": None, "lon": None, "dispatches": [], "calls": [], "notes": [],
                      "description": "", "reporter_name": "", "callback": ""}, "x")
    root = ET.fromstring(doc["locationComponent"][0]["locationByValue"])
    assert root.find(".//{http://www.opengis.net/gml}pos") is None
    assert "dispatchComponent" not in doc and "notesComponent" not in doc
    assert eido.read(doc).lat is None


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=5), max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_property_any_json_is_read_or_refused_with_a_path(document: Any) -> None:
    try:
        eido.read(document)
    except eido.EidoError as exc:
        assert exc.path.startswith("$")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80), st.text(max_size=200))
def test_property_any_text_gives_well_formed_xml_that_reads_back(address: str, description: str) -> None:
    printable = "".join(ch for ch in address if ch.isprintable())
    doc = eido.build({**INCIDENT, "address": printable, "description": description}, "x")
    root = ET.fromstring(doc["locationComponent"][0]["locationByValue"])
    loc = root.find(".//{urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr}LOC")
    assert (loc.text if loc is not None else "") == printable
