import math

import pytest

from siaga.geo import bbox_of, centroid_of, check_lat_lon, haversine_km, point_in_polygons, polygons_of

SQUARE_WITH_HOLE = {"type": "Polygon", "coordinates": [
    [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
    [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
]}


def test_point_in_polygon_with_hole() -> None:
    polygons = polygons_of(SQUARE_WITH_HOLE)
    assert point_in_polygons(1, 1, polygons)
    assert not point_in_polygons(5, 5, polygons)  # in the hole
    assert not point_in_polygons(11, 5, polygons)


def test_bbox_and_centroid() -> None:
    polygons = polygons_of({"type": "MultiPolygon", "coordinates": [[[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]]})
    assert bbox_of(polygons).as_list() == [0, 0, 2, 2]
    assert centroid_of(polygons) == pytest.approx((1.0, 1.0))


def test_haversine() -> None:
    # Cilegon (Jombang) to Jakarta (Monas): about 90 km
    assert haversine_km(-6.0171, 106.0556, -6.1754, 106.8272) == pytest.approx(87, abs=4)
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * 6371.0088, rel=1e-6)


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (-90.5, 0), (0, 181), (float("nan"), 0)])
def test_check_lat_lon(lat: float, lon: float) -> None:
    with pytest.raises(ValueError):
        check_lat_lon(lat, lon)


def test_simplify_ring_keeps_a_closed_shape_within_the_limit() -> None:
    import json
    import math
    from pathlib import Path

    from siaga.geo import polygons_of, ring_area_centroid, simplify_ring

    path = Path(__file__).resolve().parents[2] / "src/siaga/core/data/geo/cilegon_kecamatan.geojson"
    features = json.loads(path.read_text())["features"]
    for feature in features:
        for rings in polygons_of(feature["geometry"]):
            outer = rings[0]
            for limit in (4, 20, 100):
                simple = simplify_ring(outer, limit)
                assert 4 <= len(simple) <= limit
                assert simple[0] == simple[-1]
            simple = simplify_ring(outer, 100)
            # the simplified shape still covers its own interior: the centroid of the original is inside
            xs = [p[0] for p in outer]
            ys = [p[1] for p in outer]
            assert math.isclose(min(p[0] for p in simple), min(xs), abs_tol=0.01)
            assert math.isclose(max(p[1] for p in simple), max(ys), abs_tol=0.01)
            # and its area: within 5 % of the original
            original_area = abs(ring_area_centroid(outer)[0])
            assert abs(abs(ring_area_centroid(simple)[0]) - original_area) <= 0.05 * original_area
    square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    assert simplify_ring(square, 100) == [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
