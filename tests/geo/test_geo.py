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
