"""The URC-style sprint course (sim/courses/urc_sprint.yaml: two GNSS waypoints, a post, a gate, the
mallet) with the whole stack, for three seeds: every leg must be reached within its tolerance by
ground truth (the gate: driven through between its posts), without touching a rock.

The full-length urc_demo course over many seeds is a benchmark (bench/mission_success.py), not a test."""
from __future__ import annotations

import pytest

from rover_stack.testing.sim_stack import run_rover_sim


@pytest.mark.timeout(900)
@pytest.mark.parametrize('seed', [1, 2, 3])
def test_urc_sprint_completes_every_leg(tmp_path, seed):
    code, report, log = run_rover_sim('urc_sprint', seed, tmp_path / 'run', timeout=800.0)
    assert code == 0, log
    assert [leg['kind'] for leg in report['legs']] == ['gnss', 'gnss', 'post', 'gate', 'object']
    for leg in report['legs']:
        assert leg['outcome'] == 'SUCCEEDED' and leg['reached'], (leg, log)
        assert leg['final_error_m'] <= leg['tolerance_m'], (leg, log)
    assert report['collisions'] == 0, report['collision_events']
