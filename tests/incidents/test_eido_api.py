"""GET /api/v1/incidents/{id}/eido from the database, with agency visibility."""

from typing import Any

import pytest

from siaga.formats import eido
from siaga.incidents import actions

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
    assert doc["incidentComponent"]["incidentTrackingIdentifier"] == incident.ticket
    assert {a["agencyIdentifier"] for a in doc["agencyComponent"]} == {"urn:siaga112:agency:damkar",
                                                                      "urn:siaga112:agency:polres"}
    assert doc["notesComponent"][0]["notesActionComments"] == "api terlihat dari jalan"
    assert "Jombang" in doc["locationComponent"][0]["locationByValue"]
    ids, refs = eido.references(doc)
    assert refs <= ids
    # an agency sees the incident, but only its own dispatch
    own = client.get(f"/api/v1/incidents/{incident.pk}/eido", **actors["agency"].headers()).json()
    assert [d["dispatchUnitText"] for d in own["dispatchComponent"]] == ["Regu 2"]
    other = actions.do_create_incident(op, category="banjir")[0]
    assert client.get(f"/api/v1/incidents/{other.pk}/eido", **actors["agency"].headers()).status_code == 403
