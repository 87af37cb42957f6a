"""FollowGPSWaypoints input as a GNSS-only mission (autonomy/gps_waypoints.py)."""
import math

import pytest

from rover_stack.autonomy.gps_waypoints import MAX_LEGS, gnss_mission, missed_waypoints, waypoint_index
from rover_stack.autonomy.mission import load_mission

DATUM = (38.4064, -110.7919, 1340.0)
POINTS = [(38.4060, -110.7925, 1341.0), (38.4065, -110.7915, math.nan)]


def test_waypoints_become_gnss_legs_around_the_localization_datum():
    mission, text = gnss_mission(POINTS, DATUM, loops=1, tolerance=2.5)
    again = load_mission(text)                    # the text the executive receives parses the same
    assert [(leg.kind, leg.latitude, leg.longitude) for leg in again.legs] == \
        [('gnss', lat, lon) for _ in range(2) for lat, lon, _ in POINTS]
    assert (mission.datum.latitude, mission.datum.longitude, mission.datum.altitude) == DATUM
    assert all(leg.tolerance == 2.5 for leg in mission.legs)
    assert len({leg.name for leg in mission.legs}) == 4


def test_without_a_datum_the_first_waypoint_is_the_origin():
    mission, _ = gnss_mission(POINTS[1:], None)
    assert (mission.datum.latitude, mission.datum.altitude) == (38.4065, 0.0)   # NaN altitude -> 0
    assert mission.to_local()[0] == pytest.approx((0.0, 0.0), abs=1e-6)


@pytest.mark.parametrize(('points', 'loops', 'match'), [
    ([], 0, 'empty'),
    ([(math.nan, 1.0, 0.0)], 0, 'non-finite'),
    ([(38.0, math.inf, 0.0)], 0, 'non-finite'),
    ([(91.0, 0.0, 0.0)], 0, 'latitude'),
    ([(38.9, -110.7919, 0.0)], 0, 'km from the datum'),     # 55 km: a typo
    (POINTS, MAX_LEGS, 'more than'),
])
def test_bad_waypoints_are_refused(points, loops, match):
    with pytest.raises(ValueError, match=match):   # MissionError is one
        gnss_mission(points, DATUM, loops=loops)


def test_missed_waypoints_name_the_waypoint_and_its_map_position():
    mission, _ = gnss_mission(POINTS, DATUM, loops=1)
    missed = missed_waypoints([(0, True), (1, True), (2, False), (3, True)], mission, len(POINTS))
    (index, x, y), = missed
    assert index == waypoint_index(2, 2) == 0
    assert (x, y) == pytest.approx(mission.to_local()[2])
