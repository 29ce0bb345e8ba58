"""Plane geometry on WGS84 coordinates, enough for a city: point in polygon, distance, bounding boxes.

Pure Python on GeoJSON-shaped data (``[lon, lat]`` pairs). A city has tens of polygons with a few
thousand vertices, so a bounding-box test followed by ray casting answers in microseconds without GDAL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_KM = 6371.0088

Ring = Sequence[Sequence[float]]
PolygonRings = Sequence[Ring]


def check_lat_lon(lat: float, lon: float) -> None:
    """Raise ``ValueError`` naming the coordinate that is outside the world or not a number."""
    if not isinstance(lat, (int, float)) or math.isnan(lat) or not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat!r} is outside -90..90")
    if not isinstance(lon, (int, float)) or math.isnan(lon) or not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon!r} is outside -180..180")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def polygons_of(geometry: dict[str, Any]) -> list[PolygonRings]:
    """The polygons (outer ring first, then holes) of a GeoJSON Polygon or MultiPolygon."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        return [coords]  # type: ignore[list-item]
    if kind == "MultiPolygon":
        return list(coords)  # type: ignore[arg-type]
    raise ValueError(f"geometry type {kind!r} is not Polygon or MultiPolygon")


def _in_ring(lon: float, lat: float, ring: Ring) -> bool:
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_polygons(lon: float, lat: float, polygons: Iterable[PolygonRings]) -> bool:
    """Even-odd rule per polygon: inside the outer ring and outside every hole."""
    for rings in polygons:
        if rings and _in_ring(lon, lat, rings[0]) and not any(_in_ring(lon, lat, hole) for hole in rings[1:]):
            return True
    return False


@dataclass(frozen=True, slots=True)
class BBox:
    """An axis-aligned bounding box in degrees."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    def as_list(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]


def bbox_of(polygons: Iterable[PolygonRings]) -> BBox:
    xs: list[float] = []
    ys: list[float] = []
    for rings in polygons:
        for point in rings[0]:
            xs.append(point[0])
            ys.append(point[1])
    if not xs:
        raise ValueError("geometry has no vertices")
    return BBox(min(xs), min(ys), max(xs), max(ys))


def ring_area_centroid(ring: Ring) -> tuple[float, float, float]:
    """Signed planar area (deg^2) and centroid (lon, lat) of a ring (shoelace formula)."""
    area = cx = cy = 0.0
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i][0], ring[i][1]
        x1, y1 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2.0
    if area == 0:
        xs = [p[0] for p in ring]
        ys = [p[1] for p in ring]
        return 0.0, sum(xs) / max(1, len(xs)), sum(ys) / max(1, len(ys))
    return area, cx / (6 * area), cy / (6 * area)


def centroid_of(polygons: Iterable[PolygonRings]) -> tuple[float, float]:
    """Area-weighted centroid ``(lat, lon)`` of the outer rings."""
    total = sx = sy = 0.0
    for rings in polygons:
        area, cx, cy = ring_area_centroid(rings[0])
        weight = abs(area)
        total += weight
        sx += cx * weight
        sy += cy * weight
    if total == 0:
        raise ValueError("geometry has no area")
    return sy / total, sx / total


def _perpendicular(point: Sequence[float], start: Sequence[float], end: Sequence[float]) -> float:
    """Planar distance (degrees) from ``point`` to the segment ``start``-``end``."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    if dx == 0 and dy == 0:
        return math.hypot(point[0] - start[0], point[1] - start[1])
    t = max(0.0, min(1.0, ((point[0] - start[0]) * dx + (point[1] - start[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(point[0] - (start[0] + t * dx), point[1] - (start[1] + t * dy))


def _douglas_peucker(points: Sequence[Sequence[float]], tolerance: float) -> list[Sequence[float]]:
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, worst_at = 0.0, -1
        for i in range(first + 1, last):
            d = _perpendicular(points[i], points[first], points[last])
            if d > worst:
                worst, worst_at = d, i
        if worst_at > 0 and worst > tolerance:
            keep[worst_at] = True
            stack.append((first, worst_at))
            stack.append((worst_at, last))
    return [p for p, k in zip(points, keep, strict=True) if k]


def simplify_ring(ring: Ring, max_vertices: int) -> list[tuple[float, float]]:
    """A closed ring of at most ``max_vertices`` points (first == last, at least 4) that keeps the shape.

    Douglas-Peucker with a tolerance that doubles until the ring fits. The ring is split at the vertex
    farthest from the first one, so both halves keep their extreme points.
    """
    if max_vertices < 4:
        raise ValueError("a closed ring needs at least 4 vertices")
    points = [(float(p[0]), float(p[1])) for p in ring]
    if len(points) >= 2 and points[0] == points[-1]:
        points = points[:-1]
    if len(points) < 3:
        raise ValueError("a ring needs at least 3 distinct vertices")
    if len(points) + 1 <= max_vertices:
        return [*points, points[0]]
    far = max(range(len(points)), key=lambda i: math.hypot(points[i][0] - points[0][0], points[i][1] - points[0][1]))
    first_half = points[: far + 1]
    second_half = [*points[far:], points[0]]
    tolerance = 1e-6
    while True:
        a = _douglas_peucker(first_half, tolerance)
        b = _douglas_peucker(second_half, tolerance)
        simplified = [*a, *b[1:]]  # ends with points[0]: closed
        if len(simplified) <= max_vertices and len(simplified) >= 4:
            return [(p[0], p[1]) for p in simplified]
        if len(simplified) < 4:  # a degenerate ring: keep a triangle
            third = points[len(points) // 3]
            return [points[0], third, points[far], points[0]]
        tolerance *= 2


def distance_to_polygons_km(lat: float, lon: float, polygons: Sequence[PolygonRings]) -> float:
    """0 inside, else the great-circle distance to the nearest boundary vertex (a close upper bound)."""
    if point_in_polygons(lon, lat, polygons):
        return 0.0
    best = math.inf
    for rings in polygons:
        for ring in rings:
            for point in ring:
                d = haversine_km(lat, lon, point[1], point[0])
                if d < best:
                    best = d
    return best
