"""Geodetic <-> local ENU around a datum: exactness against an independent WGS84 formula, round trips,
vectorisation and input validation."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rover_stack.geo import Datum, LocalTangentPlane

A = 6378137.0                    # m, WGS84 semi-major axis
F = 1 / 298.257223563            # WGS84 flattening
E2 = F * (2 - F)


def ecef(lat, lon, alt):
    """Independent textbook geodetic -> ECEF (WGS84)."""
    phi, lam = math.radians(lat), math.radians(lon)
    n = A / math.sqrt(1 - E2 * math.sin(phi) ** 2)
    return np.array([(n + alt) * math.cos(phi) * math.cos(lam), (n + alt) * math.cos(phi) * math.sin(lam),
                     (n * (1 - E2) + alt) * math.sin(phi)])


def reference_enu(lat0, lon0, alt0, lat, lon, alt):
    d = ecef(lat, lon, alt) - ecef(lat0, lon0, alt0)
    phi, lam = math.radians(lat0), math.radians(lon0)
    east = -math.sin(lam) * d[0] + math.cos(lam) * d[1]
    north = -math.sin(phi) * math.cos(lam) * d[0] - math.sin(phi) * math.sin(lam) * d[1] + math.cos(phi) * d[2]
    up = math.cos(phi) * math.cos(lam) * d[0] + math.cos(phi) * math.sin(lam) * d[1] + math.sin(phi) * d[2]
    return east, north, up


@pytest.mark.parametrize(('datum', 'point'), [
    ((38.4064, -110.7919, 1340.0), (38.4100, -110.7800, 1350.0)),
    ((50.0, 10.0, 0.0), (49.99, 10.02, -20.0)),
    ((-33.9, 151.2, 40.0), (-33.91, 151.19, 45.0)),
    ((0.0, 179.99, 0.0), (0.001, -179.999, 3.0)),     # across the antimeridian
])
def test_to_enu_matches_an_independent_wgs84_formula(datum, point):
    plane = LocalTangentPlane(*datum)
    assert plane.to_enu(*point) == pytest.approx(reference_enu(*datum, *point), abs=1e-4)


def test_datum_maps_to_origin_and_alt_none_means_datum_altitude():
    plane = LocalTangentPlane(38.4, -110.8, 1300.0)
    assert plane.to_enu(38.4, -110.8) == pytest.approx((0.0, 0.0, 0.0), abs=1e-6)
    assert plane.to_enu(38.4, -110.8, 1310.0) == pytest.approx((0.0, 0.0, 10.0), abs=1e-6)


def test_small_latitude_step_is_about_1_1_m_north():
    plane = LocalTangentPlane(38.4, -110.8)
    east, north, _ = plane.to_enu(38.4 + 1e-5, -110.8)
    assert abs(east) < 1e-6
    assert north == pytest.approx(1.11, abs=0.01)


def test_1000_m_east_at_50_deg_matches_the_radius_of_curvature():
    lat0 = 50.0
    plane = LocalTangentPlane(lat0, 0.0)
    lat, lon, alt = plane.to_geodetic(1000.0, 0.0, 0.0)
    # Prime-vertical radius of curvature: a parallel of latitude has radius N cos(lat).
    n = A / math.sqrt(1 - E2 * math.sin(math.radians(lat0)) ** 2)
    expected_lon = math.degrees(1000.0 / (n * math.cos(math.radians(lat0))))
    assert lon * n * math.cos(math.radians(lat0)) * math.pi / 180 == pytest.approx(1000.0, abs=0.01)
    assert lon == pytest.approx(expected_lon, rel=1e-6)
    # A sphere of the mean radius is within 0.5 % (5 m) but not exact: the ellipsoid matters.
    spherical = math.degrees(1000.0 / (6371008.8 * math.cos(math.radians(lat0))))
    assert abs(lon - spherical) * 6371008.8 * math.cos(math.radians(lat0)) * math.pi / 180 < 5.0
    # The tangent plane rises above the curved surface: the point is ~8 cm up and a hair south.
    assert alt == pytest.approx(1000.0 ** 2 / (2 * n), abs=0.01)
    assert lat < lat0


def test_round_trip_within_a_millimetre_over_2_km():
    rng = np.random.default_rng(5)
    plane = LocalTangentPlane(38.4064, -110.7919, 1340.0)
    east = rng.uniform(-2000, 2000, 200)
    north = rng.uniform(-2000, 2000, 200)
    up = rng.uniform(-50, 50, 200)
    lat, lon, alt = plane.to_geodetic(east, north, up)
    back = plane.to_enu(lat, lon, alt)
    error = np.sqrt((back[0] - east) ** 2 + (back[1] - north) ** 2 + (back[2] - up) ** 2)
    assert error.max() < 1e-3


@settings(max_examples=60, deadline=None, derandomize=True)
@given(lat0=st.floats(-85.0, 85.0), lon0=st.floats(-180.0, 180.0), alt0=st.floats(-400.0, 5000.0),
       east=st.floats(-2000.0, 2000.0), north=st.floats(-2000.0, 2000.0), up=st.floats(-100.0, 100.0))
def test_round_trip_anywhere_on_earth(lat0, lon0, alt0, east, north, up):
    plane = LocalTangentPlane(lat0, lon0, alt0)
    back = plane.to_enu(*plane.to_geodetic(east, north, up))
    assert math.dist(back, (east, north, up)) < 1e-3


def test_vectorised_results_equal_scalar_results():
    plane = LocalTangentPlane(38.4, -110.8)
    lats = np.array([38.40, 38.41, 38.39])
    lons = np.array([-110.80, -110.79, -110.81])
    east, north, up = plane.to_enu(lats, lons)
    assert isinstance(east, np.ndarray) and east.shape == (3,)
    for i in range(3):
        assert plane.to_enu(float(lats[i]), float(lons[i])) == pytest.approx((east[i], north[i], up[i]))
    scalar = plane.to_enu(38.4, -110.8)
    assert all(isinstance(value, float) for value in scalar)


@pytest.mark.parametrize(('lat', 'lon'), [(90.5, 0.0), (-91.0, 0.0), (float('nan'), 0.0), (0.0, 180.5),
                                          (0.0, float('inf')), (0.0, float('nan'))])
def test_invalid_latitude_or_longitude_raises(lat, lon):
    with pytest.raises(ValueError, match=r'latitude|longitude'):
        LocalTangentPlane(lat, lon)
    with pytest.raises(ValueError, match=r'latitude|longitude'):
        LocalTangentPlane(0.0, 0.0).to_enu(lat, lon)


def test_invalid_array_element_and_enu_input_raise():
    plane = LocalTangentPlane(0.0, 0.0)
    with pytest.raises(ValueError, match='latitude'):
        plane.to_enu(np.array([0.0, 95.0]), np.array([0.0, 0.0]))
    with pytest.raises(ValueError, match='east'):
        plane.to_geodetic(float('nan'), 0.0)
    with pytest.raises(ValueError, match='altitude'):
        plane.to_enu(0.0, 0.0, float('inf'))


def test_datum_builds_its_plane():
    plane = Datum(38.4, -110.8, 1300.0).plane()
    assert (plane.lat0, plane.lon0, plane.alt0) == (38.4, -110.8, 1300.0)
