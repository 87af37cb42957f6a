"""Gate geometry: midpoint, width, normal with the left marker on the left."""
import math

import numpy as np
import pytest

from rover_stack.perception.gates import find_gates, gate_from_positions, parse_pairs


@pytest.mark.parametrize('heading', [0.0, 0.7, math.pi / 2, 2.5, -1.2, math.pi])
@pytest.mark.parametrize('width', [1.5, 3.0])
def test_gate_normal_midpoint_and_width(heading, width):
    centre = np.array([4.0, -1.0, 0.3])
    normal = np.array([math.cos(heading), math.sin(heading), 0.0])
    left_dir = np.array([-math.sin(heading), math.cos(heading), 0.0])    # normal turned +90 deg
    left = centre + left_dir * width / 2 + [0, 0, 0.1]
    right = centre - left_dir * width / 2 - [0, 0, 0.1]
    gate = gate_from_positions(1, 2, left, right)
    assert np.allclose(gate.midpoint, centre)
    assert gate.width == pytest.approx(width)
    assert math.cos(gate.yaw - heading) == pytest.approx(1.0)
    qx, qy, qz, qw = gate.quaternion
    assert (qx, qy) == (0.0, 0.0) and qz ** 2 + qw ** 2 == pytest.approx(1.0)
    # driving along the normal, the left marker is on the left (positive cross product z)
    assert np.cross(normal, left - centre)[2] > 0


def test_gate_ahead_of_the_rover_points_away_from_it():
    """Left marker at +y, right at -y, 5 m ahead: normal along +x (pass through driving forward)."""
    gate = gate_from_positions(3, 4, [5.0, 1.0, 0.0], [5.0, -1.0, 0.0])
    assert gate.yaw == pytest.approx(0.0) and np.allclose(gate.midpoint, [5.0, 0.0, 0.0])


def test_coincident_markers_make_no_gate():
    with pytest.raises(ValueError, match='same place'):
        gate_from_positions(1, 2, [1.0, 1.0, 0.0], [1.0, 1.0, 0.5])


def test_pairs_parsing():
    assert parse_pairs([3, 4, 5, 6]) == [(3, 4), (5, 6)]
    assert parse_pairs([]) == []
    for bad in ([1, 2, 3], [1, 1], [-1, 2]):
        with pytest.raises(ValueError):
            parse_pairs(bad)


def test_find_gates_needs_both_markers_and_a_plausible_width():
    positions = {3: np.array([5.0, 1.0, 0.0]), 4: np.array([5.0, -1.0, 0.0]), 7: np.array([5.0, 30.0, 0.0])}
    gates = find_gates([(3, 4), (5, 6), (4, 7)], positions, min_width=0.5, max_width=6.0)
    assert [(g.left_id, g.right_id) for g in gates] == [(3, 4)]
