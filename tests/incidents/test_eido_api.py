"""EIDO over the API: GET an incident's document (to NENA's schema), and a partner's POST /api/v1/eido."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from siaga.core.models import AuditLog, Integration
from siaga.formats import eido, eidoschema
from siaga.incidents import actions
from siaga.incidents.models import EidoMapping, Incident
from tests.formats.test_eido import INCIDENT, SCHEMA

pytestmark = pytest.mark.django_db


def test_eido_of_a_dispatched_incident(client: Any, actors: Any) -> None:
    op = actors["operator"].principal
    incident, _ = actions.do_create_incident(op, category="kebakaran", lat=-6.0171, lon=106.0556,
                                             address="Jl. Raya Cilegon", location_accuracy_m=15)
    actions.do_dispatch(op, incident.pk, "damkar", unit_name="Regu 2")
    actions.do_dispatch(op, incident.pk, "polres")
    actions.do_add_note(op, incident.pk, "api terlihat dari jalan")
    response = client.get(f"/api/v1/incidents/{incident.pk}/eido", **actors["wall"].headers())
    assert response.status_code == 200
    doc = response.json()
    assert eidoschema.problems(doc, str(SCHEMA)) == []
    assert doc["$id"] == f"urn:emergency:uid:incidentid:{incident.ticket}:siaga112.cilegon.go.id"
    assert {a["siaga112:code"] for a in doc["agencyComponent"] if "siaga112:code" in a} == {"damkar", "polres"}
    assert doc["notesComponent"][-1]["notesActionComments"] == "api terlihat dari jalan"
    assert "Jombang" in doc["locationComponent"][0]["locationByValue"]
    ids, refs = eido.references(doc)
    assert refs <= ids
    # an agency sees the incident, but only its own dispatch
    own = client.get(f"/api/v1/incidents/{incident.pk}/eido", **actors["agency"].headers()).json()
    assert [r["emergencyResourceName"] for r in own["emergencyResourceComponent"]] == ["Regu 2"]
    other = actions.do_create_incident(op, category="banjir")[0]
    assert client.get(f"/api/v1/incidents/{other.pk}/eido", **actors["agency"].headers()).status_code == 403


@pytest.fixture
def partner(settings: Any, reference: None) -> dict[str, str]:
    settings.EIDO_SCHEMA_DIR = str(SCHEMA)
    integration = Integration.objects.create(name="setda-cc", kind=Integration.Kind.PARTNER)
    return {"HTTP_AUTHORIZATION": f"Bearer {integration.rotate_token()}"}


def post(client: Any, headers: dict[str, str], document: Any) -> Any:
    return client.post("/api/v1/eido", json.dumps(document), content_type="application/json", **headers)


def partner_document(**changes: Any) -> dict[str, Any]:
    return eido.build({**INCIDENT, "dispatches": [], "calls": [], **changes}, issuer="setda.cilegon.go.id")


def test_a_partners_document_creates_an_incident_once_and_its_updates_follow(client: Any, partner: Any,
                                                                            actors: Any) -> None:
    first = post(client, partner, partner_document())
    assert first.status_code == 201, first.json()
    body = first.json()
    incident = Incident.objects.get(pk=body["incident_id"])
    assert (incident.category.code, incident.priority, incident.eido_tracking_id) == (
        "kebakaran", 1, "urn:emergency:uid:incidentid:CLG-2026-000007:setda.cilegon.go.id")
    assert incident.description == "Gudang terbakar <dekat pelabuhan>" and incident.kecamatan.name == "Jombang"
    assert incident.timeline.filter(kind="note", message="asap tebal").exists()
    assert incident.timeline.filter(kind="eido", message__startswith="Diterima dari mitra").exists()
    again = post(client, partner, partner_document())
    assert (again.status_code, again.json()["changes"]) == (200, [])
    assert Incident.objects.count() == 1
    notes = [*INCIDENT["notes"], {"id": 22, "at": "2026-11-28T06:05:00+00:00", "actor": "setda:ops",
                                  "text": "Damkar kedua diminta"}]
    update = post(client, partner, partner_document(notes=notes, dispatches=[
        {"id": 9, "agency": "damkar", "agency_name": "Damkar", "unit": "Regu Setda", "status": "acknowledged",
         "requested_at": "2026-11-28T06:04:00+00:00", "acknowledged_at": "2026-11-28T06:05:00+00:00"}]))
    assert update.status_code == 200
    assert update.json()["changes"] == ["note urn:siaga112:setda.cilegon.go.id:note:22", "dispatch damkar",
                                        "dispatch damkar acknowledged"]
    dispatch = incident.dispatches.get()
    assert (dispatch.agency.code, dispatch.status) == ("damkar", "acknowledged")
    assert AuditLog.objects.filter(action="eido.receive", actor="eido:setda.cilegon.go.id").count() == 2
    assert AuditLog.objects.filter(action="dispatch.create", actor="eido:setda.cilegon.go.id").exists()


def test_unknown_types_and_agencies_map_through_the_admins_table(client: Any, partner: Any) -> None:
    strange = partner_document(category="kebakaran-hutan")
    strange["incidentComponent"]["incidentTypeCommonRegistryText"] = "Wildland Fire"
    strange["agencyComponent"].append({"$id": "rescue.setda", "lastUpdateTimeStamp": "2026-11-28T06:00:00+00:00",
                                       "updatedByAgencyReference": {"$ref": "rescue.setda"},
                                       "agencyRoleDescriptionRegistryText": ["Responding"], "agencyType": ["fire"]})
    first = post(client, partner, strange)
    incident = Incident.objects.get(pk=first.json()["incident_id"])
    assert incident.category.code == "lainnya"
    assert incident.timeline.filter(message__contains="kebakaran-hutan Wildland Fire").exists()
    EidoMapping.objects.create(kind="category", external="kebakaran-hutan", local="kebakaran")
    other = copy.deepcopy(strange)
    other["$id"] = other["$id"].replace("000007", "000008")
    assert Incident.objects.get(pk=post(client, partner, other).json()["incident_id"]).category.code == "kebakaran"


def test_what_is_not_an_eido_is_refused_with_the_path_and_nothing_is_written(client: Any, partner: Any,
                                                                            actors: Any) -> None:
    broken = partner_document()
    del broken["agencyComponent"][0]["agencyType"]
    refused = post(client, partner, broken)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "$.agencyComponent[0]"
    no_incident = partner_document()
    del no_incident["incidentComponent"]
    assert post(client, partner, no_incident).json()["error"]["field"] == "$.incidentComponent"
    assert client.post("/api/v1/eido", "{nope", content_type="application/json", **partner).status_code == 422
    assert Incident.objects.count() == 0
    supervisor = post(client, actors["supervisor"].headers(), partner_document())
    assert supervisor.status_code == 403 and Incident.objects.count() == 0


def test_our_own_incident_handed_back_is_updated_not_duplicated(client: Any, partner: Any, actors: Any) -> None:
    ours, _ = actions.do_create_incident(actors["operator"].principal, category="banjir", lat=-6.0171, lon=106.0556)
    document = client.get(f"/api/v1/incidents/{ours.pk}/eido", **actors["supervisor"].headers()).json()
    document["notesComponent"] = [{"$id": "urn:setda:note:1", "lastUpdateTimeStamp": "2026-11-28T06:05:00+00:00",
                                   "updatedByAgencyReference": {"$ref": "setda.cilegon.go.id"},
                                   "notesActionComments": "BPBD Provinsi sudah dihubungi"}]
    document["incidentComponent"]["notesReference"] = [{"$ref": "urn:setda:note:1"}]
    document["updatedByAgencyReference"] = {"$ref": "setda.cilegon.go.id"}
    document["agencyComponent"].append({"$id": "setda.cilegon.go.id", "lastUpdateTimeStamp": "2026-11-28T06:05:00Z",
                                        "updatedByAgencyReference": {"$ref": "setda.cilegon.go.id"},
                                        "agencyRoleDescriptionRegistryText": ["Coordinating"],
                                        "agencyType": ["other"]})
    answer = post(client, partner, document)
    assert answer.status_code == 200 and answer.json()["incident_id"] == ours.pk
    note = ours.timeline.get(kind="note")
    assert note.message == "BPBD Provinsi sudah dihubungi" and note.data["eido_agency"] == "setda.cilegon.go.id"
    assert Incident.objects.count() == 1
