"""USGS earthquake GeoJSON summary feeds, an optional second source.

``https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/<level>_<period>.geojson``: a
``FeatureCollection`` whose features have ``id``, ``properties`` (``mag``, ``place``, ``time`` and
``updated`` in Unix milliseconds, ``tsunami``, ``url``) and a ``Point`` geometry ``[lon, lat, depth_km]``.

USGS's ``tsunami`` flag only says the quake was large and at sea; it is not a tsunami forecast, so it is
kept as a note and never counts as tsunami potential. Only BMKG decides that for Indonesia.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from siaga.formats.errors import FormatError
from siaga.formats.quake import Quake


class UsgsError(FormatError):
    """A USGS feed that cannot be used, with the field that is wrong."""


def parse(data: bytes | str) -> list[Quake]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise UsgsError(f"USGS: not valid JSON ({exc})", "document") from None
    if not isinstance(document, dict):
        raise UsgsError("USGS: the document must be an object", "document")
    if document.get("type") == "Feature":
        return [feature_to_quake(document, 0)]
    if document.get("type") != "FeatureCollection" or not isinstance(document.get("features"), list):
        raise UsgsError("USGS: the document is not a GeoJSON FeatureCollection", "type")
    return [feature_to_quake(feature, index) for index, feature in enumerate(document["features"])]


def _finite(value: Any, name: str, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsgsError(f"{what}: {name} must be a number, not {value!r}", name)
    number = float(value)
    if math.isnan(number) or not low <= number <= high:
        raise UsgsError(f"{what}: {name}={value!r} is outside {low:g}..{high:g}", name)
    return number


def feature_to_quake(feature: Any, index: int) -> Quake:
    what = f"USGS features[{index}]"
    if not isinstance(feature, dict):
        raise UsgsError(f"{what}: must be an object", "features")
    properties = feature.get("properties")
    geometry = feature.get("geometry")
    if not isinstance(properties, dict):
        raise UsgsError(f"{what}: properties is missing", "properties")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise UsgsError(f"{what}: geometry must be a Point", "geometry")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise UsgsError(f"{what}: geometry.coordinates must be [lon, lat, depth]", "geometry.coordinates")
    lon = _finite(coordinates[0], "geometry.coordinates[0]", what, -180, 180)
    lat = _finite(coordinates[1], "geometry.coordinates[1]", what, -90, 90)
    depth = _finite(coordinates[2], "geometry.coordinates[2]", what, -10, 1000) if len(coordinates) > 2 \
        and coordinates[2] is not None else None
    magnitude = _finite(properties.get("mag"), "properties.mag", what, -2, 10)
    millis = _finite(properties.get("time"), "properties.time", what, 0, 32503680000000)
    identifier = feature.get("id")
    if not isinstance(identifier, str) or not identifier:
        raise UsgsError(f"{what}: id is missing", "id")
    notes = ("USGS tsunami flag set (large quake at sea; not a tsunami forecast)",) \
        if properties.get("tsunami") == 1 else ()
    place = properties.get("place")
    return Quake(
        source="usgs", event_id=f"usgs-{identifier}", time_utc=datetime.fromtimestamp(millis / 1000, UTC),
        magnitude=magnitude, depth_km=max(depth, 0.0) if depth is not None else None, lat=lat, lon=lon,
        region=place if isinstance(place, str) else "", notes=notes,
    )
