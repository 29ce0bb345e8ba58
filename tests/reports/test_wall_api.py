"""The wall's data: presence, warnings (through the provider interface the alerts app will use), evacuation."""

from typing import Any

import pytest

from siaga.core import warnings
from siaga.core.models import EvacuationRoute, EvacuationSite

pytestmark = pytest.mark.django_db


def test_presence_lists_recent_users(client: Any, actors: Any) -> None:
    client.force_login(actors["operator"].user)
    client.get("/")  # any page marks the user present
    response = client.get("/api/v1/presence", **actors["wall"].headers())
    names = {p["username"]: p for p in response.json()}
    assert "t_operator" in names and names["t_operator"]["roles"] == ["operator"]
    client.post("/logout/")
    assert "t_operator" not in {p["username"] for p in client.get("/api/v1/presence",
                                                                   **actors["wall"].headers()).json()}


def test_warnings_come_from_providers(client: Any, actors: Any) -> None:
    assert client.get("/api/v1/warnings/active", **actors["wall"].headers()).json() == []
    remove = warnings.register_provider(lambda: [
        {"id": "w1", "headline": "Gempa M5.1, dirasakan", "level": "ticker", "issued_at": "2026-11-28T06:00:00Z",
         "exercise": False},
        {"id": "w2", "headline": "Peringatan dini tsunami", "level": "fullscreen",
         "issued_at": "2026-11-28T06:05:00Z", "exercise": True},
    ])
    try:
        body = client.get("/api/v1/warnings/active", **actors["agency"].headers()).json()
        assert [w["id"] for w in body] == ["w2", "w1"]  # full-screen first
        evac = client.get("/api/v1/evacuation", **actors["wall"].headers()).json()
        assert evac["fullscreen_warning"] is True
    finally:
        remove()


def test_evacuation_sites_are_names_until_the_city_places_them(client: Any, actors: Any) -> None:
    assert EvacuationSite.objects.count() >= 10 and not EvacuationSite.objects.exclude(lat=None).exists()
    body = client.get("/api/v1/evacuation", **actors["wall"].headers()).json()
    assert body["features"] == [] and any(u["name"] == "SMPN 4 Cilegon" for u in body["unplaced"])
    site = EvacuationSite.objects.get(name="SMPN 4 Cilegon")
    site.lat, site.lon = -6.0001, 106.0401  # as an admin would enter it
    site.save()
    route = EvacuationRoute.objects.get(name="Jl. Raya Anyer")
    route.geometry = {"type": "LineString", "coordinates": [[105.95, -6.05], [105.97, -6.04]]}
    route.full_clean()
    route.save()
    body = client.get("/api/v1/evacuation", **actors["wall"].headers()).json()
    kinds = {f["properties"]["name"]: f["geometry"]["type"] for f in body["features"]}
    assert kinds == {"SMPN 4 Cilegon": "Point", "Jl. Raya Anyer": "LineString"}


def test_bad_route_geometry_is_refused() -> None:
    from django.core.exceptions import ValidationError

    route = EvacuationRoute(name="x", geometry={"type": "LineString", "coordinates": [[106.0, -95.0], [106.1, -6.0]]})
    with pytest.raises(ValidationError, match="lintang"):
        route.full_clean()


def test_regions_geojson(client: Any, actors: Any) -> None:
    body = client.get("/api/v1/regions/geojson?level=kecamatan", **actors["wall"].headers()).json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 8
    assert client.get("/api/v1/regions/geojson?level=desa", **actors["wall"].headers()).status_code == 422
