"""The rock_field course with the whole stack (`rover sim`): two GNSS waypoints with a dense field of
rocks between them (sim/courses/rock_field.yaml). The rover must reach both within tolerance with zero
collisions, judged by ground truth against the rock positions (the simulator's contact events); the
obstacles come from the lidar through obstacle_grid and the pose from the EKF, as on the rover."""
from __future__ import annotations

import pytest

from rover_stack.testing.sim_stack import run_rover_sim


@pytest.mark.timeout(600)
def test_rock_field_mission_has_no_collisions(tmp_path):
    code, report, log = run_rover_sim('rock_field', 1, tmp_path / 'run', timeout=500.0)
    assert code == 0, log
    assert [leg['kind'] for leg in report['legs']] == ['gnss', 'gnss']
    for leg in report['legs']:
        assert leg['reached'] and leg['final_error_m'] <= leg['tolerance_m'], (leg, log)
    assert report['collisions'] == 0, report['collision_events']
    assert report['path_length_m'] > 55.0            # it drove through, from x -45 to x 30
