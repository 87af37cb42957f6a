"""Datum sources, lat/lon <-> map round trips, and GNSS fix checks."""
import math
from pathlib import Path

import numpy as np
import pytest

from rover_stack.localization.datum import (
    COVARIANCE_TYPE_UNKNOWN,
    DatumError,
    DatumKeeper,
    datum_from_file,
    fix_covariance,
    fix_problem,
    landmarks_from_file,
    landmarks_from_list,
    make_datum,
)

MDRS = (38.406, -110.792, 1400.0)     # Mars Desert Research Station, Utah


def test_round_trip_lat_lon_map():
    keeper = DatumKeeper(make_datum(*MDRS))
    for x, y, z in [(0.0, 0.0, 0.0), (100.0, -250.0, 3.0), (-1234.5, 987.6, -20.0)]:
        lat, lon, alt = keeper.to_ll(x, y, z)
        assert keeper.to_map(lat, lon, alt) == pytest.approx((x, y, z), abs=1e-6)


def test_map_axes_are_east_and_north():
    keeper = DatumKeeper(make_datum(*MDRS))
    x, y, _ = keeper.to_map(MDRS[0] + 0.001, MDRS[1])       # a little north
    assert abs(x) < 1e-6 and y == pytest.approx(111.0, rel=0.01)
    x, y, _ = keeper.to_map(MDRS[0], MDRS[1] + 0.001)       # a little east
    assert x == pytest.approx(111.3 * math.cos(math.radians(MDRS[0])), rel=0.01) and abs(y) < 0.01


def test_nan_altitude_means_the_datum_plane():
    keeper = DatumKeeper(make_datum(*MDRS))
    assert keeper.to_map(MDRS[0], MDRS[1], math.nan)[2] == pytest.approx(0.0, abs=1e-6)


def test_no_datum_and_bad_input_raise():
    keeper = DatumKeeper()
    with pytest.raises(ValueError, match='no datum'):
        keeper.to_map(0.0, 0.0)
    with pytest.raises(ValueError, match='no datum'):
        keeper.to_ll(0.0, 0.0)
    keeper.set_from_fix(10.0, 20.0, math.nan)
    assert keeper.datum.altitude == 0.0
    with pytest.raises(ValueError):
        keeper.to_map(95.0, 0.0)
    with pytest.raises(DatumError):
        make_datum(math.nan, 0.0)


def test_datum_and_markers_from_a_course_file(tmp_path):
    course = tmp_path / 'course.yaml'
    course.write_text(
        'course:\n'
        f'  datum: {{latitude: {MDRS[0]}, longitude: {MDRS[1]}, altitude: {MDRS[2]}}}\n'
        '  markers:\n'
        '    - {id: 3, x: 10.0, y: -5.0}\n'
        f'    - {{id: 7, latitude: {MDRS[0] + 0.0001}, longitude: {MDRS[1]}}}\n')
    datum = datum_from_file(course)
    assert (datum.latitude, datum.longitude, datum.altitude) == MDRS
    markers = landmarks_from_file(course, datum.plane())
    assert markers[3] == (10.0, -5.0)
    assert markers[7][1] == pytest.approx(11.1, abs=0.1) and abs(markers[7][0]) < 1e-3
    with pytest.raises(DatumError, match='no datum'):
        landmarks_from_file(course, None)


def test_a_simulator_course_file_gives_datum_and_posts():
    course = Path(__file__).resolve().parents[2] / 'sim' / 'courses' / 'urc_demo.yaml'
    if not course.exists():
        pytest.skip('sim/courses/urc_demo.yaml is not in this checkout')
    datum = datum_from_file(course)
    assert -90.0 <= datum.latitude <= 90.0
    posts = landmarks_from_file(course, datum.plane())
    assert len(posts) >= 1 and all(isinstance(k, int) for k in posts)


def test_bad_course_files(tmp_path):
    missing = tmp_path / 'nope.yaml'
    with pytest.raises(DatumError, match='cannot read'):
        datum_from_file(missing)
    no_datum = tmp_path / 'x.yaml'
    no_datum.write_text('mission: {name: test}\n')
    with pytest.raises(DatumError, match='datum'):
        datum_from_file(no_datum)
    bad = tmp_path / 'bad.yaml'
    bad.write_text('datum: {latitude: 100.0, longitude: 0.0}\n')
    with pytest.raises(DatumError, match='latitude'):
        datum_from_file(bad)


def test_markers_from_a_flat_list():
    assert landmarks_from_list([1.0, 2.0, 3.0, 4.0, -5.0, 6.0]) == {1: (2.0, 3.0), 4: (-5.0, 6.0)}
    assert landmarks_from_list([]) == {}
    with pytest.raises(DatumError):
        landmarks_from_list([1.0, 2.0])
    with pytest.raises(DatumError):
        landmarks_from_list([1.5, 2.0, 3.0])


def test_fix_problems():
    assert fix_problem(-1, 10.0, 10.0) == 'no_fix'
    assert fix_problem(0, math.nan, 10.0) == 'nan'
    assert fix_problem(0, 10.0, 200.0) == 'out_of_range'
    assert fix_problem(2, 10.0, 10.0) is None


def test_fix_covariance_honoured_defaulted_or_refused():
    cov, reason = fix_covariance([0.0] * 9, COVARIANCE_TYPE_UNKNOWN, 6.25, 1e-4, 1e4)
    assert reason is None and np.array_equal(cov, np.eye(2) * 6.25)
    known = [0.04, 0.01, 0.0, 0.01, 0.09, 0.0, 0.0, 0.0, 0.5]
    cov, reason = fix_covariance(known, 3, 6.25, 1e-4, 1e4)
    assert reason is None and np.allclose(cov, [[0.04, 0.01], [0.01, 0.09]])
    cov, _ = fix_covariance([1e-8, 0, 0, 0, 1e-8, 0, 0, 0, 1], 2, 6.25, 1e-4, 1e4)
    assert np.allclose(np.diag(cov), 1e-4)             # floored
    assert fix_covariance([math.nan] * 9, 2, 6.25, 1e-4, 1e4) == (None, 'bad_covariance')
    assert fix_covariance([0.0] * 9, 2, 6.25, 1e-4, 1e4) == (None, 'bad_covariance')
    assert fix_covariance([1e5, 0, 0, 0, 1e5, 0, 0, 0, 1], 2, 6.25, 1e-4, 1e4) == (None, 'poor_fix')
