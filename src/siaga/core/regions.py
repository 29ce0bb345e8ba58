"""Which kelurahan and kecamatan a point is in.

The boundaries are loaded once per process into plain tuples; a look-up checks bounding boxes first and
runs ray casting only on the few candidates, so resolving a point costs microseconds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from siaga.geo import BBox, PolygonRings, check_lat_lon, point_in_polygons, polygons_of


@dataclass(frozen=True, slots=True)
class Area:
    id: int
    code: str
    name: str
    bbox: BBox
    polygons: tuple[PolygonRings, ...]


@dataclass(frozen=True, slots=True)
class Resolved:
    """The areas a point falls in; ``kelurahan_id`` is None outside the city."""

    kelurahan_id: int | None
    kecamatan_id: int | None
    kelurahan_name: str | None = None
    kecamatan_name: str | None = None
    postcode: str | None = None


class RegionIndex:
    def __init__(self, kelurahan: list[tuple[Area, int, str, str]]) -> None:
        # (area, kecamatan id, kecamatan name, postcode)
        self.kelurahan = kelurahan

    def resolve(self, lat: float, lon: float) -> Resolved:
        check_lat_lon(lat, lon)
        for area, kec_id, kec_name, postcode in self.kelurahan:
            if area.bbox.contains(lon, lat) and point_in_polygons(lon, lat, area.polygons):
                return Resolved(area.id, kec_id, area.name, kec_name, postcode)
        return Resolved(None, None)


_index: RegionIndex | None = None
_lock = threading.Lock()


def _build() -> RegionIndex:
    from siaga.core.models import Kelurahan

    rows = []
    for kel in Kelurahan.objects.select_related("kecamatan").order_by("code"):
        polygons = tuple(polygons_of(kel.geometry))
        bbox = BBox(*kel.bbox) if len(kel.bbox) == 4 else None
        if bbox is None:
            from siaga.geo import bbox_of

            bbox = bbox_of(polygons)
        rows.append((Area(kel.id, kel.code, kel.name, bbox, polygons), kel.kecamatan_id, kel.kecamatan.name,
                     kel.postcode))
    return RegionIndex(rows)


def index() -> RegionIndex:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _build()
    return _index


def invalidate() -> None:
    """Forget the cached boundaries (after loading reference data or editing a region)."""
    global _index
    with _lock:
        _index = None


def resolve(lat: float, lon: float) -> Resolved:
    return index().resolve(lat, lon)
