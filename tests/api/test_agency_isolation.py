"""An agency sees and updates only its own agency's dispatches, in lists, details and writes."""

from typing import Any

import pytest

from siaga.incidents import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_incidents(actors: Any) -> dict[str, Any]:
    op = actors["operator"].principal
    fire, _ = actions.do_create_incident(op, category="kebakaran")
    crime, _ = actions.do_create_incident(op, category="kriminalitas")
    fire_damkar, _ = actions.do_dispatch(op, fire.pk, "damkar")
    fire_police, _ = actions.do_dispatch(op, fire.pk, "polres")
    crime_police, _ = actions.do_dispatch(op, crime.pk, "polres")
    return {"fire": fire, "crime": crime, "fire_damkar": fire_damkar, "fire_police": fire_police,
            "crime_police": crime_police}


def test_lists_show_only_own_work(client: Any, actors: Any, two_incidents: Any) -> None:
    damkar = actors["agency"]
    dispatches = client.get("/api/v1/dispatches", **damkar.headers()).json()
    assert {d["id"] for d in dispatches} == {two_incidents["fire_damkar"].pk}
    incidents = client.get("/api/v1/incidents", **damkar.headers()).json()
    assert {i["id"] for i in incidents} == {two_incidents["fire"].pk}
    assert client.get("/api/v1/dispatches?agency=polres", **damkar.headers()).status_code == 403


def test_other_agencies_work_is_403(client: Any, actors: Any, two_incidents: Any) -> None:
    damkar = actors["agency"]
    assert client.get(f"/api/v1/dispatches/{two_incidents['fire_police'].pk}", **damkar.headers()).status_code == 403
    assert client.get(f"/api/v1/incidents/{two_incidents['crime'].pk}", **damkar.headers()).status_code == 403
    response = client.post(f"/api/v1/dispatches/{two_incidents['crime_police'].pk}/status",
                           data={"status": "acknowledged"}, content_type="application/json", **damkar.headers())
    assert response.status_code == 403
    two_incidents["crime_police"].refresh_from_db()
    assert two_incidents["crime_police"].status == "requested"


def test_shared_incident_shows_only_own_dispatch(client: Any, actors: Any, two_incidents: Any) -> None:
    body = client.get(f"/api/v1/incidents/{two_incidents['fire'].pk}", **actors["agency"].headers()).json()
    assert [d["agency"] for d in body["dispatches"]] == ["damkar"]
    full = client.get(f"/api/v1/incidents/{two_incidents['fire'].pk}", **actors["supervisor"].headers()).json()
    assert sorted(d["agency"] for d in full["dispatches"]) == ["damkar", "polres"]


def test_agency_acknowledges_its_own(client: Any, actors: Any, two_incidents: Any) -> None:
    response = client.post(f"/api/v1/dispatches/{two_incidents['fire_damkar'].pk}/status",
                           data={"status": "acknowledged"}, content_type="application/json",
                           **actors["agency"].headers())
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
