"""Nav2's FollowGPSWaypoints input (a list of geographic_msgs/GeoPose) as a GNSS-only mission: the pure
parts of the ``gps_waypoint_follower`` adapter (gps_waypoint_follower_node.py). No ROS here.

Each waypoint becomes a ``gnss`` leg (its orientation is not used: a GNSS leg has no heading); the list is
driven ``number_of_loops + 1`` times, as Nav2's waypoint follower does. The mission's datum is the
localization datum when known (the map frame the executive uses), else the first waypoint.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import yaml

from rover_stack.autonomy.mission import Mission, mission_from_text
from rover_stack.geo.enu import LocalTangentPlane

MAX_LEGS = 500          # waypoints x (loops + 1): a longer list is a mistake, not a URC mission
MISSION_NAME = 'follow_gps_waypoints'

GeoPoint = tuple[float, float, float]     # latitude deg, longitude deg, altitude m (NaN: unknown)


def gnss_mission(points: Sequence[GeoPoint], datum: GeoPoint | None, loops: int = 0,
                 tolerance: float = 3.0) -> tuple[Mission, str]:
    """The mission (validated) and its YAML text; ValueError (or MissionError, one) says what is wrong."""
    if not points:
        raise ValueError('follow_gps_waypoints: gps_poses is empty')
    if loops < 0 or len(points) * (loops + 1) > MAX_LEGS:
        raise ValueError(f'follow_gps_waypoints: {len(points)} waypoints x {loops + 1} loops is more than '
                           f'{MAX_LEGS} legs')
    for index, (lat, lon, _alt) in enumerate(points):
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValueError(f'follow_gps_waypoints: gps_poses[{index}] has a non-finite latitude/longitude')
    origin = datum if datum is not None else points[0]
    alt0 = origin[2] if math.isfinite(origin[2]) else 0.0
    legs = [{'kind': 'gnss', 'name': f'wp{index}_loop{loop}' if loops else f'wp{index}',
             'latitude': float(lat), 'longitude': float(lon)}
            for loop in range(loops + 1) for index, (lat, lon, _alt) in enumerate(points)]
    text = yaml.safe_dump({
        'name': MISSION_NAME,
        'datum': {'latitude': float(origin[0]), 'longitude': float(origin[1]), 'altitude': float(alt0)},
        'defaults': {'tolerance': float(tolerance)},
        'legs': legs}, sort_keys=False)
    return mission_from_text(text), text


def waypoint_index(leg_index: int, count: int) -> int:
    """The waypoint (index into gps_poses) that leg ``leg_index`` drives to."""
    return leg_index % count


def missed_waypoints(outcomes: Sequence[tuple[int, bool]], mission: Mission, count: int,
                     plane: LocalTangentPlane | None = None) -> list[tuple[int, float, float]]:
    """(waypoint index, map x m, map y m) of every leg that did not succeed; ``outcomes`` are
    (leg_index, succeeded) pairs; map positions through ``plane`` (default: the mission's datum)."""
    plane = plane or mission.plane()
    missed = []
    for leg_index, succeeded in outcomes:
        if succeeded or not 0 <= leg_index < len(mission.legs):
            continue
        leg = mission.legs[leg_index]
        east, north, _ = plane.to_enu(leg.latitude, leg.longitude)
        missed.append((waypoint_index(leg_index, count), float(east), float(north)))
    return missed
