"""Write the mission file for a course: the course's map positions turned into latitude/longitude.

Legs, in this order: one ``gnss`` leg per course waypoint (exact position), one ``post`` leg per post
that is not part of a gate, one ``gate`` leg per gate (at the gate centre), one ``object`` leg per
ground object. Competition coordinates for posts, gates and objects are approximate: with
``approximate_error`` > 0 each of those targets is moved that many metres in a seeded random
direction. The result is YAML text for config/missions/ (see docs/missions.md); edit the defaults
and the order by hand if the course needs it.
"""
from __future__ import annotations

import math

import numpy as np

from rover_stack.sim.course import Course

LAT_LON_DIGITS = 7   # 1e-7 deg is about 1 cm


def _legs(course: Course) -> list[dict]:
    legs = [dict(kind='gnss', name=w.name, x=w.x, y=w.y) for w in course.waypoints]
    in_gates = {tag for gate in course.gates for tag in (gate.left_tag, gate.right_tag)}
    legs += [dict(kind='post', name=f'post{p.tag_id}', tag_id=p.tag_id, x=p.x, y=p.y)
             for p in course.posts if p.tag_id not in in_gates]
    for gate in course.gates:
        x, y = course.gate_centre(gate)
        legs.append(dict(kind='gate', name=f'gate{gate.left_tag}_{gate.right_tag}', left_tag=gate.left_tag,
                         right_tag=gate.right_tag, x=x, y=y))
    kinds = [o.kind for o in course.objects]
    for index, obj in enumerate(course.objects):
        name = obj.kind if kinds.count(obj.kind) == 1 else f'{obj.kind}{kinds[:index + 1].count(obj.kind)}'
        legs.append(dict(kind='object', name=name, object=obj.kind, x=obj.x, y=obj.y))
    return legs


def mission_yaml_for_course(course: Course, approximate_error: float = 0.0, seed: int = 0) -> str:
    """Mission YAML text for ``course``; approximate_error in m (posts, gates, objects only)."""
    if not math.isfinite(approximate_error) or approximate_error < 0.0:
        raise ValueError(f'approximate_error must be >= 0 m, got {approximate_error}')
    plane = course.datum.plane()
    rng = np.random.default_rng(seed)
    datum = course.datum
    lines = [f'# Mission of course {course.name}: map positions converted with rover_stack.geo '
             '(ENU at the datum).',
             f'name: {course.name}',
             f'datum: {{latitude: {datum.latitude}, longitude: {datum.longitude}, '
             f'altitude: {datum.altitude}}}',
             'legs:']
    for leg in _legs(course):
        x, y = leg.pop('x'), leg.pop('y')
        if leg['kind'] != 'gnss' and approximate_error > 0.0:
            heading = rng.uniform(0.0, 2.0 * math.pi)
            x, y = x + approximate_error * math.cos(heading), y + approximate_error * math.sin(heading)
        latitude, longitude, _alt = plane.to_geodetic(x, y, 0.0)
        lines.append(f'  - kind: {leg.pop("kind")}')
        lines += [f'    {key}: {value}' for key, value in leg.items()]
        lines.append(f'    latitude: {latitude:.{LAT_LON_DIGITS}f}')
        lines.append(f'    longitude: {longitude:.{LAT_LON_DIGITS}f}')
    return '\n'.join(lines) + '\n'
