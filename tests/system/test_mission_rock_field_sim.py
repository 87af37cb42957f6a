"""The rock_field course with the whole stack (`rover sim`): two GNSS waypoints with a dense field of
rocks between them (sim/courses/rock_field.yaml). The rover must reach both within tolerance with zero
collisions, judged by ground truth against the rock positions (the simulator's contact events); the
obstacles come from the lidar through obstacle_grid and the pose from the EKF, as on the rover."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.timeout(600)
def test_rock_field_mission_has_no_collisions(tmp_path):
    out = tmp_path / 'run'
    process = subprocess.run(
        [sys.executable, '-m', 'rover_stack.cli.rover', 'sim', '--course', 'rock_field', '--seed', '1',
         '--out', str(out), '--timeout', '500', '--no-web'],
        capture_output=True, text=True, timeout=560, check=False)
    stack_log = out / 'stack.log'
    warnings = [line for line in (stack_log.read_text().splitlines() if stack_log.exists() else [])
                if '[WARN]' in line or '[ERROR]' in line]
    log = process.stdout[-2500:] + process.stderr[-1000:] + '\nstack.log:\n' + '\n'.join(warnings[-30:])
    report = json.loads((out / 'report.json').read_text())
    assert process.returncode == 0, log
    assert [leg['kind'] for leg in report['legs']] == ['gnss', 'gnss']
    for leg in report['legs']:
        assert leg['reached'] and leg['final_error_m'] <= leg['tolerance_m'], (leg, log)
    assert report['collisions'] == 0, report['collision_events']
    assert report['path_length_m'] > 55.0            # it drove through, from x -45 to x 30
